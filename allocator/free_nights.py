"""Between two rounds: cancellations, free nights and offers to the waiting list.

"Prioriteringsutvalget fordeler ledige døgn slik at alle 71 plasser blir fullt utnyttet, og
sikrer ledig kapasitet til akuttavlastning" (the guideline). Free nights are counted with the
acute reserve kept; offers go to the waiting list by priority: largest shortfall against the
grant first, then longest wait. "Dersom saken ikke kan avgjøres innen en måned, skal det gis
skriftlig beskjed om årsaken og når svar kan ventes": applications older than a month are
flagged, and `allocator offer` drafts the notice (`allocator.report.notice`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from allocator.acute import (
    eligible_houses,
    full_capacity,
    incompatible_partners,
    planned_capacity,
)
from models.inputs import Child, HouseKind, PinKind
from models.outputs import Booking
from models.round_input import RoundInput
from models.waiting import WaitingApplication

#: An application undecided for longer than this must get a written notice.
DECISION_DAYS = 30


@dataclass(frozen=True)
class FreeNight:
    """Places free in a house on a night, for planned or offered nights (reserve kept)."""

    house_id: str
    night: dt.date
    free: int
    categories: str


@dataclass(frozen=True)
class Offer:
    child_id: str
    house_id: str
    nights: tuple[dt.date, ...]


@dataclass(frozen=True)
class OfferRound:
    offers: tuple[Offer, ...]
    bookings: tuple[Booking, ...]
    overdue: tuple[WaitingApplication, ...]


def night_range(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def cancel(
    bookings: Sequence[Booking], child_id: str, first: dt.date, last: dt.date, today: dt.date
) -> tuple[list[Booking], list[Booking]]:
    """The plan without the child's nights from ``first`` to ``last`` (nights before ``today``
    are history and stay), and the nights freed."""
    freed = [
        b
        for b in bookings
        if b.child_id == child_id and first <= b.night <= last and b.night >= today
    ]
    gone = set(freed)
    return [b for b in bookings if b not in gone], freed


def free_nights(
    inp: RoundInput, bookings: Sequence[Booking], first: dt.date, last: dt.date
) -> list[FreeNight]:
    """Unused places per respite house and night, keeping the acute reserve: planned and
    offered nights may use ``places − closed − reserve``; acute stays fill the reserve first."""
    planned: Counter[tuple[str, dt.date]] = Counter()
    acute: Counter[tuple[str, dt.date]] = Counter()
    for b in bookings:
        (acute if b.kind == "acute" else planned)[(b.house_id, b.night)] += 1
    out = []
    for house in inp.houses:
        if house.kind is not HouseKind.AVLASTNINGSBOLIG:
            continue
        categories = ";".join(sorted(house.categories)) or "-"
        for night in night_range(max(first, inp.config.start), min(last, inp.config.end)):
            key = (house.house_id, night)
            free = min(
                planned_capacity(inp, house, night) - planned[key],
                full_capacity(inp, house, night) - planned[key] - acute[key],
            )
            if free > 0:
                out.append(FreeNight(house.house_id, night, free, categories))
    return out


def free_by_category(free: Sequence[FreeNight]) -> dict[str, int]:
    """Free place-nights per category a house accepts (a night counts for each category)."""
    totals: dict[str, int] = defaultdict(int)
    for f in free:
        for category in f.categories.split(";"):
            totals[category] += f.free
    return dict(sorted(totals.items()))


def overdue(waiting: Sequence[WaitingApplication], today: dt.date) -> list[WaitingApplication]:
    """Applications older than a month (no decision yet): the family must be told in writing."""
    return [w for w in waiting if (today - w.applied).days > DECISION_DAYS]


def priority_order(
    inp: RoundInput, bookings: Sequence[Booking], waiting: Sequence[WaitingApplication]
) -> list[WaitingApplication]:
    """Largest shortfall against the grant first (a child in the round: granted − allocated,
    at most the nights it asks for; a new applicant: the nights it asks for), then longest
    wait, then child id."""
    got = Counter(b.child_id for b in bookings if b.kind != "acute")

    def shortfall(w: WaitingApplication) -> int:
        if inp.has_child(w.child_id):
            return min(
                w.nights_wanted, max(0, inp.child(w.child_id).granted_nights - got[w.child_id])
            )
        return w.nights_wanted

    return sorted(waiting, key=lambda w: (-shortfall(w), w.applied, w.child_id))


def as_child(inp: RoundInput, w: WaitingApplication) -> Child:
    """The applicant as a child of the round: itself if it is in the round, else a child with
    the application's category and level, granted the nights it asks for."""
    if inp.has_child(w.child_id):
        return inp.child(w.child_id)
    return Child.model_validate(
        {
            "child_id": w.child_id,
            "birth_date": w.applied.replace(year=w.applied.year - 12),
            "category": w.category,
            "level": w.level,
            "granted_nights": w.nights_wanted,
            "vedtak_from": inp.config.start,
            "vedtak_to": inp.config.end,
        }
    )


