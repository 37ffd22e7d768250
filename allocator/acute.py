"""Acute respite: place an emergency stay in a published plan, moving as little as possible.

"Prioriteringsutvalget ... sikre en ledig kapasitet i forhold til akuttavlastning" (the
guideline): the acute reserve (round.toml ``acute_reserve``) keeps places free every night for
this. An acute stay goes into a reserved (or otherwise free) place when one house has room
every night of it; only when none has does the search move other families' nights, fewest
moved nights first, then fewest families touched. A night in the past and a pinned stay never
move. The acute stay is counted apart from the child's grant (its bookings are kind
``acute``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from allocator.check.rules import house_budget
from allocator.instance import house_accepts
from models.inputs import Child, House, HouseKind, PinKind
from models.outputs import Booking
from models.round_input import RoundInput

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

#: Longest acute stay (nights) unless the coordinator says otherwise: acute respite is
#: time-limited ("akuttavlastning er tidsavgrenset").
DEFAULT_MAX_NIGHTS = 14


@dataclass(frozen=True)
class Move:
    """One night of another family that changes: to another house, or taken out (``to`` None,
    to be re-planned with the family)."""

    child_id: str
    night: dt.date
    from_house: str
    to_house: str | None


@dataclass(frozen=True)
class AcuteProposal:
    """Where the acute stay goes and what else changes. ``bookings`` is the whole new plan."""

    child_id: str
    house_id: str
    nights: tuple[dt.date, ...]
    used_reserve: bool
    moves: tuple[Move, ...]
    bookings: tuple[Booking, ...]
    seconds: float
    absorbed: tuple[Booking, ...] = ()
    """The child's own nights in the window before the request: they become nights of the
    acute stay (kind ``acute``, counted apart from the grant)."""

    @property
    def families_touched(self) -> int:
        return len({m.child_id for m in self.moves})


@dataclass(frozen=True)
class AcuteRefusal:
    """No proposal: the reason in one plain sentence."""

    reason: str


def acute_nights(first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    return tuple(first + dt.timedelta(days=i) for i in range((last - first).days + 1))


def full_capacity(inp: RoundInput, house: House, night: dt.date) -> int:
    """Places minus closed places: the acute reserve is open to an acute stay."""
    closed = sum(
        c.places_closed for c in inp.closures if c.house_id == house.house_id and c.contains(night)
    )
    return max(0, house.places - closed)


def planned_capacity(inp: RoundInput, house: House, night: dt.date) -> int:
    """Places minus closed places minus the acute reserve: what planned nights may use."""
    reserve = inp.config.acute_reserve.get(house.house_id, 0)
    return max(0, full_capacity(inp, house, night) - reserve)


def _pinned(inp: RoundInput) -> set[tuple[str, dt.date]]:
    pinned: set[tuple[str, dt.date]] = set()
    for pin in inp.pins:
        if pin.kind is PinKind.PIN:
            pinned |= {(pin.child_id, n) for n in pin.nights()}
    return pinned


def incompatible_partners(inp: RoundInput, child_id: str) -> set[str]:
    return {
        p.child_b if p.child_a == child_id else p.child_a
        for p in inp.incompatible
        if child_id in (p.child_a, p.child_b)
    }


def eligible_houses(inp: RoundInput, child: Child) -> list[House]:
    """Respite houses that accept the child's category (night watch for 3–5), rule R4."""
    return [
        h
        for h in inp.houses
        if h.kind is HouseKind.AVLASTNINGSBOLIG and house_accepts(h, child) and h.places > 0
    ]


