"""`RoundInput` → a frozen, indexed `Instance`: all preprocessing of a round lives here.

Children, houses and nights become integer indices. Each child gets its available nights
(inside the round and its vedtak, never unavailable), the houses it may sleep in (category fit,
night watch, barnebolig iff level 6) and a short list of candidate houses for the model.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from allocator.demand import demand_nights
from models.categories import NEEDS_NIGHT_WATCH
from models.config import ObjectiveWeights
from models.inputs import Child, House, HouseKind, Pattern, PinKind, WishKind
from models.outputs import Booking
from models.round_input import RoundInput
from models.rules import budget_nights

ChildIdx = int
HouseIdx = int
NightIdx = int

FRIDAY, SATURDAY, SUNDAY = 4, 5, 6

#: Longest stay (nights) the family's pattern allows; barnebolig residents have no limit.
MAX_STAY: dict[Pattern, int] = {
    Pattern.WEEKEND: 3,
    Pattern.WEEKDAYS: 5,
    Pattern.WEEK: 7,
    Pattern.ANY: 7,
}


@dataclass(frozen=True)
class HouseData:
    idx: HouseIdx
    house_id: str
    name: str
    is_barnebolig: bool
    nightly_capacity: tuple[int, ...]
    """Rule R2: places − closed places − acute reserve, per night (never below 0)."""
    budget: int | None
    """Rule R3: at most places × 350 × N / 365 nights in the round; None for a barnebolig."""
    price_per_night: float


@dataclass(frozen=True)
class ChildData:
    idx: ChildIdx
    child_id: str
    granted: int
    level: int
    pattern: Pattern
    is_resident: bool
    """Level 6: lives in a barnebolig every available night."""
    available: tuple[NightIdx, ...]
    eligible: tuple[HouseIdx, ...]
    conditional: frozenset[HouseIdx]
    """Eligible houses that accept the child's category only conditionally, e.g. "(4)"."""
    candidates: tuple[HouseIdx, ...]
    """The eligible houses the model offers (home house and the best-fitting others)."""
    home_house: HouseIdx | None
    want_weight: dict[NightIdx, int] = field(default_factory=dict)
    want_wishes: tuple[tuple[tuple[NightIdx, ...], int], ...] = ()
    """Each want-wish as (its available nights, its weight)."""
    avoid_weight: dict[NightIdx, int] = field(default_factory=dict)
    blocked: frozenset[tuple[HouseIdx, NightIdx]] = frozenset()
    """House-nights closed to this child: forbidden in pins.csv, or, in a sub-problem, an
    incompatible child is there."""
    pinned: frozenset[tuple[HouseIdx, NightIdx]] = frozenset()
    """House-nights the coordinator pinned (pins.csv, kind pin): always booked."""
    previous: frozenset[tuple[HouseIdx, NightIdx]] = frozenset()
    """The child's nights in the plan being re-planned (``plan --keep``)."""
    balance: dict[str, float] = field(default_factory=dict)
    """High-demand nights got minus fair share in earlier rounds, per kind (from the store)."""
    reachable: int = -1
    """Available nights with a usable place in a candidate house (-1: not yet counted)."""
    offered_only: frozenset[NightIdx] | None = None
    """When set, the only nights the child is offered: those of its pattern (weekend or
    weekdays), because they are plenty for its grant (``pattern_nights_only``); or, in a
    neighbourhood of the search (`allocator.lns`), a window's nights and its nights outside."""

    def offered(self, n: NightIdx) -> bool:
        return self.offered_only is None or n in self.offered_only

    @property
    def target(self) -> int:
        """Nights the child can get at most: its grant, or fewer if it is away more or no
        candidate house has a place on its free nights."""
        reachable = len(self.available) if self.reachable < 0 else self.reachable
        return min(self.granted, reachable)

    @property
    def max_stay(self) -> int:
        return len(self.available) if self.is_resident else MAX_STAY[self.pattern]