def _nights_allowed(
    inp: RoundInput, child: Child, plan: Sequence[Booking]
) -> set[tuple[str, dt.date]]:
    """House-nights the child may have: inside its vedtak, not away (R1), no incompatible child
    in the house that night (R6), not forbidden in pins.csv (R7)."""
    nights = [inp.nights[i] for i in inp.available_nights(child)]
    partners = incompatible_partners(inp, child.child_id)
    taken = {(b.house_id, b.night) for b in plan if b.child_id in partners}
    for pin in inp.pins:
        if pin.kind is PinKind.FORBID and pin.child_id == child.child_id:
            houses = [pin.house_id] if pin.house_id else [h.house_id for h in inp.houses]
            taken |= {(h, n) for h in houses for n in pin.nights()}
    return {(h.house_id, n) for h in inp.houses for n in nights if (h.house_id, n) not in taken}


def offer(
    inp: RoundInput,
    bookings: Sequence[Booking],
    waiting: Sequence[WaitingApplication],
    first: dt.date,
    last: dt.date,
    today: dt.date,
) -> OfferRound:
    """Give the free nights from ``first`` to ``last`` (not before ``today``) to the waiting
    list in priority order: each applicant gets up to the nights it asks for (its shortfall),
    in the eligible house with the most free nights for it (a house that fully accepts its
    category on a tie), never on a night it already has, and the acute reserve stays free."""
    plan = list(bookings)
    free = {(f.house_id, f.night): f.free for f in free_nights(inp, plan, max(first, today), last)}
    booked_nights = {(b.child_id, b.night) for b in plan}
    got = Counter(b.child_id for b in plan if b.kind != "acute")
    offers = []
    for application in priority_order(inp, plan, waiting):
        child = as_child(inp, application)
        wanted = application.nights_wanted
        if inp.has_child(child.child_id):
            wanted = min(wanted, max(0, child.granted_nights - got[child.child_id]))
        if wanted <= 0:
            continue
        allowed = _nights_allowed(inp, child, plan)
        best: tuple[str, list[dt.date]] | None = None
        best_key = (-1, False)
        for house in eligible_houses(inp, child):
            open_nights = sorted(
                n
                for (h, n), places in free.items()
                if h == house.house_id
                and places > 0
                and (child.child_id, n) not in booked_nights
                and (h, n) in allowed
            )
            # Most nights first; on a tie a house that fully accepts the category beats one
            # that takes it only conditionally ("(4)" in the guideline's table).
            key = (len(open_nights), child.category in house.categories)
            if key > best_key:
                best, best_key = (house.house_id, open_nights), key
        if best is None or not best[1]:
            continue
        house_id, open_nights = best
        given = tuple(open_nights[:wanted])
        for n in given:
            free[(house_id, n)] -= 1
            plan.append(Booking(child.child_id, house_id, n, "offered"))
        offers.append(Offer(child.child_id, house_id, given))
    return OfferRound(tuple(offers), tuple(sorted(plan)), tuple(overdue(waiting, today)))
