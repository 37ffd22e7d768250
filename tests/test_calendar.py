"""RoundCalendar: nights ↔ index, weekends, holidays, high demand; Bergen calendar rows."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from allocator.calendar import (
    PUBLIC_HOLIDAY,
    SCHOOL_HOLIDAY,
    RoundCalendar,
    bergen_school_holidays,
    easter_sunday,
    norwegian_calendar_days,
)
from models.inputs import CalendarDay

H1_2027 = (dt.date(2027, 1, 1), dt.date(2027, 6, 30))
H2_2027 = (dt.date(2027, 7, 1), dt.date(2027, 12, 31))


@pytest.fixture(scope="module")
def spring() -> RoundCalendar:
    """First half of 2027 with Bergen's calendar rows."""
    return RoundCalendar.build(*H1_2027, norwegian_calendar_days([2027]))


@pytest.fixture(scope="module")
def autumn() -> RoundCalendar:
    """Second half of 2027 without calendar rows (public holidays from the library)."""
    return RoundCalendar.build(*H2_2027)


def test_nights_count_and_order(spring: RoundCalendar, autumn: RoundCalendar) -> None:
    assert spring.n == 181 and autumn.n == 184
    assert spring.nights[0] == dt.date(2027, 1, 1) and spring.nights[-1] == dt.date(2027, 6, 30)
    steps = {b - a for a, b in itertools.pairwise(spring.nights)}
    assert steps == {dt.timedelta(days=1)}


def test_index_round_trip(spring: RoundCalendar) -> None:
    for i in range(spring.n):
        assert spring.index(spring.night(i)) == i
    assert spring.index(dt.date(2027, 5, 17)) == 136


@pytest.mark.parametrize("night", [dt.date(2026, 12, 31), dt.date(2027, 7, 1)])
def test_index_outside_round_raises_value_error(spring: RoundCalendar, night: dt.date) -> None:
    with pytest.raises(ValueError, match="outside the round"):
        spring.index(night)
    assert night not in spring