@dataclass(frozen=True)
class Instance:
    nights: tuple[dt.date, ...]
    houses: tuple[HouseData, ...]
    children: tuple[ChildData, ...]
    incompatible: tuple[tuple[ChildIdx, ChildIdx], ...]
    weekend_night: tuple[bool, ...]
    """Friday and Saturday nights (a night is named by its evening)."""
    demand: dict[str, frozenset[NightIdx]] = field(default_factory=dict)
    """High-demand nights of each kind (weekend, christmas, easter, ...), see allocator.demand."""
    share_tolerance: int = 1
    demand_scale: dict[tuple[str, str], float] = field(default_factory=dict)
    """Per (kind, pattern), the factor on calendar shares that makes families' shares add up to
    the kind's nights they get together (`allocator.demand.proportional_scales`); 1 when unset.
    Set from a plan at hand (`with_demand_scale`)."""
    shares_at_plan_level: bool = False
    """The house pass, before the round's level of each kind is known: for each holiday kind
    and pattern, the families of the model share the kind's nights they get together, at
    whatever level the plan gives them (`allocator.decompose.house_pass_weighs_shares`).
    Friday and Saturday nights are left out here: the house assignment balances them between
    houses (`allocator.assign`) and the swaps share them at the round's level. Weighed in the
    house pass as well (half the weight), they cost its search more than they gave: on
    Bergen (300 s) weekend families' Friday/Saturday share fell to 89.9% against 91.7%
    without them, for about the same share of families within ±1 (58.6% and 57.6%)."""

    @property
    def n_nights(self) -> int:
        return len(self.nights)

    @property
    def night_variables(self) -> int:
        """How many child-house-night booleans the model of this instance has: its size."""
        return sum(len(c.available) * len(c.candidates) for c in self.children)

    def night_index(self, night: dt.date) -> NightIdx:
        return (night - self.nights[0]).days

    def in_pattern(self, child: ChildData, n: NightIdx) -> bool:
        """Whether night ``n`` is of the family's pattern: weekend = Friday and Saturday
        nights, weekdays = Sunday to Thursday nights; every night for the other patterns."""
        if child.pattern is Pattern.WEEKEND:
            return self.weekend_night[n]
        if child.pattern is Pattern.WEEKDAYS:
            return not self.weekend_night[n]
        return True

    def off_pattern(self, child: ChildData, n: NightIdx) -> bool:
        """Whether night ``n`` costs the family as off its pattern: outside it and not a night
        the family asked for (an asked-for night is never "off pattern")."""
        return not self.in_pattern(child, n) and n not in child.want_weight

    def usable_nights(self, h: HouseIdx) -> int:
        """Rules R2 and R3 together: the nights house ``h`` can give in the round."""
        return usable_nights(self.houses[h])

    def worst_share(self, allocated: Mapping[ChildIdx, int]) -> int:
        """The lowest share, in whole percent, of a respite child's reachable grant (the
        ``worst_share`` variable of stage 1); 100 when no child has a grant to share."""
        shares = [
            100 * allocated.get(ch.idx, 0) // ch.target
            for ch in self.children
            if ch.target > 0 and not ch.is_resident
        ]
        return min(min(shares, default=100), 100)


@dataclass(frozen=True)
class SubInstance:
    """A sub-problem: some children free, everyone else's nights fixed and taken out of the
    houses' capacity. ``to_global[i]`` is the index in the full instance of local child ``i``."""

    instance: Instance
    to_global: tuple[ChildIdx, ...]


def _held_outside(
    child: ChildData, window: tuple[NightIdx, NightIdx], outside: set[tuple[HouseIdx, NightIdx]]
) -> ChildData:
    """The child offered only the window's nights, with its nights outside held (as pins)."""
    first, last = window
    offered = {n for n in child.available if first <= n <= last and child.offered(n)}
    offered |= {n for _, n in outside}
    return replace(child, pinned=child.pinned | outside, offered_only=frozenset(offered))


