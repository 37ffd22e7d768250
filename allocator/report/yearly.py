"""Yearly figures for the municipality: bed-nights, users, visiting families, use and cost.

"The municipality must be able to report, per year: bed-nights used, how many users had
respite, and how many had a visiting family" (DOMAIN.md). `yearly_figures` counts, for the
calendar year Y, from the published plans of the rounds that overlap it:

* **bed-nights used**: total, per house, per category and per service level (a child's
  category and level as recorded in the round the night belongs to), and per booking kind
  (``planned``, ``acute``, ``offered``);
* **users with respite**: distinct children with at least one night in Y;
* **acute stays**: consecutive acute nights of a child in one house (a stay crossing New Year
  counts in both years, each with its own nights);
* **utilisation**: bed-nights used over the houses' potential nights. "Each place counts as 350
  bed-nights a year" (DOMAIN.md): a respite house's potential is ``places ×
  nights_per_place_year`` prorated to the nights of Y its rounds cover; a barnebolig place counts
  every night ("barnebolig, 365");
* **cost**: each night at its house's ``price_per_night`` in that round's input;
* **users with a visiting family** (besøkshjem): distinct children with a
  ``visiting_homes.csv`` row overlapping Y;
* **weekly occupancy** per house (ISO weeks): nights used over places × covered nights.

Only nights inside Y count, and only the newest version of each round: a round published again
(same first night) replaces the earlier publication (`VersionInfo.replaced_by`). Pure: no I/O.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from models.inputs import House, HouseKind, VisitingHome
from models.outputs import BOOKING_KINDS, Booking, stays_from_bookings

__all__ = [
    "UNKNOWN",
    "HouseFigures",
    "OccupancyWeek",
    "RoundChildLike",
    "VersionLike",
    "YearPlan",
    "YearlyFigures",
    "newest_plans",
    "versions_for_year",
    "yearly_figures",
]

UNKNOWN = "unknown"
"""Category or level of a child that its round does not list (e.g. an acute-only child)."""

PLANNED, ACUTE, OFFERED = BOOKING_KINDS


class RoundChildLike(Protocol):
    """A child of a round as the store records it (`allocator.store.RoundChildInfo`)."""

    @property
    def child_id(self) -> str: ...

    @property
    def category(self) -> str: ...

    @property
    def level(self) -> int: ...


class VersionLike(Protocol):
    """A published version as `Store.history` lists it (`allocator.store.VersionInfo`)."""

    @property
    def version(self) -> int: ...

    @property
    def round_start(self) -> dt.date: ...

    @property
    def round_end(self) -> dt.date: ...

    @property
    def replaced_by(self) -> int | None: ...


V = TypeVar("V", bound=VersionLike)


@dataclass(frozen=True)
class YearPlan:
    """One published round, as the yearly figures need it.

    Attributes
    ----------
    version
        The store's version number of this publication.
    round_start, round_end
        The round's first and last night.
    bookings
        The plan, one `Booking` per bed-night.
    houses
        The houses of the round's input (places, kind, ``nights_per_place_year``, price).
    children
        The round's children with category and level (`Store.round_children`).
    kinds
        ``{(child_id, night): kind}`` for nights that are not ``planned`` (``acute`` or
        ``offered``, `Store.booking_kinds`); a night absent here has its `Booking.kind`.
    replaced_by
        The version that replaces this one, if any (then it is not counted).
    """

    version: int
    round_start: dt.date
    round_end: dt.date
    bookings: Sequence[Booking]
    houses: Sequence[House]
    children: Sequence[RoundChildLike] = ()
    kinds: Mapping[tuple[str, dt.date], str] = field(default_factory=dict)
    replaced_by: int | None = None


@dataclass(frozen=True)
class OccupancyWeek:
    """An ISO week, cut to the year: its number and its first and last night inside Y."""

    iso_year: int
    iso_week: int
    first_night: dt.date
    last_night: dt.date

    @property
    def label(self) -> str:
        """``"w01"`` … ``"w53"`` (the ISO week number, Norwegian ``uke``)."""
        return f"w{self.iso_week:02d}"


@dataclass(frozen=True)
class HouseFigures:
    """One house's year.

    Attributes
    ----------
    house_id, name, kind
        As in houses.csv (the newest round's row when rounds differ).
    places
        Places in the newest round that lists the house (0 when no round lists it).
    price_per_night
        Price in the newest round that lists the house.
    covered_nights
        Nights of Y covered by rounds that list the house.
    bed_nights
        Nights used in Y.
    potential_nights
        ``places × nights_per_place_year × covered_nights / days_in_year`` for a respite house,
        ``places × covered_nights`` for a barnebolig (summed night by night).
    cost
        Nights × the house's price per night in each night's round.
    weekly
        Share of places used per week of `YearlyFigures.weeks` (``None`` where the house had
        no places in that week's covered nights).
    """

    house_id: str
    name: str
    kind: str
    places: int
    price_per_night: float
    covered_nights: int
    bed_nights: int
    potential_nights: float
    cost: float
    weekly: tuple[float | None, ...]

    @property
    def utilisation(self) -> float | None:
        """Bed-nights over potential nights, or ``None`` when there is no potential."""
        return self.bed_nights / self.potential_nights if self.potential_nights > 0 else None


@dataclass(frozen=True)
class YearlyFigures:
    """The figures of one calendar year (see the module docstring).

    Attributes
    ----------
    year
        The calendar year.
    versions
        The store versions counted, by round start.
    days_in_year
        365 or 366.
    covered_from, covered_to
        First and last night of Y covered by a counted round (``None`` when none is).
    covered_days
        Nights of Y covered by counted rounds.
    bed_nights
        Bed-nights used in Y.
    nights_by_kind
        Bed-nights per booking kind; ``planned``, ``acute`` and ``offered`` are always present.
    acute_stays
        Stays made of acute nights (consecutive nights of a child in one house).
    users_with_respite
        Distinct children with at least one night in Y.
    users_with_acute
        Distinct children with at least one acute night in Y.
    users_with_visiting_family
        Distinct children with a visiting family (besøkshjem) some day of Y.
    houses
        Per house, by house id.
    by_category, by_level
        Bed-nights per category (``2 3 4 5 P``) and per service level (``"1"`` … ``"6"``);
        `UNKNOWN` for a child its round does not list.
    weeks
        The ISO weeks of Y, in order; `HouseFigures.weekly` follows this order.
    """

    year: int
    versions: tuple[int, ...]
    days_in_year: int
    covered_from: dt.date | None
    covered_to: dt.date | None
    covered_days: int
    bed_nights: int
    nights_by_kind: dict[str, int]
    acute_stays: int
    users_with_respite: int
    users_with_acute: int
    users_with_visiting_family: int
    houses: tuple[HouseFigures, ...]
    by_category: dict[str, int]
    by_level: dict[str, int]
    weeks: tuple[OccupancyWeek, ...]

    @property
    def acute_nights(self) -> int:
        """Bed-nights of kind ``acute``."""
        return self.nights_by_kind.get(ACUTE, 0)

    @property
    def offered_nights(self) -> int:
        """Bed-nights of kind ``offered`` (free nights handed out by the priority committee)."""
        return self.nights_by_kind.get(OFFERED, 0)

    @property
    def planned_nights(self) -> int:
        """Bed-nights of kind ``planned`` (the rounds' own nights)."""
        return self.nights_by_kind.get(PLANNED, 0)

    @property
    def potential_nights(self) -> float:
        """The houses' potential nights in the covered part of Y."""
        return sum(h.potential_nights for h in self.houses)

    @property
    def utilisation(self) -> float | None:
        """Bed-nights used over potential nights, or ``None`` when there is no potential."""
        potential = self.potential_nights
        return self.bed_nights / potential if potential > 0 else None

    @property
    def cost(self) -> float:
        """Bed-nights × price per night, over every house."""
        return sum(h.cost for h in self.houses)


# ---------------------------------------------------------------------------------------------
# Which versions count
# ---------------------------------------------------------------------------------------------


def _year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _overlaps(first: dt.date, last: dt.date, year: int) -> bool:
    start, end = _year_bounds(year)
    return first <= end and last >= start


def _newest_per_round(items: Iterable[V]) -> list[V]:
    """Drop replaced versions, then keep the newest version of each round (by first night)."""
    newest: dict[dt.date, V] = {}
    for item in items:
        if item.replaced_by is not None:
            continue
        kept = newest.get(item.round_start)
        if kept is None or item.version > kept.version:
            newest[item.round_start] = item
    return [newest[start] for start in sorted(newest)]


def versions_for_year(versions: Iterable[V], year: int) -> list[V]:
    """The versions to count for `year`: the newest of each round, rounds overlapping Y.

    "The municipality must be able to report, per year: bed-nights used, ..." (DOMAIN.md): a
    round published again replaces the earlier publication, so only the newest counts.

    Parameters
    ----------
    versions
        `Store.history()` (or anything with ``version, round_start, round_end, replaced_by``).
    year
        The calendar year.

    Returns
    -------
    list
        By round start.
    """
    return [v for v in _newest_per_round(versions) if _overlaps(v.round_start, v.round_end, year)]


def newest_plans(plans: Iterable[YearPlan]) -> list[YearPlan]:
    """The plans that count: replaced ones dropped, the newest version of each round kept.

    Parameters
    ----------
    plans
        Any published plans.

    Returns
    -------
    list of YearPlan
        By round start.
    """
    return _newest_per_round(plans)


# ---------------------------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------------------------


def _nights(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


def _iso_weeks(year: int) -> tuple[OccupancyWeek, ...]:
    """The ISO weeks touching `year`, each cut to the nights inside it."""
    weeks: dict[tuple[int, int], list[dt.date]] = {}
    for night in _nights(*_year_bounds(year)):
        iso = night.isocalendar()
        weeks.setdefault((iso.year, iso.week), []).append(night)
    return tuple(
        OccupancyWeek(iso_year, iso_week, nights[0], nights[-1])
        for (iso_year, iso_week), nights in weeks.items()
    )


def _potential_per_night(house: House, days_in_year: int) -> float:
    """A house's potential bed-nights on one night: a barnebolig place is used every night;
    "each place counts as 350 bed-nights a year" in a respite house (``nights_per_place_year``)."""
    if house.kind is HouseKind.BARNEBOLIG:
        return float(house.places)
    return house.places * house.nights_per_place_year / days_in_year


def yearly_figures(
    year: int, plans: Sequence[YearPlan], visiting: Sequence[VisitingHome]
) -> YearlyFigures:
    """Count the figures of calendar year `year`.

    "The municipality must be able to report, per year: bed-nights used, how many users had
    respite, and how many had a visiting family" (DOMAIN.md).

    Parameters
    ----------
    year
        The calendar year Y.
    plans
        The published rounds; replaced versions and older versions of a round are ignored
        (`newest_plans`), and only nights inside Y count.
    visiting
        The rows of ``visiting_homes.csv``; those overlapping Y count.

    Returns
    -------
    YearlyFigures
    """
    first_day, last_day = _year_bounds(year)
    days_in_year = 366 if calendar.isleap(year) else 365
    counted = newest_plans(plans)

    # Which house (places, price, kind) holds on each night of Y: the newest round wins.
    cover: dict[str, dict[dt.date, House]] = defaultdict(dict)
    covered: set[dt.date] = set()
    for plan in sorted(counted, key=lambda p: p.version):
        first = max(plan.round_start, first_day)
        last = min(plan.round_end, last_day)
        for night in _nights(first, last):
            covered.add(night)
            for house in plan.houses:
                cover[house.house_id][night] = house

    # Each child's night once (the newest round wins), with its kind and round.
    nights: dict[tuple[str, dt.date], tuple[Booking, str, YearPlan]] = {}
    for plan in sorted(counted, key=lambda p: p.version):
        for booking in plan.bookings:
            if first_day <= booking.night <= last_day:
                key = (booking.child_id, booking.night)
                nights[key] = (booking, plan.kinds.get(key, booking.kind), plan)

    by_kind: Counter[str] = Counter({kind: 0 for kind in BOOKING_KINDS})
    by_house: Counter[str] = Counter()
    cost: dict[str, float] = defaultdict(float)
    by_category: Counter[str] = Counter()
    by_level: Counter[str] = Counter()
    used: dict[str, Counter[dt.date]] = defaultdict(Counter)
    acute: list[Booking] = []
    children_of: dict[int, dict[str, RoundChildLike]] = {}
    for booking, kind, plan in nights.values():
        by_kind[kind] += 1
        by_house[booking.house_id] += 1
        used[booking.house_id][booking.night] += 1
        priced = cover.get(booking.house_id, {}).get(booking.night)
        cost[booking.house_id] += priced.price_per_night if priced is not None else 0.0
        if plan.version not in children_of:
            children_of[plan.version] = {c.child_id: c for c in plan.children}
        child = children_of[plan.version].get(booking.child_id)
        by_category[str(child.category) if child is not None else UNKNOWN] += 1
        by_level[str(child.level) if child is not None else UNKNOWN] += 1
        if kind == ACUTE:
            acute.append(booking)

    weeks = _iso_weeks(year)
    houses = tuple(
        _house_figures(
            house_id, cover.get(house_id, {}), used[house_id], cost[house_id], weeks, days_in_year
        )
        for house_id in sorted(set(cover) | set(by_house))
    )
    children_in_year = {child_id for child_id, _ in nights}
    visiting_children = {v.child_id for v in visiting if v.from_ <= last_day and v.to >= first_day}
    return YearlyFigures(
        year=year,
        versions=tuple(p.version for p in counted),
        days_in_year=days_in_year,
        covered_from=min(covered) if covered else None,
        covered_to=max(covered) if covered else None,
        covered_days=len(covered),
        bed_nights=len(nights),
        nights_by_kind=dict(by_kind),
        acute_stays=len(stays_from_bookings(acute)),
        users_with_respite=len(children_in_year),
        users_with_acute=len({b.child_id for b in acute}),
        users_with_visiting_family=len(visiting_children),
        houses=houses,
        by_category=dict(sorted(by_category.items())),
        by_level=dict(sorted(by_level.items())),
        weeks=weeks,
    )


def _house_figures(
    house_id: str,
    cover: Mapping[dt.date, House],
    used: Mapping[dt.date, int],
    cost: float,
    weeks: Sequence[OccupancyWeek],
    days_in_year: int,
) -> HouseFigures:
    """One house's figures from the nights its rounds cover and the nights it was used."""
    newest = cover[max(cover)] if cover else None
    capacity = [0] * len(weeks)
    booked = [0] * len(weeks)
    for i, week in enumerate(weeks):
        for night in _nights(week.first_night, week.last_night):
            house = cover.get(night)
            capacity[i] += house.places if house is not None else 0
            booked[i] += used.get(night, 0)
    weekly = tuple(b / c if c > 0 else None for b, c in zip(booked, capacity, strict=True))
    return HouseFigures(
        house_id=house_id,
        name=newest.name if newest is not None else house_id,
        kind=str(newest.kind) if newest is not None else UNKNOWN,
        places=newest.places if newest is not None else 0,
        price_per_night=newest.price_per_night if newest is not None else 0.0,
        covered_nights=len(cover),
        bed_nights=sum(used.values()),
        potential_nights=sum(_potential_per_night(h, days_in_year) for h in cover.values()),
        cost=cost,
        weekly=weekly,
    )
