"""High-demand nights: the kinds of night every family wants, shared in proportion to grants.

"Det skal ... tas hensyn til ferieperioder og helge- og høytidsdager" (the guideline): weekends,
Christmas, Easter, 17 May, the summer holiday and the winter and autumn school breaks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from allocator.calendar import bergen_school_holidays, easter_sunday
from models.inputs import CalendarDay
from models.outputs import Booking
from models.round_input import RoundInput

DEMAND_KINDS: tuple[str, ...] = (
    "weekend",
    "christmas",
    "easter",
    "may17",
    "summer",
    "winter",
    "autumn",
)

_SCHOOL_BREAK_KIND = {"sommer": "summer", "vinter": "winter", "høst": "autumn", "host": "autumn"}


def _school_breaks(
    nights: Sequence[dt.date], calendar_days: Sequence[CalendarDay]
) -> dict[str, set[dt.date]]:
    """Summer, winter and autumn breaks from calendar.csv, else from the built-in table."""
    found: dict[str, set[dt.date]] = {"summer": set(), "winter": set(), "autumn": set()}
    rows = [(d.from_, d.to, d.name) for d in calendar_days if d.kind == "school_holiday"]
    if not rows and nights:
        for year in range(nights[0].year - 1, nights[-1].year + 1):
            rows.extend(bergen_school_holidays(year))
    for first, last, name in rows:
        kind = next((k for key, k in _SCHOOL_BREAK_KIND.items() if key in name.lower()), None)
        if kind is None:
            continue
        day = first
        while day <= last:
            found[kind].add(day)
            day += dt.timedelta(days=1)
    return found


def demand_nights(
    nights: Sequence[dt.date], calendar_days: Sequence[CalendarDay] = ()
) -> dict[str, frozenset[int]]:
    """Night indices of each high-demand kind (a night can be of several kinds).

    weekend = Friday and Saturday nights; christmas = 23 December – 1 January; easter = Palm
    Sunday's eve to Easter Monday; may17 = the nights of 16 and 17 May; summer, winter, autumn =
    the school breaks of that name.
    """
    breaks = _school_breaks(nights, calendar_days)
    kinds: dict[str, set[int]] = {k: set() for k in DEMAND_KINDS}
    for i, night in enumerate(nights):
        easter = easter_sunday(night.year)
        if night.weekday() in (4, 5):
            kinds["weekend"].add(i)
        if (night.month == 12 and night.day >= 23) or (night.month == 1 and night.day == 1):
            kinds["christmas"].add(i)
        if easter - dt.timedelta(days=8) <= night <= easter + dt.timedelta(days=1):
            kinds["easter"].add(i)
        if night.month == 5 and night.day in (16, 17):
            kinds["may17"].add(i)
        for kind in ("summer", "winter", "autumn"):
            if night in breaks[kind]:
                kinds[kind].add(i)
    return {k: frozenset(v) for k, v in kinds.items()}


@dataclass(frozen=True)
class KindShare:
    """Nights of one kind a family got, and its proportional (fair) share of them."""

    got: int
    share: float

    @property
    def deviation(self) -> float:
        return self.got - self.share


def demand_dates(
    nights: Sequence[dt.date], calendar_days: Sequence[CalendarDay] = ()
) -> dict[str, set[dt.date]]:
    """`demand_nights` as dates: the nights of each high-demand kind."""
    return {
        kind: {nights[i] for i in indices}
        for kind, indices in demand_nights(nights, calendar_days).items()
    }


def measured_kinds(pattern: str) -> tuple[str, ...]:
    """The kinds a family's fair share is measured for: weekend and weekday families get (or
    skip) weekends by their pattern, so their weekends are not measured; holidays always are."""
    if pattern in ("weekend", "weekdays"):
        return tuple(k for k in DEMAND_KINDS if k != "weekend")
    return DEMAND_KINDS


#: Families are compared with families of the same pattern, for each kind of night.
ShareKey = tuple[str, str]
"""(kind, pattern)"""


def proportional_scales(measured: Iterable[tuple[ShareKey, int, float]]) -> dict[ShareKey, float]:
    """How far the calendar shares of one kind and pattern must be scaled so that they add up
    to the nights of that kind those families got together: ``((kind, pattern), got, calendar
    share)`` triples in, one factor per kind and pattern out.

    A kind's nights are not there alike for every family: weekend families take most Friday
    and Saturday nights by their pattern, so the others as a whole get fewer weekends than the
    calendar has, and a family that comes for whole weeks gets two weekend nights a week by its
    pattern where a family with no pattern may get none. "Proportional" is therefore among
    families of the same pattern: the kind's nights they got together, split by their nights
    and the kind's share of their available nights. Without the scale every family but the
    weekend families would be "short" of weekends, which says nothing about fairness between
    them.
    """
    got: dict[ShareKey, float] = {}
    calendar: dict[ShareKey, float] = {}
    for key, n_got, share in measured:
        got[key] = got.get(key, 0.0) + n_got
        calendar[key] = calendar.get(key, 0.0) + share
    return {k: (got[k] / calendar[k] if calendar[k] > 0 else 1.0) for k in calendar}


def calendar_share(nights: int, of_kind: int, available: int) -> float:
    """A family's share of a kind before scaling: its nights × the share of its available
    nights that are of that kind."""
    return nights * of_kind / available if available else 0.0


def fair_shares(
    inp: RoundInput,
    bookings: Sequence[Booking],
    balance: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, dict[str, KindShare]]:
    """Each family's nights of each high-demand kind and its fair share of them: the kind's
    nights the measured families got together, split in proportion to each family's nights
    times the share of its available nights that are of that kind ("a family with twice the
    nights gets about twice the weekends"; see `proportional_scales`). ``balance`` (got − share
    from earlier rounds) is subtracted from the share, so a family that got less last time is
    owed more now. Barnebolig residents are not counted: they live there every night."""
    kinds = demand_nights(inp.nights, inp.calendar)
    start = inp.config.start
    families = [c for c in inp.children if c.level != 6 and c.granted_nights > 0]
    booked: dict[str, set[int]] = {c.child_id: set() for c in families}
    for b in bookings:
        if b.child_id in booked:
            booked[b.child_id].add((b.night - start).days)
    raw: dict[str, dict[str, tuple[int, float]]] = {}
    for child in families:
        available = set(inp.available_nights(child))
        mine = booked[child.child_id]
        raw[child.child_id] = {}
        for kind in measured_kinds(str(child.pattern)):
            of_kind = len(kinds[kind] & available)
            if of_kind == 0 or not available:
                continue
            share = calendar_share(len(mine), of_kind, len(available))
            raw[child.child_id][kind] = (len(mine & kinds[kind]), share)
    pattern = {c.child_id: str(c.pattern) for c in families}
    scales = proportional_scales(
        ((kind, pattern[child_id]), got, share)
        for child_id, per_kind in raw.items()
        for kind, (got, share) in per_kind.items()
    )
    result: dict[str, dict[str, KindShare]] = {}
    for child_id, per_kind in raw.items():
        result[child_id] = {}
        for kind, (got, share) in per_kind.items():
            owed = balance.get(child_id, {}).get(kind, 0.0) if balance else 0.0
            scaled = share * scales[(kind, pattern[child_id])]
            result[child_id][kind] = KindShare(got, scaled - owed)
    return result
