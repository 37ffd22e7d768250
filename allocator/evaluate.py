"""Recompute every objective term from a plan alone, without the solver.

Used for the decomposed method (whose objective is the sum over the whole plan, not over one
model) and by tests: on a solved model the recomputed terms equal the solver's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from allocator.cpsat.variables import Key
from allocator.instance import Instance
from models.config import ObjectiveWeights
from models.inputs import Pattern


def evaluate_terms(
    inst: Instance, weights: ObjectiveWeights, plan: Iterable[Key]
) -> dict[str, int]:
    """The value of each objective term (penalty, rewards negative) for ``plan``."""
    w = weights
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
    shares = [
        100 * allocated[ch.idx] // ch.target
        for ch in inst.children
        if ch.target > 0 and not ch.is_resident
    ]
    if w.worst_child > 0:
        terms["worst_child_share"] = -w.worst_child * min(min(shares, default=100), 100)
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
        for n in mine:
            if w.wish_night > 0:
                wish -= w.wish_night * ch.want_weight.get(n, 0)
            if w.avoid_night > 0:
                wish += w.avoid_night * ch.avoid_weight.get(n, 0)
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
    if any(ch.want_weight or ch.avoid_weight for ch in inst.children):
        terms["wishes"] = wish
    fair = _fair_share_deviation(inst, nights)
    if w.share_deviation_night > 0 and fair is not None:
        terms["fair_share"] = w.share_deviation_night * fair
    if w.moved_night > 0 and any(ch.previous for ch in inst.children):
        moved = sum(
            1 for ch in inst.children for h, n in ch.previous if (ch.idx, h, n) not in plan_set
        )
        terms["moved_nights"] = w.moved_night * moved
    return terms


def _fair_share_deviation(inst: Instance, nights: dict[int, set[int]]) -> int | None:
    """Nights beyond tolerance by which families stray from their fair share (see
    `allocator.cpsat.objective.fair_share`); None when the term has nothing to measure."""
    from allocator.demand import share_group

    families = [c for c in inst.children if not c.is_resident and c.granted > 0]
    total_dev = 0
    measured = False
    for kind, kind_nights in inst.demand.items():
        groups: dict[str, list] = {}
        for child in families:
            groups.setdefault(share_group(str(child.pattern), kind), []).append(child)
        for members in groups.values():
            # Only nights the model has a variable for can count (a night with a place).
            usable = {c.idx: set(kind_nights) & set(c.available) for c in members}
            if not any(_has_place(inst, c, usable[c.idx]) for c in members):
                continue
            measured = True
            got = {c.idx: len(nights[c.idx] & kind_nights) for c in members}
            total = sum(got.values())
            total_granted = sum(c.granted for c in members)
            scale = 10 * total_granted
            for c in members:
                balance = round(10 * c.balance.get(kind, 0.0)) * total_granted
                gap = scale * got[c.idx] - 10 * c.granted * total + balance
                excess = abs(gap) - scale * inst.share_tolerance
                if excess > 0:
                    total_dev += -(-excess // scale)
    return total_dev if measured else None


def _has_place(inst: Instance, child: object, nights: set[int]) -> bool:
    from allocator.instance import ChildData

    assert isinstance(child, ChildData)
    return any(
        inst.houses[h].nightly_capacity[n] > 0 and (h, n) not in child.blocked
        for h in child.candidates
        for n in nights
    )