def place_acute(
    inp: RoundInput,
    bookings: Sequence[Booking],
    child: Child,
    first: dt.date,
    last: dt.date,
    *,
    today: dt.date,
    max_nights: int = DEFAULT_MAX_NIGHTS,
    time_limit: float = 10.0,
) -> AcuteProposal | AcuteRefusal:
    """Place ``child`` in one house every night from ``first`` to ``last``.

    First a house with a free place (the reserve counts) every night; else the smallest change
    to other families' nights (never a night before ``today``, a pinned night or an acute
    night): fewest nights taken out, then fewest moved, then fewest families touched."""
    started = time.monotonic()
    nights = acute_nights(first, last)
    problem = _request_problem(inp, child, nights, today, max_nights)
    if problem:
        return AcuteRefusal(problem)
    houses = eligible_houses(inp, child)
    if not houses:
        return AcuteRefusal(f"no respite house accepts category {child.category}")
    houses = [h for h in houses if not _forbidden(inp, child.child_id, h.house_id, nights)]
    if not houses:
        return AcuteRefusal(f"{child.child_id} is forbidden in every house that fits (pins.csv)")
    # The child's own nights in the window become part of the acute stay (in the house where
    # it already sleeps, when that house has room); pinned ones keep their house.
    window = set(nights)
    mine = tuple(b for b in bookings if b.child_id == child.child_id and b.night in window)
    if any(b.kind == "acute" for b in mine):
        return AcuteRefusal(f"{child.child_id} already has an acute stay in {first} – {last}")
    held = {b.house_id for b in mine if (b.child_id, b.night) in _pinned(inp)}
    if held:
        houses = [h for h in houses if h.house_id in held]
        if len(held) > 1 or not houses:
            return AcuteRefusal(
                f"{child.child_id}'s own nights in {first} – {last} are pinned in"
                f" {', '.join(sorted(held))}: release them first (allocator pin --release)"
            )
    if mine:
        gone = set(mine)
        bookings = [b for b in bookings if b not in gone]
    where_now = Counter(b.house_id for b in mine)
    houses = sorted(
        houses, key=lambda h: (-where_now[h.house_id], h.house_id != child.home_house, -h.places)
    )
    load: dict[tuple[str, dt.date], list[Booking]] = defaultdict(list)
    for b in bookings:
        load[(b.house_id, b.night)].append(b)
    partners = incompatible_partners(inp, child.child_id)
    for house in houses:
        if all(_has_room(inp, house, n, load, partners) for n in nights):
            stay = tuple(Booking(child.child_id, house.house_id, n, "acute") for n in nights)
            return AcuteProposal(
                child.child_id,
                house.house_id,
                nights,
                True,
                (),
                tuple(sorted([*bookings, *stay])),
                time.monotonic() - started,
                mine,
            )
    result = _search_with_moves(
        inp, bookings, child, houses, nights, today=today, time_limit=time_limit, started=started
    )
    if isinstance(result, AcuteProposal) and mine:
        return replace(result, absorbed=mine)
    return result


def _request_problem(
    inp: RoundInput, child: Child, nights: Sequence[dt.date], today: dt.date, max_nights: int
) -> str | None:
    if not nights:
        return "--to is before --from"
    if len(nights) > max_nights:
        return (
            f"an acute stay is time-limited: {len(nights)} nights asked, at most {max_nights} "
            "(--max-nights)"
        )
    if nights[0] < today:
        return f"the stay starts before today ({today})"
    if nights[0] < inp.config.start or nights[-1] > inp.config.end:
        return f"the stay is outside the round ({inp.config.start} – {inp.config.end})"
    return None


def _forbidden(inp: RoundInput, child_id: str, house_id: str, nights: Sequence[dt.date]) -> bool:
    """Whether pins.csv forbids the child in the house (or in any house) on one of `nights`."""
    window = set(nights)
    return any(
        pin.kind is PinKind.FORBID
        and pin.child_id == child_id
        and pin.house_id in (None, house_id)
        and window.intersection(pin.nights())
        for pin in inp.pins
    )


def _has_room(
    inp: RoundInput,
    house: House,
    night: dt.date,
    load: dict[tuple[str, dt.date], list[Booking]],
    partners: set[str],
) -> bool:
    here = load.get((house.house_id, night), [])
    if any(b.child_id in partners for b in here):
        return False
    return len(here) < full_capacity(inp, house, night)


