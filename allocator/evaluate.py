"""Recompute every objective term from a plan alone, without the solver.

Used for the decomposed method (whose objective is the sum over the whole plan, not over one
model) and by tests: on a solved model the recomputed terms equal the solver's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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
    shortfall_floors,
    with_demand_scale,
)
from models.config import ObjectiveWeights
from models.inputs import Pattern


@dataclass
class ChildCounts:
    """One child's contribution to each objective term, unweighted (``wish`` is already the
    weighted sum of its want- and avoid-nights)."""

    nights: int = 0
    deep: int = 0
    stays: int = 0
    singles: int = 0
    off: int = 0
    used: int = 0
    away: int = 0
    conditional: int = 0
    wish: int = 0
    gaps: int = 0
    met: int = 0
    fair: int = 0
    moved: int = 0

    def add(self, other: ChildCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def child_counts(
    inst: Instance,
    weights: ObjectiveWeights,
    child: ChildData,
    mine: set[NightIdx],
    houses: Mapping[HouseIdx, int],
    static: ChildStatic,
    booked: set[tuple[HouseIdx, NightIdx]] | None = None,
) -> ChildCounts:
    """The child's counts with nights ``mine``, ``houses`` its nights per house and
    ``booked`` its (house, night) pairs (needed only when it has previous bookings). Each
    count is the child's part of the model's term of that name in `allocator.cpsat.objective`
    (long gaps, wishes met, fair share, ...), computed from the plan alone."""
    w = weights
    counts = ChildCounts(nights=len(mine))
    if not child.is_resident:
        for floor in static.floors:  # highest first
            if floor <= len(mine):
                break
            counts.deep += floor - len(mine)
        starts = [n for n in mine if n - 1 not in mine]
        counts.stays = len(starts)
        counts.singles = sum(1 for n in starts if n + 1 not in mine)
        counts.off = len(mine & static.off_pattern)
    counts.used = len(houses)
    if child.home_house is not None:
        counts.away = sum(k for h, k in houses.items() if h != child.home_house)
    counts.conditional = sum(k for h, k in houses.items() if h in child.conditional)
    if w.wish_night > 0:
        counts.wish -= w.wish_night * sum(child.want_weight[n] for n in mine & static.wanted)
    if w.avoid_night > 0:
        counts.wish += w.avoid_night * sum(child.avoid_weight[n] for n in mine & static.avoided)
    counts.gaps = sum(map(mine.isdisjoint, static.windows))
    counts.met = sum(weight for nights, weight in static.wishes if mine.issuperset(nights))
    allocated = len(mine)
    counts.fair = sum(
        row.deviation(len(mine & row_nights), allocated)
        for row, row_nights in zip(static.rows, static.row_nights, strict=True)
    )
    if child.previous and booked is not None:
        counts.moved = sum(1 for key in child.previous if key not in booked)
    return counts


def _term_table(weights: ObjectiveWeights) -> dict[str, tuple[int, str, int]]:
    """Every term but the worst child's share: its weight (a term of weight 0 is not in the
    model), the `ChildCounts` field it weighs and that field's sign. ``wishes`` is weighed
    night by night in the counts."""
    w = weights
    return {
        "nights_given": (w.nights, "nights", -1),
        "deep_shortfall": (w.deep_shortfall, "deep", 1),
        "stays": (w.stay, "stays", 1),
        "single_nights": (w.single_night, "singles", 1),
        "off_pattern_nights": (w.off_pattern_night, "off", 1),
        "houses_used": (w.house_used, "used", 1),
        "away_from_home": (w.away_from_home_night, "away", 1),
        "conditional_placements": (w.conditional_night, "conditional", 1),
        "long_gaps": (w.long_gap, "gaps", 1),
        "wishes": (1, "wish", 1),
        "wishes_met": (w.wish_met, "met", -1),
        "fair_share": (w.share_deviation_night, "fair", 1),
        "moved_nights": (w.moved_night, "moved", 1),
    }


def _weighted_terms(weights: ObjectiveWeights, counts: ChildCounts) -> dict[str, tuple[int, int]]:
    """Every term but the worst child's share: its weight and its weighted value."""
    return {
        name: (weight, sign * weight * getattr(counts, field))
        for name, (weight, field, sign) in _term_table(weights).items()
    }