def sub_instance(
    inst: Instance,
    children: Sequence[ChildIdx],
    fixed_plan: Iterable[tuple[ChildIdx, HouseIdx, NightIdx]],
    candidates: Mapping[ChildIdx, tuple[HouseIdx, ...]] | None = None,
    window: tuple[NightIdx, NightIdx] | None = None,
) -> SubInstance:
    """Free ``children`` (optionally with other candidate houses); the bookings of every other
    child in ``fixed_plan`` stay and use up capacity, budget and incompatible house-nights.
    With ``window`` (first, last night) the freed children are free only inside it: their
    nights outside are held as they are in ``fixed_plan``."""
    free = set(children)
    fixed_plan = list(fixed_plan)
    own: dict[ChildIdx, set[tuple[HouseIdx, NightIdx]]] = defaultdict(set)
    if window is not None:
        for c, h, n in fixed_plan:
            if c in free and not window[0] <= n <= window[1]:
                own[c].add((h, n))
    used: dict[tuple[HouseIdx, NightIdx], int] = defaultdict(int)
    budget_used: dict[HouseIdx, int] = defaultdict(int)
    where: dict[ChildIdx, set[tuple[HouseIdx, NightIdx]]] = defaultdict(set)
    for c, h, n in fixed_plan:
        if c in free:
            continue
        used[(h, n)] += 1
        budget_used[h] += 1
        where[c].add((h, n))
    houses = tuple(
        replace(
            house,
            nightly_capacity=tuple(
                max(0, cap - used[(house.idx, n)]) for n, cap in enumerate(house.nightly_capacity)
            ),
            budget=None if house.budget is None else max(0, house.budget - budget_used[house.idx]),
        )
        for house in inst.houses
    )
    partners: dict[ChildIdx, set[ChildIdx]] = defaultdict(set)
    for a, b in inst.incompatible:
        partners[a].add(b)
        partners[b].add(a)
    to_global = tuple(sorted(free))
    local = {g: i for i, g in enumerate(to_global)}
    sub_children = []
    for g in to_global:
        child = inst.children[g]
        blocked = set(child.blocked)
        for p in partners[g] - free:
            blocked |= where[p]
        narrowed = replace(
            child,
            idx=local[g],
            candidates=candidates.get(g, child.candidates) if candidates else child.candidates,
            blocked=frozenset(blocked),
        )
        if window is not None:
            narrowed = _held_outside(narrowed, window, own[g])
        sub_children.append(replace(narrowed, reachable=count_reachable(narrowed, houses)))
    pairs = tuple((local[a], local[b]) for a, b in inst.incompatible if a in free and b in free)
    return SubInstance(
        Instance(
            inst.nights,
            houses,
            tuple(sub_children),
            pairs,
            inst.weekend_night,
            inst.demand,
            inst.share_tolerance,
            inst.demand_scale,
            inst.shares_at_plan_level,
        ),
        to_global,
    )


#: Pattern nights must number at least this many times the grant before a family is offered
#: only those: otherwise the restriction could cost nights.
PATTERN_HEADROOM = 1.2


def usable_nights(house: HouseData) -> int:
    """Rules R2 and R3 together: the nights ``house`` can give in the round."""
    total = sum(house.nightly_capacity)
    return total if house.budget is None else min(total, house.budget)


def _capacity_suffices(children: Sequence[ChildData], houses: Sequence[HouseData], n: int) -> bool:
    """Whether the respite houses' usable nights cover every grant. When they do not, nights
    come before the rhythm: families are not held to their pattern's nights."""
    usable = sum(usable_nights(house) for house in houses if not house.is_barnebolig)
    wanted = sum(min(ch.granted, len(ch.available)) for ch in children if not ch.is_resident)
    return wanted <= usable


def _restrict_to_pattern(child: ChildData, nights: Sequence[dt.date]) -> ChildData:
    """Offer a weekend family only Friday, Saturday and Sunday nights (a weekday family only
    Sunday–Thursday nights) when its pattern's nights are plenty; pinned and wished-for nights
    are always offered."""
    if child.is_resident or child.pattern not in (Pattern.WEEKEND, Pattern.WEEKDAYS):
        return child
    want_weekend = child.pattern is Pattern.WEEKEND
    fits = {
        n for n in child.available if (nights[n].weekday() in (FRIDAY, SATURDAY)) == want_weekend
    }
    if len(fits) < PATTERN_HEADROOM * child.granted:
        return child
    offered = set(fits)
    if want_weekend:
        # Sunday nights too (at the off-pattern cost): an odd grant can end in a 3-night
        # Friday–Sunday stay instead of a single night.
        offered |= {n for n in child.available if nights[n].weekday() == SUNDAY}
    offered |= {n for _, n in child.pinned} | set(child.want_weight)
    return replace(child, offered_only=frozenset(offered))


def place_open(child: ChildData, houses: Sequence[HouseData], n: NightIdx) -> bool:
    """Whether night ``n`` is offered to the child and a candidate house has a place open to
    it: exactly the nights the model has an "in respite tonight" variable for."""
    return child.offered(n) and any(
        houses[h].nightly_capacity[n] > 0 and (h, n) not in child.blocked for h in child.candidates
    )


