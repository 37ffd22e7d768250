"""Key figures of a plan, computed from the `RoundInput` and the bookings alone.

These are the numbers a coordinator or analyst reads first (fulfilment, fairness, utilisation,
stay shapes, wishes, gap to the max-flow bound). They are recomputed here, apart from the
optimisation model, so that the model's own report can be compared with them.

Exact duplicate booking rows are counted once. The figures assume a plan that passes
`allocator.check.check_plan`; on a broken plan they are still computed but may be odd (for
instance a child's fulfilment above 1, or bookings of unknown children counted in ``allocated``
but in no per-child figure).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from allocator.check.bound import max_flow_bound
from allocator.check.rules import (
    asked_nights,
    available_nights,
    house_budget,
    nightly_capacities,
    unavailable_ranges,
)
from models.inputs import Pattern, WishKind
from models.outputs import Booking, Stay, stays_from_bookings
from models.round_input import RoundInput

#: Python weekday numbers of the weekend nights: Friday and Saturday evenings.
WEEKEND_NIGHTS = frozenset({4, 5})


@dataclass(frozen=True)
class HouseFigures:
    """Per-house figures.

    Attributes
    ----------
    house_id
        The house.
    kind
        ``avlastningsbolig`` or ``barnebolig``.
    allocated
        Nights booked in the house.
    budget
        Rule R3's budget for an avlastningsbolig; for a barnebolig (no budget) the sum of its
        nightly capacities.
    capacity
        Sum over the round's nights of rule R2's nightly capacity.
    utilisation
        ``allocated / min(budget, capacity)``, 0 when that is 0.
    """

    house_id: str
    kind: str
    allocated: int
    budget: int
    capacity: int
    utilisation: float


@dataclass
class Figures:
    """Key figures of a plan. All ratios are fractions in [0, 1] (not percent).

    Attributes
    ----------
    granted
        Sum of ``granted_nights`` over all children.
    allocated
        Number of (distinct) bookings.
    fulfilment
        ``allocated / granted``; 1.0 when nothing is granted.
    lowest_child_fulfilment
        Minimum over children with ``granted_nights > 0`` of their booked nights / granted;
        1.0 when there is no such child.
    p10_child_fulfilment
        10th percentile of the same per-child ratios (``numpy.percentile``, linear
        interpolation); 1.0 when there is no such child.
    children
        Number of children with ``granted_nights > 0`` (the population of the per-child figures).
    children_under_80, children_under_50
        Of those, how many have a ratio below 0.8, below 0.5.
    usable_capacity
        Σ over avlastningsbolig houses of ``min(R3 budget, Σ nightly R2 capacity)`` plus
        Σ nightly R2 capacity of barnebolig houses.
    utilisation
        ``allocated / usable_capacity``; 0 when the capacity is 0.
    stays
        Number of stays (`models.outputs.stays_from_bookings`: consecutive nights of one child in
        one house).
    single_night_stays
        Stays of exactly one night.
    single_night_share
        ``single_night_stays / stays``; 0 when there are no stays.
    mean_stay_length
        Mean nights per stay; 0 when there are no stays.
    house_switches
        Number of children booked in more than one house during the round.
    conditional_nights
        Bookings where the child's category is only among the house's ``conditional_categories``.
    weekend_family_weekend_share
        Pooled over children with pattern ``weekend``: their Friday and Saturday nights / all
        their nights; 0 when they have no nights.
    want_wishes
        Want wishes (of known children) with at least one available night in their range
        (available: in the round, inside the vedtak, not unavailable).
    want_wishes_met
        Of those, wishes whose every available night is booked (in any house).
    want_nights, want_nights_met
        Σ over those wishes of their available nights, and of those booked. Overlapping wishes
        count a night once per wish.
    avoid_wishes
        Avoid wishes of known children.
    avoid_nights_broken
        Distinct (child, night) bookings inside any avoid range of that child.
    bound
        The max-flow upper bound on allocated nights (`allocator.check.max_flow_bound`).
    gap_to_bound
        ``(bound − allocated) / bound``; 0 when the bound is 0.
    per_house
        One `HouseFigures` per house, in input order.
    """

    granted: int
    allocated: int
    fulfilment: float
    lowest_child_fulfilment: float
    p10_child_fulfilment: float
    children: int
    children_under_80: int
    children_under_50: int
    usable_capacity: int
    utilisation: float
    stays: int
    single_night_stays: int
    single_night_share: float
    mean_stay_length: float
    house_switches: int
    conditional_nights: int
    weekend_family_weekend_share: float
    want_wishes: int
    want_wishes_met: int
    want_nights: int
    want_nights_met: int
    avoid_wishes: int
    avoid_nights_broken: int
    bound: int
    gap_to_bound: float
    per_house: list[HouseFigures] = field(default_factory=list)
    house_switch_share: float = 0.0
    """Children booked in more than one house / children with any booking."""
    want_wishes_allowed: int = 0
    """Want wishes the rules allow: every night of the range available to the child, the range
    no longer than its grant nor than the longest stay its pattern allows (rule S1)."""
    want_wishes_allowed_met: int = 0
    want_wishes_longer_than_stay: int = 0
    """Want wishes that fit the grant and the child's free nights but are longer than the
    longest stay its pattern allows (rule S1): not counted as allowed."""
    families_fair_share: int = 0
    """Families (grant > 0, not barnebolig) measured for fair shares of high-demand nights."""
    fair_share_within_tolerance: float = 1.0
    """Share of those families within ±1 night of their fair share for every kind (weekends,
    Christmas, Easter, 17 May, school breaks), see `allocator.demand.fair_shares`."""
    fair_share_over_by_own_wishes: int = 0
    """Families outside ±1 only above their shares, and each such kind within +1 once the
    nights of it they asked for (inside one of their own want-wishes) are left out: the
    family got more because it asked for it."""
    fair_share_below: int = 0
    """Families more than 1 night below their share of some kind."""
    fair_share_kept: float = 1.0
    """Share of the families whose fair shares are kept: within ±1 night of every share, or
    above one only by nights they asked for (``fair_share_over_by_own_wishes``), and so
    never more than a night below one. The issue-5 target (95%): a want-wish is met "where
    the hard rules allow", so a family that got more of a kind because it asked for it is not
    treated unfairly, and its balance carries the excess into its next round's share."""
    weekend_family_unwished_weekend_share: float = 0.0
    """As ``weekend_family_weekend_share``, over the nights the families did not ask for
    (nights inside one of their own want-wishes are left out)."""
    families_rhythm: int = 0
    """Families (not barnebolig) with at least three stays, measured for rhythm."""
    steady_rhythm_share: float = 1.0
    """Share of those families whose longest gap between two stays' first nights, counted in
    nights the family is available, is at most twice their mean gap: no long break."""

    def to_dict(self) -> dict[str, Any]:
        """Return the figures as JSON-friendly plain types (``per_house`` as a list of dicts)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, np.generic):  # defensive: never leak NumPy scalars into JSON
                out[key] = value.item()
        return out


def _ratio(num: float, den: float, empty: float = 0.0) -> float:
    return float(num) / float(den) if den else empty


def compute_figures(
    inp: RoundInput, bookings: Sequence[Booking], bound: int | None = None
) -> Figures:
    """Compute the key figures of a plan.

    Parameters
    ----------
    inp
        The round's input.
    bookings
        The plan, one `Booking` per bed-night.
    bound
        A precomputed `max_flow_bound(inp)`; computed here when ``None``.

    Returns
    -------
    Figures
        See `Figures` for the exact definition of every field.
    """
    plan = list(dict.fromkeys(bookings))  # exact duplicate rows count once
    if bound is None:
        bound = max_flow_bound(inp)

    # Fulfilment.
    per_child: dict[str, int] = defaultdict(int)
    booked: dict[str, set[dt.date]] = defaultdict(set)
    houses_of: dict[str, set[str]] = defaultdict(set)
    per_house_nights: dict[str, int] = defaultdict(int)
    for b in plan:
        per_child[b.child_id] += 1
        booked[b.child_id].add(b.night)
        houses_of[b.child_id].add(b.house_id)
        per_house_nights[b.house_id] += 1
    granted = sum(c.granted_nights for c in inp.children)
    allocated = len(plan)
    ratios = np.array(
        [per_child[c.child_id] / c.granted_nights for c in inp.children if c.granted_nights > 0],
        dtype=float,
    )
    if ratios.size:
        lowest = float(ratios.min())
        p10 = float(np.percentile(ratios, 10))
    else:
        lowest = p10 = 1.0

    # Capacity and utilisation, per house and in total.
    per_house: list[HouseFigures] = []
    usable = 0
    for house in inp.houses:
        capacity = sum(nightly_capacities(inp, house))
        budget = house_budget(inp, house)
        limit = capacity if budget is None else min(budget, capacity)
        usable += limit
        used = per_house_nights.get(house.house_id, 0)
        per_house.append(
            HouseFigures(
                house_id=house.house_id,
                kind=str(house.kind),
                allocated=used,
                budget=capacity if budget is None else budget,
                capacity=capacity,
                utilisation=_ratio(used, limit),
            )
        )

    # Stay shapes.
    stays = stays_from_bookings(plan)
    singles = sum(1 for s in stays if s.nights == 1)
    mean_len = _ratio(sum(s.nights for s in stays), len(stays))

    # House fit.
    conditional = 0
    for b in plan:
        if not (inp.has_child(b.child_id) and inp.has_house(b.house_id)):
            continue
        category = inp.child(b.child_id).category
        house = inp.house(b.house_id)
        if category in house.conditional_categories and category not in house.categories:
            conditional += 1

    # Weekend pattern.
    weekend_children = {c.child_id for c in inp.children if c.pattern is Pattern.WEEKEND}
    wk_nights = sum(len(booked[c]) for c in weekend_children if c in booked)
    wk_fri_sat = sum(
        1 for c in weekend_children for n in booked.get(c, ()) if n.weekday() in WEEKEND_NIGHTS
    )
    asked = asked_nights(inp)
    wk_unwished = [
        n for c in weekend_children for n in booked.get(c, ()) if n not in asked.get(c, ())
    ]
    wk_unwished_fri_sat = sum(1 for n in wk_unwished if n.weekday() in WEEKEND_NIGHTS)

    # Wishes.
    unavailable = unavailable_ranges(inp)
    available: dict[str, set[dt.date]] = {
        c.child_id: set(available_nights(inp, c, unavailable)) for c in inp.children
    }
    want_wishes = want_met = want_nights = want_nights_met = 0
    avoid_wishes = 0
    avoid_ranges: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for wish in inp.wishes:
        if not inp.has_child(wish.child_id):
            continue
        if wish.kind is WishKind.AVOID:
            avoid_wishes += 1
            avoid_ranges[wish.child_id].append((wish.from_, wish.to))
            continue
        nights = [n for n in wish.nights() if n in available[wish.child_id]]
        if not nights:
            continue
        hit = sum(1 for n in nights if n in booked.get(wish.child_id, ()))
        want_wishes += 1
        want_nights += len(nights)
        want_nights_met += hit
        want_met += int(hit == len(nights))
    avoid_broken = sum(
        1
        for child_id, ranges in avoid_ranges.items()
        for n in booked.get(child_id, ())
        if any(lo <= n <= hi for lo, hi in ranges)
    )

    return Figures(
        granted=granted,
        allocated=allocated,
        fulfilment=_ratio(allocated, granted, empty=1.0),
        lowest_child_fulfilment=lowest,
        p10_child_fulfilment=p10,
        children=int(ratios.size),
        children_under_80=int((ratios < 0.8).sum()),
        children_under_50=int((ratios < 0.5).sum()),
        usable_capacity=usable,
        utilisation=_ratio(allocated, usable),
        stays=len(stays),
        single_night_stays=singles,
        single_night_share=_ratio(singles, len(stays)),
        mean_stay_length=mean_len,
        house_switches=sum(1 for hs in houses_of.values() if len(hs) > 1),
        conditional_nights=conditional,
        weekend_family_weekend_share=_ratio(wk_fri_sat, wk_nights),
        weekend_family_unwished_weekend_share=_ratio(wk_unwished_fri_sat, len(wk_unwished)),
        want_wishes=want_wishes,
        want_wishes_met=want_met,
        want_nights=want_nights,
        want_nights_met=want_nights_met,
        avoid_wishes=avoid_wishes,
        avoid_nights_broken=avoid_broken,
        bound=bound,
        gap_to_bound=_ratio(bound - allocated, bound),
        per_house=per_house,
        house_switch_share=_ratio(
            sum(1 for hs in houses_of.values() if len(hs) > 1), len(houses_of)
        ),
        **_wishes_allowed(inp, booked_by_child(bookings)),
        **_fair_share_figures(inp, plan, booked, asked),
        **_rhythm_figures(inp, stays, available),
    )


def booked_by_child(bookings: Sequence[Booking]) -> dict[str, set[dt.date]]:
    nights: dict[str, set[dt.date]] = {}
    for b in bookings:
        nights.setdefault(b.child_id, set()).add(b.night)
    return nights


#: Rule S1_MAX_STAY's longest stay per pattern, from the rule text ("weekend 3 nights, weekdays
#: 5, week and any 7"), written here apart from the model.
LONGEST_STAY: dict[str, int] = {"weekend": 3, "weekdays": 5, "week": 7, "any": 7}


def _wishes_allowed(inp: RoundInput, booked: dict[str, set[dt.date]]) -> dict[str, int]:
    """Want wishes whose whole range the child may be in respite as one stay, and how many were
    met; wishes longer than the pattern's longest stay are counted apart."""
    allowed = met = too_long = 0
    for wish in inp.wishes:
        if wish.kind.value != "want" or not inp.has_child(wish.child_id):
            continue
        child = inp.child(wish.child_id)
        free = set(available_nights(inp, child))
        nights = wish.nights()
        if not all(n in free for n in nights) or len(nights) > child.granted_nights:
            continue
        if child.level != 6 and len(nights) > LONGEST_STAY[str(child.pattern)]:
            too_long += 1
            continue
        allowed += 1
        if all(n in booked.get(wish.child_id, set()) for n in nights):
            met += 1
    return {
        "want_wishes_allowed": allowed,
        "want_wishes_allowed_met": met,
        "want_wishes_longer_than_stay": too_long,
    }