def _present(inst: Instance, statics: list[ChildStatic]) -> dict[str, bool]:
    """Terms the model leaves out when no child can score them."""
    return {
        "long_gaps": any(s.windows for s in statics),
        "wishes": any(ch.want_weight or ch.avoid_weight for ch in inst.children),
        "wishes_met": any(s.wishes for s in statics),
        "fair_share": any(s.rows for s in statics),
        "moved_nights": any(ch.previous for ch in inst.children),
    }


def evaluate_terms(
    inst: Instance,
    weights: ObjectiveWeights,
    plan: Iterable[Key],
    statics: Mapping[ChildIdx, ChildStatic] | None = None,
) -> dict[str, int]:
    """The value of each objective term (penalty, rewards negative) for ``plan``.
    ``statics`` (`child_static` of each child) saves recomputing them on every call."""
    if inst.shares_at_plan_level:
        # The model's shares at the plan's level (it weighs them by the reachable grant
        # where this counts the plan's nights; the same in a plan that gives every grant).
        plan = set(plan)
        inst = with_demand_scale(inst, plan)
        statics = None
    if statics is None:
        statics = {ch.idx: child_static(inst, weights, ch) for ch in inst.children}
    nights: dict[int, set[int]] = defaultdict(set)
    houses: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    booked: dict[int, set[tuple[HouseIdx, NightIdx]]] = defaultdict(set)
    with_previous = {ch.idx for ch in inst.children if ch.previous}
    for c, h, n in set(plan):
        nights[c].add(n)
        houses[c][h] += 1
        if c in with_previous:
            booked[c].add((h, n))
    total = ChildCounts()
    for ch in inst.children:
        c = ch.idx
        total.add(child_counts(inst, weights, ch, nights[c], houses[c], statics[c], booked[c]))
    present = _present(inst, [statics[ch.idx] for ch in inst.children])
    terms = {
        name: value
        for name, (weight, value) in _weighted_terms(weights, total).items()
        if weight > 0 and present.get(name, True)
    }
    if weights.worst_child > 0:
        allocated = {ch.idx: len(nights[ch.idx]) for ch in inst.children}
        terms["worst_child_share"] = -weights.worst_child * inst.worst_share(allocated)
    return terms


@dataclass(frozen=True)
class ChildStatic:
    """What a child's terms need that does not depend on the plan: its rhythm windows with a
    place open, the want-wishes the model can meet, its fair-share rows, its shortfall
    floors; and, as sets, the nights each count looks up (the moves and swaps price thousands
    of candidate plans a second, so each count is one set intersection where it can be)."""

    windows: tuple[frozenset[NightIdx], ...]
    wishes: tuple[tuple[frozenset[NightIdx], int], ...]
    rows: tuple[ShareRow, ...]
    floors: tuple[int, ...]
    row_nights: tuple[frozenset[NightIdx], ...]
    """Each row's nights, in the order of ``rows``."""
    off_pattern: frozenset[NightIdx]
    """Nights off the family's pattern (a weekday for a weekend family, a Friday or Saturday
    for a weekdays family) that it did not wish for: each booked one counts."""
    wanted: frozenset[NightIdx]
    avoided: frozenset[NightIdx]


def _off_pattern_nights(inst: Instance, child: ChildData) -> frozenset[NightIdx]:
    """The nights off the family's pattern it did not wish for (`ChildStatic.off_pattern`)."""
    if child.pattern not in (Pattern.WEEKEND, Pattern.WEEKDAYS):
        return frozenset()
    return frozenset(n for n in range(len(inst.nights)) if inst.off_pattern(child, n))