def _search_with_moves(
    inp: RoundInput,
    bookings: Sequence[Booking],
    child: Child,
    houses: list[House],
    nights: Sequence[dt.date],
    *,
    today: dt.date,
    time_limit: float,
    started: float,
) -> AcuteProposal | AcuteRefusal:
    """The CP-SAT search for the smallest change (see `place_acute`)."""
    # Imported here: a request that fits the reserve answers without loading CP-SAT.
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    window = set(nights)
    pinned = _pinned(inp)
    house_by_id = {h.house_id: h for h in inp.houses}
    children = {c.child_id: c for c in inp.children}
    stay_in = {h.house_id: model.new_bool_var(f"acute_{h.house_id}") for h in houses}
    model.add_exactly_one(stay_in.values())

    # Each booking in the window: stays, moves to another eligible house, or is taken out.
    where: dict[Booking, dict[str, cp_model.IntVar]] = {}
    dropped: dict[Booking, cp_model.IntVar] = {}
    fixed_load: dict[tuple[str, dt.date], int] = defaultdict(int)
    fixed_acute: dict[tuple[str, dt.date], int] = defaultdict(int)
    for b in bookings:
        if b.night not in window:
            continue
        movable = (
            b.kind != "acute"
            and b.night >= today
            and (b.child_id, b.night) not in pinned
            and b.child_id in children
        )
        if not movable:
            target = fixed_acute if b.kind == "acute" else fixed_load
            target[(b.house_id, b.night)] += 1
            continue
        options = {b.house_id: model.new_bool_var(f"keep_{b.child_id}_{b.night}")}
        for h in eligible_houses(inp, children[b.child_id]):
            if h.house_id != b.house_id:
                options[h.house_id] = model.new_bool_var(f"to_{b.child_id}_{h.house_id}")
        drop = model.new_bool_var(f"drop_{b.child_id}_{b.night}")
        model.add_exactly_one([*options.values(), drop])
        where[b] = options
        dropped[b] = drop

    for house_id, house in house_by_id.items():
        for n in nights:
            planned = [
                opts[house_id] for b, opts in where.items() if b.night == n and house_id in opts
            ]
            acute = [stay_in[house_id]] if house_id in stay_in else []
            if not planned and not acute:
                continue
            base = fixed_load[(house_id, n)]
            # Planned nights keep out of the reserve; the acute stay may use it.
            model.add(sum(planned) + base <= max(base, planned_capacity(inp, house, n)))
            model.add(
                sum(planned) + sum(acute) + base + fixed_acute[(house_id, n)]
                <= full_capacity(inp, house, n)
            )
    _keep_budgets(model, inp, bookings, window, where, stay_in, len(nights))
    _forbid_incompatible(model, inp, child.child_id, stay_in, where, bookings, window)

    moved = [1 - opts[b.house_id] for b, opts in where.items()]
    families: dict[str, cp_model.IntVar] = {}
    for b, opts in where.items():
        if b.child_id not in families:
            families[b.child_id] = model.new_bool_var(f"touched_{b.child_id}")
        model.add(families[b.child_id] >= 1 - opts[b.house_id])
    # Lexicographic: fewest nights taken out, then fewest nights changed (moved or taken out),
    # then fewest families touched. Each weight exceeds the most the terms after it can add.
    family_weight = 1
    moved_weight = family_weight * (len(families) + 1)
    dropped_weight = moved_weight * (len(where) + 1)
    model.minimize(
        dropped_weight * sum(dropped.values())
        + moved_weight * sum(moved)
        + family_weight * sum(families.values())
    )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 1
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return AcuteRefusal(
            "no house can take the stay even by moving other families' nights "
            "(past, pinned and acute nights stay where they are)"
        )
    house_id = next(h for h, var in stay_in.items() if solver.value(var))
    moves: list[Move] = []
    new_plan: list[Booking] = [b for b in bookings if b not in where]
    for b, opts in where.items():
        if solver.value(dropped[b]):
            moves.append(Move(b.child_id, b.night, b.house_id, None))
            continue
        to = next(h for h, var in opts.items() if solver.value(var))
        if to != b.house_id:
            moves.append(Move(b.child_id, b.night, b.house_id, to))
        new_plan.append(Booking(b.child_id, to, b.night, b.kind))
    new_plan.extend(Booking(child.child_id, house_id, n, "acute") for n in nights)
    return AcuteProposal(
        child.child_id,
        house_id,
        tuple(nights),
        False,
        tuple(sorted(moves, key=lambda m: (m.night, m.child_id))),
        tuple(sorted(new_plan)),
        time.monotonic() - started,
    )


def _keep_budgets(
    model: cp_model.CpModel,
    inp: RoundInput,
    bookings: Sequence[Booking],
    window: set[dt.date],
    where: dict[Booking, dict[str, cp_model.IntVar]],
    stay_in: dict[str, cp_model.IntVar],
    length: int,
) -> None:
    """Rule R3: a house gives at most its share of 350 nights a place in the round."""
    used: dict[str, int] = defaultdict(int)
    for b in bookings:
        if b not in where:
            used[b.house_id] += 1
    for house in inp.houses:
        budget = house_budget(inp, house)
        if budget is None:
            continue
        coming = [opts[house.house_id] for opts in where.values() if house.house_id in opts]
        acute = [length * stay_in[house.house_id]] if house.house_id in stay_in else []
        if coming or acute:
            model.add(
                used[house.house_id] + sum(coming) + sum(acute)
                <= max(budget, used[house.house_id] + len(coming))
            )


def _forbid_incompatible(
    model: cp_model.CpModel,
    inp: RoundInput,
    acute_child: str,
    stay_in: dict[str, cp_model.IntVar],
    where: dict[Booking, dict[str, cp_model.IntVar]],
    bookings: Sequence[Booking],
    window: set[dt.date],
) -> None:
    """Rule R6: incompatible children are never in the same house on the same night."""
    from ortools.sat.python import cp_model

    presence: dict[tuple[str, dt.date], dict[str, cp_model.LinearExpr]] = defaultdict(dict)
    for b in bookings:
        if b.night in window:
            fixed = {b.house_id: model.new_constant(1)}
            options: dict[str, cp_model.LinearExpr] = {**where[b]} if b in where else {**fixed}
            presence[(b.child_id, b.night)] = options
    for n in window:
        presence[(acute_child, n)] = {**stay_in}
    for pair in inp.incompatible:
        for n in window:
            one = presence.get((pair.child_a, n), {})
            other = presence.get((pair.child_b, n), {})
            for house_id in one.keys() & other.keys():
                model.add(cp_model.LinearExpr.sum([one[house_id], other[house_id]]) <= 1)