def _fair_share_figures(
    inp: RoundInput,
    bookings: Sequence[Booking],
    booked: dict[str, set[dt.date]],
    asked: dict[str, set[dt.date]],
) -> dict[str, Any]:
    from allocator.demand import demand_dates, fair_shares

    shares = fair_shares(inp, bookings)
    kind_dates = demand_dates(inp.nights, inp.calendar)
    within = over_by_own_wishes = below = 0
    for child_id, kinds in shares.items():
        got_asked = booked.get(child_id, set()) & asked.get(child_id, set())
        outside = {kind: s for kind, s in kinds.items() if abs(s.deviation) > 1}
        within += int(not outside)
        below += int(any(s.deviation < -1 for s in outside.values()))
        over_by_own_wishes += int(
            bool(outside)
            and all(
                s.deviation > 1 and s.got - len(got_asked & kind_dates[kind]) - s.share <= 1
                for kind, s in outside.items()
            )
        )
    return {
        "families_fair_share": len(shares),
        "fair_share_within_tolerance": _ratio(within, len(shares), empty=1.0),
        "fair_share_over_by_own_wishes": over_by_own_wishes,
        "fair_share_below": below,
        "fair_share_kept": _ratio(within + over_by_own_wishes, len(shares), empty=1.0),
    }