def child_static(inst: Instance, weights: ObjectiveWeights, child: ChildData) -> ChildStatic:
    from allocator.rhythm import rhythm_windows

    rows = tuple(share_rows(inst, child))
    return ChildStatic(
        windows=tuple(
            frozenset(window)
            for window in rhythm_windows(child)
            if any(place_open(child, inst.houses, n) for n in window)
        ),
        wishes=tuple(
            (frozenset(wish_nights), weight)
            for wish_nights, weight in child.want_wishes
            if weight > 0 and all(place_open(child, inst.houses, n) for n in wish_nights)
        ),
        rows=rows,
        floors=shortfall_floors(child.target, weights),
        row_nights=tuple(frozenset(row.nights) for row in rows),
        off_pattern=_off_pattern_nights(inst, child),
        wanted=frozenset(child.want_weight),
        avoided=frozenset(child.avoid_weight),
    )


#: Children's costs `ChildCosts.cost_by_night` keeps (about 250 bytes each, so at most
#: about 100 MB); it forgets them all when it has this many.
MEMO_ENTRIES = 400_000


class ChildCosts:
    """Each child's own part of the round's objective: every term but the worst child's
    share (a minimum over all children) is a sum over children, so a change to a few
    children's nights changes the round's objective by the change in their parts (plus the
    worst share's, which the caller takes from the whole plan)."""

    def __init__(self, inst: Instance, weights: ObjectiveWeights) -> None:
        if inst.shares_at_plan_level:
            raise ValueError("a child's costs need fair shares at a level set beforehand")
        self.inst = inst
        self.weights = weights
        self._static: dict[ChildIdx, ChildStatic] = {}
        self._memo: dict[tuple[ChildIdx, tuple[tuple[HouseIdx, int], ...]], int] = {}
        self._factors = tuple(
            (field, sign * weight)
            for weight, field, sign in _term_table(weights).values()
            if weight != 0
        )

    def static(self, c: ChildIdx) -> ChildStatic:
        """Child ``c``'s `child_static`, computed once."""
        if c not in self._static:
            self._static[c] = child_static(self.inst, self.weights, self.inst.children[c])
        return self._static[c]

    def cost(self, c: ChildIdx, nights: Iterable[tuple[HouseIdx, NightIdx]]) -> int:
        """Child ``c``'s part of the objective with these (house, night) bookings."""
        return self.cost_by_night(c, {n: h for h, n in nights})

    def cost_by_night(self, c: ChildIdx, nights: Mapping[NightIdx, HouseIdx]) -> int:
        """`cost` with the child's bookings as night → house. The moves and swaps price the
        same candidate nights of a child again and again (a house they share changed, so the
        child is asked again: on a demand-115% round three calls in four were repeats), so
        each child's costs are kept by its nights (a bit per night in each house)."""
        houses = set(nights.values())
        masks: dict[HouseIdx, int] = {}
        if len(houses) == 1:
            masks[houses.pop()] = sum(1 << n for n in nights)
        else:
            for n, h in nights.items():
                masks[h] = masks.get(h, 0) | 1 << n
        key = (c, tuple(sorted(masks.items())))
        cost = self._memo.get(key)
        if cost is None:
            if len(self._memo) >= MEMO_ENTRIES:
                self._memo.clear()
            cost = self._memo[key] = self._cost(c, nights, masks)
        return cost

    def _cost(
        self, c: ChildIdx, nights: Mapping[NightIdx, HouseIdx], masks: dict[HouseIdx, int]
    ) -> int:
        child = self.inst.children[c]
        houses = {h: mask.bit_count() for h, mask in masks.items()}
        booked = {(h, n) for n, h in nights.items()} if child.previous else None
        counts = child_counts(
            self.inst, self.weights, child, set(nights), houses, self.static(c), booked
        )
        return sum(factor * getattr(counts, field) for field, factor in self._factors)