def count_reachable(child: ChildData, houses: Sequence[HouseData]) -> int:
    """Available nights on which some candidate house has a place open to the child."""
    return sum(1 for n in child.available if place_open(child, houses, n))


def house_accepts(house: House, child: Child) -> bool:
    """Rule R4: category fit, night watch for 3–5, barnebolig for level 6 and only level 6."""
    if not house.accepts(child.category):
        return False
    if child.category in NEEDS_NIGHT_WATCH and not house.night_watch:
        return False
    is_barnebolig = house.kind is HouseKind.BARNEBOLIG
    return is_barnebolig == (child.level == 6)


def _nightly_capacity(inp: RoundInput, house: House) -> tuple[int, ...]:
    """Rule R2: places − closed places − acute reserve on each night of the round."""
    reserve = inp.config.acute_reserve.get(house.house_id, 0)
    closures = [c for c in inp.closures if c.house_id == house.house_id]
    caps = []
    for night in inp.nights:
        closed = sum(c.places_closed for c in closures if c.contains(night))
        caps.append(max(0, house.places - closed - reserve))
    return tuple(caps)


def _wish_weights(
    inp: RoundInput, child: Child, kind: WishKind, available: set[NightIdx]
) -> dict[NightIdx, int]:
    weights: dict[NightIdx, int] = {}
    start = inp.config.start
    for w in inp.wishes:
        if w.child_id != child.child_id or w.kind is not kind:
            continue
        for night in w.nights():
            i = (night - start).days
            if i in available:
                weights[i] = weights.get(i, 0) + w.weight
    return weights


def _night_weights(wishes: Sequence[tuple[tuple[NightIdx, ...], int]]) -> dict[NightIdx, int]:
    """Each night's total weight over the wishes that hold it."""
    weights: dict[NightIdx, int] = {}
    for nights, weight in wishes:
        for n in nights:
            weights[n] = weights.get(n, 0) + weight
    return weights


def _want_wishes(
    inp: RoundInput, child: Child, available: set[NightIdx]
) -> tuple[tuple[tuple[NightIdx, ...], int], ...]:
    start = inp.config.start
    found = []
    for w in inp.wishes:
        if w.child_id != child.child_id or w.kind is not WishKind.WANT:
            continue
        nights = tuple(i for night in w.nights() if (i := (night - start).days) in available)
        if nights:
            found.append((nights, w.weight))
    return tuple(found)


def _house_pressure(
    houses: Sequence[HouseData], eligible: dict[int, tuple[HouseIdx, ...]], granted: dict[int, int]
) -> dict[HouseIdx, float]:
    """Demand spread evenly over eligible houses, divided by each house's usable nights."""
    demand = dict.fromkeys(range(len(houses)), 0.0)
    for c, hs in eligible.items():
        for h in hs:
            demand[h] += granted[c] / len(hs)
    pressure: dict[HouseIdx, float] = {}
    for house in houses:
        usable = usable_nights(house)
        pressure[house.idx] = demand[house.idx] / usable if usable else float("inf")
    return pressure


def _pins(
    inp: RoundInput, child: Child, house_idx: dict[str, int], eligible: tuple[HouseIdx, ...]
) -> tuple[frozenset[tuple[HouseIdx, NightIdx]], frozenset[tuple[HouseIdx, NightIdx]]]:
    """Pinned and forbidden house-nights of the child (pins.csv), inside the round."""
    pinned: set[tuple[HouseIdx, NightIdx]] = set()
    forbidden: set[tuple[HouseIdx, NightIdx]] = set()
    for pin in inp.pins:
        if pin.child_id != child.child_id:
            continue
        houses = [house_idx[pin.house_id]] if pin.house_id else list(eligible)
        for night in pin.nights():
            if not inp.config.start <= night <= inp.config.end:
                continue
            n = (night - inp.config.start).days
            target = pinned if pin.kind is PinKind.PIN else forbidden
            target.update((h, n) for h in houses)
    return frozenset(pinned), frozenset(forbidden - pinned)