#: A family's rhythm is steady when its longest gap is at most this many times its mean gap.
STEADY_GAP_RATIO = 2.0


def _rhythm_figures(
    inp: RoundInput, stays: Sequence[Stay], available: dict[str, set[dt.date]]
) -> dict[str, Any]:
    """Gaps between a family's stays, measured in its available nights (a camp or a family
    holiday is no break in its rhythm)."""
    firsts: dict[str, list[dt.date]] = defaultdict(list)
    for stay in stays:
        firsts[stay.child_id].append(stay.first_night)
    measured = steady = 0
    for child in inp.children:
        starts = sorted(firsts.get(child.child_id, []))
        if child.level == 6 or len(starts) < 3:
            continue
        free = sorted(available[child.child_id])
        position = {night: i for i, night in enumerate(free)}
        at = [position[n] for n in starts if n in position]
        gaps = [b - a for a, b in pairwise(at)]
        if not gaps:
            continue
        measured += 1
        mean = (at[-1] - at[0]) / len(gaps)
        steady += int(max(gaps) <= STEADY_GAP_RATIO * mean)
    return {"families_rhythm": measured, "steady_rhythm_share": _ratio(steady, measured, 1.0)}


def _pct(x: float) -> str:
    return f"{100.0 * x:.1f} %"


