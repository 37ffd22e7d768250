"""Recompute every objective term from a plan alone, without the solver.

Used for the decomposed method (whose objective is the sum over the whole plan, not over one
model) and by tests: on a solved model the recomputed terms equal the solver's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from allocator.cpsat.variables import Key
from allocator.instance import (
    ChildData,
    ChildIdx,
    HouseIdx,
    Instance,
    NightIdx,
    ShareRow,
    place_open,
    share_rows,
)
from models.config import ObjectiveWeights
from models.inputs import Pattern


def evaluate_terms(
    inst: Instance,
    weights: ObjectiveWeights,
    plan: Iterable[Key],
    statics: Mapping[ChildIdx, ChildStatic] | None = None,
) -> dict[str, int]:
    """The value of each objective term (penalty, rewards negative) for ``plan``.
    ``statics`` (`child_static` of each child) saves recomputing them on every call."""
    w = weights
    if statics is None:
        statics = {ch.idx: child_static(inst, ch) for ch in inst.children}
    plan_set = set(plan)
    nights: dict[int, set[int]] = defaultdict(set)
    houses: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for c, h, n in plan_set:
        nights[c].add(n)
        houses[c][h] += 1
    terms: dict[str, int] = {}
    allocated = {ch.idx: len(nights[ch.idx]) for ch in inst.children}
    if w.nights > 0:
        terms["nights_given"] = -w.nights * sum(allocated.values())
    if w.worst_child > 0:
        terms["worst_child_share"] = -w.worst_child * inst.worst_share(allocated)
    if w.deep_shortfall > 0:
        deep = 0
        for ch in inst.children:
            floor_nights = math.ceil(ch.target * w.fair_floor_percent / 100)
            if floor_nights > 0 and not ch.is_resident:
                deep += max(0, floor_nights - allocated[ch.idx])
        terms["deep_shortfall"] = w.deep_shortfall * deep
    stays = singles = off = used = away = wish = conditional = 0
    for ch in inst.children:
        mine = nights[ch.idx]
        if not ch.is_resident:
            stays += sum(1 for n in mine if n - 1 not in mine)
            singles += sum(1 for n in mine if n - 1 not in mine and n + 1 not in mine)
            if ch.pattern in (Pattern.WEEKEND, Pattern.WEEKDAYS):
                want_weekend = ch.pattern is Pattern.WEEKEND
                off += sum(
                    1
                    for n in mine
                    if inst.weekend_night[n] != want_weekend and n not in ch.want_weight
                )
        used += len(houses[ch.idx])
        if ch.home_house is not None:
            away += sum(k for h, k in houses[ch.idx].items() if h != ch.home_house)
        conditional += sum(k for h, k in houses[ch.idx].items() if h in ch.conditional)
        if w.wish_night > 0:
            wish -= w.wish_night * sum(k for n, k in ch.want_weight.items() if n in mine)
        if w.avoid_night > 0:
            wish += w.avoid_night * sum(k for n, k in ch.avoid_weight.items() if n in mine)
    optional = {
        "stays": (w.stay, stays),
        "single_nights": (w.single_night, singles),
        "off_pattern_nights": (w.off_pattern_night, off),
        "houses_used": (w.house_used, used),
        "away_from_home": (w.away_from_home_night, away),
        "conditional_placements": (w.conditional_night, conditional),
    }
    for name, (weight, count) in optional.items():
        if weight > 0:
            terms[name] = weight * count
    gaps = _long_gaps(inst, nights, statics)
    if w.long_gap > 0 and gaps is not None:
        terms["long_gaps"] = w.long_gap * gaps
    if any(ch.want_weight or ch.avoid_weight for ch in inst.children):
        terms["wishes"] = wish
    met = _wishes_met(inst, nights, statics)
    if w.wish_met > 0 and met is not None:
        terms["wishes_met"] = -w.wish_met * met
    fair = _fair_share_deviation(inst, nights, statics)
    if w.share_deviation_night > 0 and fair is not None:
        terms["fair_share"] = w.share_deviation_night * fair
    if w.moved_night > 0 and any(ch.previous for ch in inst.children):
        moved = sum(
            1 for ch in inst.children for h, n in ch.previous if (ch.idx, h, n) not in plan_set
        )
        terms["moved_nights"] = w.moved_night * moved
    return terms


@dataclass(frozen=True)
class ChildStatic:
    """What a child's terms need that does not depend on the plan: its rhythm windows with a
    place open, the want-wishes the model can meet, its fair-share rows."""

    windows: tuple[tuple[NightIdx, ...], ...]
    wishes: tuple[tuple[tuple[NightIdx, ...], int], ...]
    rows: tuple[ShareRow, ...]


def child_static(inst: Instance, child: ChildData) -> ChildStatic:
    from allocator.rhythm import rhythm_windows

    return ChildStatic(
        windows=tuple(
            tuple(window)
            for window in rhythm_windows(child)
            if any(place_open(child, inst.houses, n) for n in window)
        ),
        wishes=tuple(
            (wish_nights, weight)
            for wish_nights, weight in child.want_wishes
            if weight > 0 and all(place_open(child, inst.houses, n) for n in wish_nights)
        ),
        rows=tuple(share_rows(inst, child)),
    )


def _long_gaps(
    inst: Instance, nights: dict[int, set[int]], statics: Mapping[ChildIdx, ChildStatic]
) -> int | None:
    """Rhythm windows without a night in respite (see `allocator.cpsat.objective.long_gaps`);
    None when no child has a window the model can fill."""
    breaks = 0
    measured = False
    for child in inst.children:
        for window in statics[child.idx].windows:
            measured = True
            if nights[child.idx].isdisjoint(window):
                breaks += 1
    return breaks if measured else None


def _wishes_met(
    inst: Instance, nights: dict[int, set[int]], statics: Mapping[ChildIdx, ChildStatic]
) -> int | None:
    """Weighted want-wishes met in full, counting only wishes the model can meet (see
    `allocator.cpsat.objective.wishes_met`); None when there is none."""
    total = 0
    measured = False
    for child in inst.children:
        for wish_nights, weight in statics[child.idx].wishes:
            measured = True
            if nights[child.idx].issuperset(wish_nights):
                total += weight
    return total if measured else None


def _fair_share_deviation(
    inst: Instance, nights: dict[int, set[int]], statics: Mapping[ChildIdx, ChildStatic]
) -> int | None:
    """Nights beyond tolerance by which families stray from their fair share (see
    `allocator.cpsat.objective.fair_share`); None when the term has nothing to measure."""
    total_dev = 0
    measured = False
    for child in inst.children:
        mine = nights[child.idx]
        for row in statics[child.idx].rows:
            measured = True
            got = sum(1 for n in row.nights if n in mine)
            total_dev += row.deviation(got, len(mine))
    return total_dev if measured else None


class ChildCosts:
    """Each child's own part of the round's objective: every term but the worst child's
    share (a minimum over all children) is a sum over children, so a change to a few
    children's nights changes the round's objective by the change in their parts (plus the
    worst share's, which the caller takes from the whole plan)."""

    def __init__(self, inst: Instance, weights: ObjectiveWeights) -> None:
        self.inst = inst
        self.weights = weights
        self._alone: dict[ChildIdx, tuple[Instance, dict[ChildIdx, ChildStatic]]] = {}

    def static(self, c: ChildIdx) -> ChildStatic:
        """Child ``c``'s `child_static`, computed once."""
        return self._alone_with_static(c)[1][c]

    def cost(self, c: ChildIdx, nights: Iterable[tuple[HouseIdx, NightIdx]]) -> int:
        """Child ``c``'s part of the objective with these (house, night) bookings."""
        alone, statics = self._alone_with_static(c)
        terms = evaluate_terms(alone, self.weights, [(c, h, n) for h, n in nights], statics)
        terms.pop("worst_child_share", None)
        return sum(terms.values())

    def _alone_with_static(self, c: ChildIdx) -> tuple[Instance, dict[ChildIdx, ChildStatic]]:
        if c not in self._alone:
            child = self.inst.children[c]
            alone = replace(self.inst, children=(child,), incompatible=())
            self._alone[c] = (alone, {c: child_static(self.inst, child)})
        return self._alone[c]