def build_instance(
    inp: RoundInput,
    *,
    max_candidate_houses: int = 3,
    previous: Sequence[Booking] = (),
    balances: Mapping[str, Mapping[str, float]] | None = None,
) -> Instance:
    """Index the round. Each child is offered at most `max_candidate_houses` eligible houses:
    its pinned and home houses first, then full-fit houses before conditional ones, least
    pressed first. ``previous`` is the plan to keep close to (``plan --keep``); ``balances``
    are the families' high-demand balances from earlier rounds (the store)."""
    n = inp.config.n_nights
    houses = tuple(
        HouseData(
            idx=i,
            house_id=h.house_id,
            name=h.name,
            is_barnebolig=h.kind is HouseKind.BARNEBOLIG,
            nightly_capacity=_nightly_capacity(inp, h),
            budget=None
            if h.kind is HouseKind.BARNEBOLIG
            else budget_nights(h.places, h.nights_per_place_year, n),
            price_per_night=h.price_per_night,
        )
        for i, h in enumerate(inp.houses)
    )
    house_idx = {h.house_id: h.idx for h in houses}
    usable_house = [usable_nights(h) > 0 for h in houses]

    eligible: dict[int, tuple[HouseIdx, ...]] = {}
    for c, child in enumerate(inp.children):
        eligible[c] = tuple(
            house_idx[h.house_id]
            for h in inp.houses
            if house_accepts(h, child) and usable_house[house_idx[h.house_id]]
        )
    pressure = _house_pressure(
        houses, eligible, {c: ch.granted_nights for c, ch in enumerate(inp.children)}
    )

    previous_by_child: dict[str, list[Booking]] = defaultdict(list)
    for b in previous:
        previous_by_child[b.child_id].append(b)
    children = []
    for c, child in enumerate(inp.children):
        available = inp.available_nights(child)
        conditional = frozenset(
            house_idx[h.house_id]
            for h in inp.houses
            if child.category in h.conditional_categories and house_idx[h.house_id] in eligible[c]
        )
        home = house_idx.get(child.home_house) if child.home_house else None
        if home is not None and home not in eligible[c]:
            home = None

        def rank(
            h: HouseIdx, home: HouseIdx | None = home, cond: frozenset[int] = conditional
        ) -> tuple[int, int, float]:
            return (0 if h == home else 1, 1 if h in cond else 0, pressure[h])

        pinned, forbidden = _pins(inp, child, house_idx, eligible[c])
        avail_set = set(available)
        avoid = _wish_weights(inp, child, WishKind.AVOID, avail_set)
        want_wishes = _want_wishes(inp, child, avail_set)
        if inp.config.avoid_dates_hard:
            forbidden |= {(h, n) for h in eligible[c] for n in avoid} - pinned
        pinned_houses = {h for h, _ in pinned}

        def pinned_first(
            h: HouseIdx,
            r: Callable[[HouseIdx], tuple[int, int, float]] = rank,
            pins: set[HouseIdx] = pinned_houses,
        ) -> tuple[bool, tuple[int, int, float]]:
            return (h not in pins, r(h))

        ordered = sorted(eligible[c], key=pinned_first)
        limit = len(ordered) if child.level == 6 else max(max_candidate_houses, len(pinned_houses))
        children.append(
            ChildData(
                idx=c,
                child_id=child.child_id,
                granted=child.granted_nights,
                level=child.level,
                pattern=child.pattern,
                is_resident=child.level == 6,
                available=available,
                eligible=eligible[c],
                conditional=conditional,
                candidates=tuple(ordered[:limit]),
                home_house=home,
                want_weight=_night_weights(want_wishes),
                want_wishes=want_wishes,
                avoid_weight=avoid,
                blocked=forbidden,
                pinned=pinned,
                previous=frozenset(
                    (house_idx[b.house_id], (b.night - inp.config.start).days)
                    for b in previous_by_child.get(child.child_id, ())
                    if b.house_id in house_idx and inp.config.start <= b.night <= inp.config.end
                ),
                balance=dict((balances or {}).get(child.child_id, {})),
            )
        )
    if inp.config.pattern_nights_only and _capacity_suffices(children, houses, n):
        children = [_restrict_to_pattern(ch, inp.nights) for ch in children]
    children = [replace(ch, reachable=count_reachable(ch, houses)) for ch in children]
    child_idx = {ch.child_id: ch.idx for ch in children}
    pairs = sorted(
        {
            tuple(sorted((child_idx[p.child_a], child_idx[p.child_b])))
            for p in inp.incompatible
            if p.child_a in child_idx and p.child_b in child_idx
        }
    )
    nights = tuple(inp.nights)
    return Instance(
        nights=nights,
        houses=houses,
        children=tuple(children),
        incompatible=tuple((a, b) for a, b in pairs),
        weekend_night=tuple(d.weekday() in (FRIDAY, SATURDAY) for d in nights),
        demand=demand_nights(nights, inp.calendar),
        share_tolerance=inp.config.weights.share_tolerance_nights,
    )