def format_figures(f: Figures) -> str:
    """Return the figures as readable multi-line English text for the terminal.

    Parameters
    ----------
    f
        The figures.

    Returns
    -------
    str
        One labelled line per figure (percentages with one decimal), then one line per house.
    """
    rows: list[tuple[str, str]] = [
        ("Nights granted", f"{f.granted}"),
        ("Nights allocated", f"{f.allocated} ({_pct(f.fulfilment)} of granted)"),
        ("Upper bound (max flow)", f"{f.bound} (gap {_pct(f.gap_to_bound)})"),
        ("Children with a grant", f"{f.children}"),
        ("Lowest child fulfilment", _pct(f.lowest_child_fulfilment)),
        ("10th percentile fulfilment", _pct(f.p10_child_fulfilment)),
        ("Children under 80 %", f"{f.children_under_80}"),
        ("Children under 50 %", f"{f.children_under_50}"),
        ("Usable capacity", f"{f.usable_capacity} nights"),
        ("Utilisation", _pct(f.utilisation)),
        ("Stays", f"{f.stays} (mean {f.mean_stay_length:.1f} nights)"),
        ("Single-night stays", f"{f.single_night_stays} ({_pct(f.single_night_share)})"),
        (
            "Children in more than one house",
            f"{f.house_switches} ({_pct(f.house_switch_share)})",
        ),
        (
            "Families whose fair shares are kept",
            f"{_pct(f.fair_share_kept)} of {f.families_fair_share}"
            " (weekends and holidays: within ±1, or over only by nights asked for)",
        ),
        ("  within ±1 of every share", _pct(f.fair_share_within_tolerance)),
        ("  outside: over only by nights asked for", f"{f.fair_share_over_by_own_wishes} families"),
        ("  outside: more than 1 night below a share", f"{f.fair_share_below} families"),
        (
            "Want wishes the rules allow, met",
            f"{f.want_wishes_allowed_met} of {f.want_wishes_allowed}"
            f" ({f.want_wishes_longer_than_stay} longer than the pattern's longest stay)",
        ),
        (
            "Families in a steady rhythm",
            f"{_pct(f.steady_rhythm_share)} of {f.families_rhythm} (no gap over twice the mean)",
        ),
        ("Nights in a conditional fit", f"{f.conditional_nights}"),
        (
            "Weekend families on Fri/Sat",
            f"{_pct(f.weekend_family_unwished_weekend_share)} of the nights they did not ask for",
        ),
        ("  of all their nights", _pct(f.weekend_family_weekend_share)),
        (
            "Want wishes met",
            f"{f.want_wishes_met} of {f.want_wishes} "
            f"({f.want_nights_met} of {f.want_nights} nights)",
        ),
        ("Avoid wishes", f"{f.avoid_wishes} ({f.avoid_nights_broken} nights booked anyway)"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    if f.per_house:
        lines.append("")
        lines.append("Per house:")
        hw = max(len(h.house_id) for h in f.per_house)
        for h in f.per_house:
            lines.append(
                f"  {h.house_id:<{hw}}  {h.allocated:>6} nights  budget {h.budget:>6}  "
                f"capacity {h.capacity:>6}  utilisation {_pct(h.utilisation):>7}  ({h.kind})"
            )
    return "\n".join(lines)