@pytest.mark.parametrize("i", [-1, 181])
def test_night_outside_range_raises_value_error(spring: RoundCalendar, i: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        spring.night(i)


def test_end_before_start_raises() -> None:
    with pytest.raises(ValueError, match="before"):
        RoundCalendar.build(dt.date(2027, 2, 1), dt.date(2027, 1, 1))


def test_friday_and_saturday_are_weekend_nights(spring: RoundCalendar) -> None:
    # Night 2027-01-08 is Friday 8 → Saturday 9 January.
    expected = {
        dt.date(2027, 1, 7): False,  # Thursday
        dt.date(2027, 1, 8): True,  # Friday
        dt.date(2027, 1, 9): True,  # Saturday
        dt.date(2027, 1, 10): False,  # Sunday
    }
    for night, weekend in expected.items():
        assert spring.is_weekend_night(spring.index(night)) is weekend
    assert len(spring.weekend_indices()) == 52


def test_easter_2027_is_28_march() -> None:
    assert easter_sunday(2027) == dt.date(2027, 3, 28)
    assert easter_sunday(2026) == dt.date(2026, 4, 5)
    assert easter_sunday(2028) == dt.date(2028, 4, 16)


@pytest.mark.parametrize("rows", [True, False])
def test_easter_and_17_may_are_public_holidays(rows: bool) -> None:
    days = norwegian_calendar_days([2027]) if rows else ()
    cal = RoundCalendar.build(*H1_2027, days)
    easter = cal.index(dt.date(2027, 3, 28))
    may17 = cal.index(dt.date(2027, 5, 17))
    assert cal.is_public_holiday(easter)
    assert cal.holiday_name(easter) == "Første påskedag"
    assert cal.is_public_holiday(may17)
    assert "Grunnlovsdag" in (cal.holiday_name(may17) or "")
    assert cal.is_public_holiday_eve(cal.index(dt.date(2027, 5, 16)))
    assert not cal.is_public_holiday(cal.index(dt.date(2027, 5, 18)))


def test_calendar_rows_replace_the_library() -> None:
    only = CalendarDay.model_validate(
        {"from": "2027-02-03", "to": "2027-02-03", "kind": PUBLIC_HOLIDAY, "name": "Testdag"}
    )
    cal = RoundCalendar.build(*H1_2027, [only])
    assert cal.is_public_holiday(cal.index(dt.date(2027, 2, 3)))
    assert cal.holiday_name(cal.index(dt.date(2027, 2, 3))) == "Testdag"
    assert not cal.is_public_holiday(cal.index(dt.date(2027, 5, 17)))


def test_school_holidays_only_from_rows(spring: RoundCalendar) -> None:
    winter = dt.date(2027, 3, 3)
    assert spring.is_school_holiday(spring.index(winter))
    assert spring.holiday_name(spring.index(winter)) == "Vinterferie"
    assert spring.is_school_holiday(spring.index(dt.date(2027, 1, 2)))  # juleferie 2026/27
    assert not spring.is_school_holiday(spring.index(dt.date(2027, 2, 10)))
    bare = RoundCalendar.build(*H1_2027)
    assert not any(bare.is_school_holiday(i) for i in range(bare.n))


def test_high_demand_nights(autumn: RoundCalendar, spring: RoundCalendar) -> None:
    high = [
        (autumn, dt.date(2027, 12, 23)),  # Christmas, a Thursday
        (autumn, dt.date(2027, 12, 28)),  # between Christmas and New Year, a Tuesday
        (autumn, dt.date(2027, 10, 15)),  # Friday
        (spring, dt.date(2027, 3, 23)),  # Tuesday of Easter week
        (spring, dt.date(2027, 5, 16)),  # eve of 17 May
        (spring, dt.date(2027, 5, 17)),  # 17 May
        (spring, dt.date(2027, 5, 5)),  # eve of Kristi himmelfartsdag, a Wednesday
        (spring, dt.date(2027, 3, 2)),  # vinterferie, a Tuesday
    ]
    for cal, night in high:
        assert cal.is_high_demand(cal.index(night)), night
    low = [(autumn, dt.date(2027, 9, 14)), (spring, dt.date(2027, 2, 9))]
    for cal, night in low:
        assert not cal.is_high_demand(cal.index(night)), night


def test_week_of_is_iso_week(spring: RoundCalendar) -> None:
    assert spring.week_of(0) == 53  # 1 January 2027 belongs to ISO week 53 of 2026
    assert spring.week_of(spring.index(dt.date(2027, 1, 4))) == 1
    assert spring.week_of(spring.index(dt.date(2027, 3, 1))) == 9


def test_norwegian_calendar_days_rows() -> None:
    rows = norwegian_calendar_days([2027])
    public = [r for r in rows if r.kind == PUBLIC_HOLIDAY]
    school = [r for r in rows if r.kind == SCHOOL_HOLIDAY]
    assert all(r.from_ == r.to for r in public)  # one row per day
    assert len({r.from_ for r in public}) == len(public) == 11
    assert all(r.name for r in rows)
    spans = {(r.name, r.from_, r.to) for r in school}
    assert ("Påskeferie", dt.date(2027, 3, 22), dt.date(2027, 3, 29)) in spans
    assert ("Vinterferie", dt.date(2027, 3, 1), dt.date(2027, 3, 7)) in spans
    assert ("Høstferie", dt.date(2027, 10, 11), dt.date(2027, 10, 17)) in spans
    assert ("Juleferie", dt.date(2026, 12, 21), dt.date(2027, 1, 2)) in spans
    assert ("Juleferie", dt.date(2027, 12, 21), dt.date(2028, 1, 2)) in spans


@pytest.mark.parametrize("year", [2026, 2027, 2028, 2031])
def test_bergen_school_holidays_follow_the_rules(year: int) -> None:
    names = [name for *_, name in bergen_school_holidays(year)]
    assert names == ["Vinterferie", "Påskeferie", "Sommerferie", "Høstferie", "Juleferie"]
    winter, easter, summer, autumn, christmas = bergen_school_holidays(year)
    assert winter[0].isocalendar().week == 9 and winter[0].weekday() == 0
    assert easter[1] == easter_sunday(year) + dt.timedelta(days=1)
    assert easter[0] == easter_sunday(year) - dt.timedelta(days=6)
    assert dt.date(year, 6, 17) <= summer[0] <= dt.date(year, 6, 22)
    assert dt.date(year, 8, 14) <= summer[1] <= dt.date(year, 8, 18)
    assert autumn[0].isocalendar().week == 41
    assert christmas[0] == dt.date(year, 12, 21) and christmas[1] == dt.date(year + 1, 1, 2)