#: The lowest of the shortfall floors (`shortfall_floors`), in percent of the grant.
LOWEST_SHORTFALL_FLOOR_PERCENT = 50


def shortfall_floors(target: int, weights: ObjectiveWeights) -> tuple[int, ...]:
    """The child's shortfall floors in nights: its fair floor (``fair_floor_percent`` of its
    reachable grant) and one every ``shortfall_step_percent`` below it, down to half the grant.
    "Forvaltningsenheten skal sikre likebehandling" (the guideline): each night short of each
    floor costs ``deep_shortfall``, so the cost of a night lost grows step by step as the child
    falls further below its grant, and a night is worth most to the child furthest below."""
    if target <= 0 or weights.deep_shortfall <= 0:
        return ()
    top = weights.fair_floor_percent
    step = weights.shortfall_step_percent
    percents = [top]
    while step > 0 and percents[-1] - step >= LOWEST_SHORTFALL_FLOOR_PERCENT:
        percents.append(percents[-1] - step)
    return tuple(n for p in percents if (n := math.ceil(target * p / 100)) > 0)


#: Fixed-point factor for fair shares in the model (shares are fractions of nights).
SHARE_SCALE = 1000


@dataclass(frozen=True)
class ShareRow:
    """One family's fair share of one kind of high-demand night, as integers for the model:
    ``gap = per_got · got − per_night · allocated + offset`` is (got − share) in units of
    ``per_got``, and nights beyond ``slack`` (the tolerance, in the same units) count."""

    kind: str
    nights: tuple[NightIdx, ...]
    per_got: int
    per_night: int
    offset: int
    slack: int

    def gap(self, got: int, allocated: int) -> int:
        """(got − share) in units of ``per_got``: below 0 when the family is short."""
        return self.per_got * got - self.per_night * allocated + self.offset

    def deviation(self, got: int, allocated: int) -> int:
        """Nights beyond the tolerance by which the family strays from its share."""
        excess = abs(self.gap(got, allocated)) - self.slack
        return -(-excess // self.per_got) if excess > 0 else 0


def share_rows(inst: Instance, child: ChildData) -> list[ShareRow]:
    """The family's fair-share rows (see `allocator.demand.fair_shares`): share = allocated ×
    (kind nights / available nights) × scale for its kind and pattern − balance."""
    from allocator.demand import measured_kinds

    if child.is_resident or child.granted <= 0 or not child.available:
        return []
    available = set(child.available)
    per_got = SHARE_SCALE * len(available)
    rows = []
    for kind in measured_kinds(str(child.pattern)):
        if inst.shares_at_plan_level and kind == "weekend":
            continue
        of_kind = tuple(sorted(inst.demand.get(kind, frozenset()) & available))
        if not of_kind:
            continue
        scale = inst.demand_scale.get((kind, str(child.pattern)), 1.0)
        rows.append(
            ShareRow(
                kind,
                of_kind,
                per_got,
                round(SHARE_SCALE * len(of_kind) * scale),
                round(per_got * child.balance.get(kind, 0.0)),
                per_got * inst.share_tolerance,
            )
        )
    return rows


def with_demand_scale(
    inst: Instance, plan: Iterable[tuple[ChildIdx, HouseIdx, NightIdx]]
) -> Instance:
    """The instance with its fair-share scales (`Instance.demand_scale`) taken from ``plan``:
    the kinds' nights that families of each pattern get there together."""
    from allocator.demand import calendar_share, proportional_scales

    nights: dict[ChildIdx, set[NightIdx]] = defaultdict(set)
    for c, _h, n in plan:
        nights[c].add(n)
    measured = []
    unscaled = replace(inst, demand_scale={})
    for child in inst.children:
        mine = nights[child.idx]
        for row in share_rows(unscaled, child):
            share = calendar_share(len(mine), len(row.nights), len(child.available))
            got = sum(1 for n in row.nights if n in mine)
            measured.append(((row.kind, str(child.pattern)), got, share))
    return replace(inst, demand_scale=proportional_scales(measured))
