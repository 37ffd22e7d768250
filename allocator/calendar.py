"""The nights of a round: night ↔ index, weekends, public and school holidays, high demand.

A night is named by the date of its evening (DOMAIN.md, contract v1): night ``2027-01-08`` is
Friday 8 → Saturday 9 January. Index ``i`` is the position of a night in the round, 0-based.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import holidays

from models.inputs import CalendarDay

PUBLIC_HOLIDAY = "public_holiday"
SCHOOL_HOLIDAY = "school_holiday"

_FRIDAY, _SATURDAY = 4, 5
_ONE_DAY = dt.timedelta(days=1)


def easter_sunday(year: int) -> dt.date:
    """Return Easter Sunday of a Gregorian year (anonymous Gregorian algorithm).

    Parameters
    ----------
    year
        The year, e.g. 2027.

    Returns
    -------
    datetime.date
        Easter Sunday, e.g. 2027-03-28.
    """
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def _is_christmas(day: dt.date) -> bool:
    """23 December – 1 January (the Christmas nights, both ends included)."""
    return (day.month == 12 and day.day >= 23) or (day.month == 1 and day.day == 1)


def _is_easter_week(day: dt.date) -> bool:
    """Palm Sunday (Easter − 7) through Easter Monday (påskeuka)."""
    easter = easter_sunday(day.year)
    return easter - dt.timedelta(days=7) <= day <= easter + _ONE_DAY


def _is_constitution_day(day: dt.date) -> bool:
    """17 May and its eve (the night of 16 May)."""
    return day.month == 5 and day.day in (16, 17)


def _library_public_holidays(years: Iterable[int]) -> dict[dt.date, str]:
    """Norwegian public holidays from the ``holidays`` library, Norwegian names, no Sundays."""
    table = holidays.country_holidays("NO", years=sorted(set(years)), language="no")
    return {day: str(name) for day, name in sorted(table.items())}


def _names_by_day(calendar_days: Sequence[CalendarDay], kind: str) -> dict[dt.date, str]:
    """Expand calendar rows of one kind into ``{day: name}`` (later rows extend earlier names)."""
    names: dict[dt.date, str] = {}
    for row in calendar_days:
        if row.kind != kind:
            continue
        for day in row.nights():
            label = row.name or kind.replace("_", " ")
            names[day] = f"{names[day]}; {label}" if day in names else label
    return names


@dataclass(frozen=True)
class RoundCalendar:
    """The nights of a round with their weekday and holiday facts, indexed 0..n-1.

    Build it with `RoundCalendar.build`. Per-night facts are precomputed tuples, so the
    ``is_*`` methods are O(1).

    Attributes
    ----------
    nights
        The round's nights in order, each named by its evening date.
    """

    nights: tuple[dt.date, ...]
    _index: dict[dt.date, int]
    _public: tuple[str | None, ...]
    _public_eve: tuple[bool, ...]
    _school: tuple[str | None, ...]

    @classmethod
    def build(
        cls, start: dt.date, end: dt.date, calendar_days: Sequence[CalendarDay] = ()
    ) -> RoundCalendar:
        """Build the calendar of the nights ``start..end`` (both included).

        Parameters
        ----------
        start, end
            First and last night of the round.
        calendar_days
            Rows of calendar.csv. Public holidays come from rows of kind ``public_holiday``;
            when there are none, from the ``holidays`` library's Norway calendar. School
            holidays come only from rows of kind ``school_holiday``
            (see `norwegian_calendar_days` for Bergen's defaults).

        Raises
        ------
        ValueError
            If ``end`` is before ``start``.
        """
        if end < start:
            raise ValueError(f"round end {end} is before its start {start}")
        nights = tuple(_days(start, end))
        public = _names_by_day(calendar_days, PUBLIC_HOLIDAY)
        if not public:
            public = _library_public_holidays(range(start.year, end.year + 2))
        school = _names_by_day(calendar_days, SCHOOL_HOLIDAY)
        return cls(
            nights=nights,
            _index={night: i for i, night in enumerate(nights)},
            _public=tuple(public.get(night) for night in nights),
            _public_eve=tuple(night + _ONE_DAY in public for night in nights),
            _school=tuple(school.get(night) for night in nights),
        )

    @property
    def n(self) -> int:
        """Number of nights in the round."""
        return len(self.nights)

    @property
    def start(self) -> dt.date:
        """First night of the round."""
        return self.nights[0]

    @property
    def end(self) -> dt.date:
        """Last night of the round."""
        return self.nights[-1]

    def __contains__(self, night: object) -> bool:
        return night in self._index

    def index(self, night: dt.date) -> int:
        """Return the index of ``night``; raise ``ValueError`` if it is outside the round."""
        try:
            return self._index[night]
        except KeyError:
            raise ValueError(
                f"night {night} is outside the round {self.start}..{self.end}"
            ) from None

    def _check(self, i: int) -> int:
        if not 0 <= i < len(self.nights):
            raise ValueError(f"night index {i} is outside 0..{len(self.nights) - 1}")
        return i

    def night(self, i: int) -> dt.date:
        """Return the date (evening) of night ``i``; raise ``ValueError`` if out of range."""
        return self.nights[self._check(i)]

    def is_weekend_night(self, i: int) -> bool:
        """True for Friday and Saturday nights."""
        return self.night(i).weekday() in (_FRIDAY, _SATURDAY)

    def is_public_holiday(self, i: int) -> bool:
        """True if the evening of night ``i`` is a public holiday (helligdag)."""
        return self._public[self._check(i)] is not None

    def is_public_holiday_eve(self, i: int) -> bool:
        """True if the day after night ``i`` is a public holiday (the night before it)."""
        return self._public_eve[self._check(i)]

    def is_school_holiday(self, i: int) -> bool:
        """True if the evening of night ``i`` falls in a school holiday (from the calendar rows)."""
        return self._school[self._check(i)] is not None

    def holiday_name(self, i: int) -> str | None:
        """The public holiday's name, else the school holiday's name, else ``None``."""
        self._check(i)
        return self._public[i] or self._school[i]

    def is_high_demand(self, i: int) -> bool:
        """True for nights families want most.

        Friday and Saturday nights, public holidays and their eves, Christmas (23 Dec – 1 Jan),
        Easter week (Palm Sunday – Easter Monday), 17 May and school holidays.
        """
        day = self.night(i)
        return (
            self.is_weekend_night(i)
            or self._public[i] is not None
            or self._public_eve[i]
            or self._school[i] is not None
            or _is_christmas(day)
            or _is_easter_week(day)
            or _is_constitution_day(day)
        )

    def week_of(self, i: int) -> int:
        """ISO week number of night ``i``."""
        return self.night(i).isocalendar().week

    def weekend_indices(self) -> list[int]:
        """Indices of all Friday and Saturday nights."""
        return [i for i in range(self.n) if self.is_weekend_night(i)]


# Bergen kommune school holidays (skoleruta), approximations: (first day, last day, name).
_BERGEN_SCHOOL_HOLIDAYS: dict[int, tuple[tuple[dt.date, dt.date, str], ...]] = {
    2026: (
        (dt.date(2026, 2, 23), dt.date(2026, 3, 1), "Vinterferie"),
        (dt.date(2026, 3, 30), dt.date(2026, 4, 6), "Påskeferie"),
        (dt.date(2026, 6, 20), dt.date(2026, 8, 16), "Sommerferie"),
        (dt.date(2026, 10, 5), dt.date(2026, 10, 11), "Høstferie"),
        (dt.date(2026, 12, 21), dt.date(2027, 1, 2), "Juleferie"),
    ),
    2027: (
        (dt.date(2027, 3, 1), dt.date(2027, 3, 7), "Vinterferie"),
        (dt.date(2027, 3, 22), dt.date(2027, 3, 29), "Påskeferie"),
        (dt.date(2027, 6, 19), dt.date(2027, 8, 16), "Sommerferie"),
        (dt.date(2027, 10, 11), dt.date(2027, 10, 17), "Høstferie"),
        (dt.date(2027, 12, 21), dt.date(2028, 1, 2), "Juleferie"),
    ),
    2028: (
        (dt.date(2028, 2, 28), dt.date(2028, 3, 5), "Vinterferie"),
        (dt.date(2028, 4, 10), dt.date(2028, 4, 17), "Påskeferie"),
        (dt.date(2028, 6, 20), dt.date(2028, 8, 16), "Sommerferie"),
        (dt.date(2028, 10, 9), dt.date(2028, 10, 15), "Høstferie"),
        (dt.date(2028, 12, 21), dt.date(2029, 1, 2), "Juleferie"),
    ),
}


def _approximate_school_holidays(year: int) -> tuple[tuple[dt.date, dt.date, str], ...]:
    """The same rules as the table, for years outside it."""
    easter = easter_sunday(year)
    return (
        (dt.date.fromisocalendar(year, 9, 1), dt.date.fromisocalendar(year, 9, 7), "Vinterferie"),
        (easter - dt.timedelta(days=6), easter + _ONE_DAY, "Påskeferie"),
        (dt.date(year, 6, 20), dt.date(year, 8, 16), "Sommerferie"),
        (dt.date.fromisocalendar(year, 41, 1), dt.date.fromisocalendar(year, 41, 7), "Høstferie"),
        (dt.date(year, 12, 21), dt.date(year + 1, 1, 2), "Juleferie"),
    )


def bergen_school_holidays(year: int) -> tuple[tuple[dt.date, dt.date, str], ...]:
    """Bergen kommune school holidays that start in ``year``: ``(first, last, name)``.

    The dates are **approximations** to be replaced by the school office's table (skoleruta
    from Bergen kommune, Etat for skole): vinterferie = ISO week 9, påskeferie = the Monday
    before Easter to Easter Monday, sommerferie ≈ 20 June – 16 August, høstferie = ISO week 41,
    juleferie ≈ 21 December – 2 January. 2026–2028 are hard-coded; other years follow the
    same rules.
    """
    return _BERGEN_SCHOOL_HOLIDAYS.get(year) or _approximate_school_holidays(year)


def norwegian_calendar_days(years: Iterable[int]) -> list[CalendarDay]:
    """Calendar rows for ``years``: Norwegian public holidays and Bergen school holidays.

    Public holidays come from ``holidays`` (Norway, Norwegian names, Sundays not counted), one
    row per day of kind ``public_holiday``. School holidays come from `bergen_school_holidays`,
    one row per holiday of kind ``school_holiday``; a holiday that overlaps one of the years
    is included whole (so juleferie reaching into January is kept).

    The school-holiday dates are approximations, to be replaced by the school office's table.

    Parameters
    ----------
    years
        Calendar years, e.g. ``[2027]``.

    Returns
    -------
    list[CalendarDay]
        Public holidays first (by date), then school holidays (by date).
    """
    wanted = sorted(set(years))
    rows = [
        CalendarDay.model_validate({"from": day, "to": day, "kind": PUBLIC_HOLIDAY, "name": name})
        for day, name in _library_public_holidays(wanted).items()
    ]
    seen: set[tuple[dt.date, dt.date]] = set()
    for year in range(wanted[0] - 1, wanted[-1] + 1) if wanted else ():
        for first, last, name in bergen_school_holidays(year):
            overlaps = any(first.year <= y <= last.year for y in wanted)
            if overlaps and (first, last) not in seen:
                seen.add((first, last))
                rows.append(
                    CalendarDay.model_validate(
                        {"from": first, "to": last, "kind": SCHOOL_HOLIDAY, "name": name}
                    )
                )
    return rows
