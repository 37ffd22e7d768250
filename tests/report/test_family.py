"""Tests of the family outputs (`allocator.report.family`): iCalendar files and letters.

A tiny round across New Year: the 10 nights Monday 28 December 2026 – Wednesday 6 January 2027,
2 houses, 3 children.

* B0001 (granted 5): H1 nights 28–29 Dec, H1 nights 31 Dec – 1 Jan (covers Første nyttårsdag),
  H2 night 2 Jan (a house switch makes a new stay) → 5 nights in 3 stays, no shortfall.
* B0002 (granted 4): H2 nights 4–5 Jan → 2 nights in 1 stay, 2 short.
* B0003 (granted 3): no bookings → a letter, no calendar.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Component, Timezone

from allocator.report.family import (
    NO_MONTHS,
    NO_WEEKDAYS,
    family_calendar,
    family_letter,
    norwegian_date,
    norwegian_period,
    stay_uid,
    write_family_calendars,
    write_family_letters,
)
from models.config import RoundConfig
from models.inputs import Child, House
from models.outputs import Booking, Stay
from models.round_input import RoundInput

OSLO = ZoneInfo("Europe/Oslo")
START = dt.date(2026, 12, 28)  # Monday
END = dt.date(2027, 1, 6)  # Wednesday
STAMP = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
HOLIDAYS = {dt.date(2027, 1, 1): "Første nyttårsdag"}


def _house(house_id: str, name: str) -> House:
    return House(
        house_id=house_id,
        name=name,
        kind="avlastningsbolig",
        owner="kommunal",
        places=2,
        categories="2;3;4",
        night_watch=True,
    )


def _child(child_id: str, granted: int) -> Child:
    return Child(
        child_id=child_id,
        birth_date=dt.date(2012, 3, 1),
        category="3",
        level=2,
        granted_nights=granted,
        vedtak_from=dt.date(2026, 7, 1),
        vedtak_to=dt.date(2027, 6, 30),
    )


def _book(child_id: str, house_id: str, *nights: dt.date) -> list[Booking]:
    return [Booking(child_id, house_id, night) for night in nights]


def _d(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, day)


@pytest.fixture()
def inp() -> RoundInput:
    return RoundInput(
        config=RoundConfig(start=START, end=END),
        houses=(
            _house("H1", "Vestlund avlastningsbolig"),
            _house("H2", "Sverresborg avlastningsbolig"),
        ),
        children=(_child("B0001", 5), _child("B0002", 4), _child("B0003", 3)),
    )


@pytest.fixture()
def bookings() -> list[Booking]:
    return [
        *_book("B0001", "H1", _d(2026, 12, 28), _d(2026, 12, 29)),
        *_book("B0001", "H1", _d(2026, 12, 31), _d(2027, 1, 1)),
        *_book("B0001", "H2", _d(2027, 1, 2)),
        *_book("B0002", "H2", _d(2027, 1, 4), _d(2027, 1, 5)),
    ]


def _read(path: Path) -> Calendar:
    return Calendar.from_ical(path.read_bytes())


def _events(cal: Calendar) -> list[Component]:
    return list(cal.walk("VEVENT"))


# --- Norwegian dates ----------------------------------------------------------------------


@pytest.mark.parametrize("month", range(1, 13))
def test_month_names_are_norwegian(month: int) -> None:
    expected = [
        *("januar", "februar", "mars", "april", "mai", "juni"),
        *("juli", "august", "september", "oktober", "november", "desember"),
    ]
    assert norwegian_date(dt.date(2027, month, 3)) == f"3. {expected[month - 1]}"
    assert NO_MONTHS[month - 1] == expected[month - 1]


def test_weekday_names_are_norwegian() -> None:
    monday = dt.date(2027, 1, 4)
    names = [norwegian_date(monday + dt.timedelta(days=k), weekday=True) for k in range(7)]
    assert names == [
        "mandag 4. januar",
        "tirsdag 5. januar",
        "onsdag 6. januar",
        "torsdag 7. januar",
        "fredag 8. januar",
        "lørdag 9. januar",
        "søndag 10. januar",
    ]
    assert NO_WEEKDAYS[6] == "søndag"


def test_period_writes_the_year_once_or_twice() -> None:
    assert norwegian_period(_d(2027, 1, 4), _d(2027, 6, 30)) == "4. januar – 30. juni 2027"
    assert norwegian_period(START, END) == "28. desember 2026 – 6. januar 2027"


# --- iCalendar ----------------------------------------------------------------------------


def test_one_file_per_child_with_bookings(
    inp: RoundInput, bookings: list[Booking], tmp_path: Path
) -> None:
    written = write_family_calendars(inp, bookings, tmp_path, stamp=STAMP)
    assert written == [tmp_path / "B0001.ics", tmp_path / "B0002.ics"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["B0001.ics", "B0002.ics"]


def test_events_are_the_stays_with_times_in_oslo(
    inp: RoundInput, bookings: list[Booking], tmp_path: Path
) -> None:
    write_family_calendars(inp, bookings, tmp_path, stamp=STAMP)
    cal = _read(tmp_path / "B0001.ics")
    assert str(cal["VERSION"]) == "2.0"
    events = _events(cal)
    got = [
        (
            str(e["SUMMARY"]),
            str(e["LOCATION"]),
            e.decoded("DTSTART"),
            e.decoded("DTEND"),
        )
        for e in events
    ]
    assert got == [
        (
            "Avlastning – Vestlund avlastningsbolig",
            "Vestlund avlastningsbolig",
            dt.datetime(2026, 12, 28, 16, 0, tzinfo=OSLO),
            dt.datetime(2026, 12, 30, 10, 0, tzinfo=OSLO),
        ),
        (
            "Avlastning – Vestlund avlastningsbolig",
            "Vestlund avlastningsbolig",
            dt.datetime(2026, 12, 31, 16, 0, tzinfo=OSLO),
            dt.datetime(2027, 1, 2, 10, 0, tzinfo=OSLO),
        ),
        (
            "Avlastning – Sverresborg avlastningsbolig",
            "Sverresborg avlastningsbolig",
            dt.datetime(2027, 1, 2, 16, 0, tzinfo=OSLO),
            dt.datetime(2027, 1, 3, 10, 0, tzinfo=OSLO),
        ),
    ]
    for e in events:
        assert e["DTSTART"].params["TZID"] == "Europe/Oslo"
        assert e["DTEND"].params["TZID"] == "Europe/Oslo"
        start = e.decoded("DTSTART")
        assert start.utcoffset() == dt.timedelta(hours=1)  # CET in winter
        assert e.decoded("DTSTAMP") == STAMP
    assert [str(e["DESCRIPTION"]).split(" avlastning")[0] for e in events] == [
        "2 døgn",
        "2 døgn",
        "1 døgn",
    ]
    assert "B0002" not in (tmp_path / "B0001.ics").read_text(encoding="utf-8")


def test_vtimezone_matches_the_tz_database(
    inp: RoundInput, bookings: list[Booking], tmp_path: Path
) -> None:
    write_family_calendars(inp, bookings, tmp_path, stamp=STAMP)
    cal = _read(tmp_path / "B0002.ics")
    zones = [z for z in cal.walk("VTIMEZONE") if isinstance(z, Timezone)]
    assert [str(z["TZID"]) for z in zones] == ["Europe/Oslo"]
    tz = zones[0].to_tz()
    for moment in (dt.datetime(2027, 1, 4, 16), dt.datetime(2027, 7, 1, 16)):
        assert moment.replace(tzinfo=tz).utcoffset() == moment.replace(tzinfo=OSLO).utcoffset()


def test_summer_stay_is_in_summer_time(tmp_path: Path) -> None:
    summer = RoundInput(
        config=RoundConfig(start=_d(2027, 6, 1), end=_d(2027, 6, 30)),
        houses=(_house("H1", "Vestlund avlastningsbolig"),),
        children=(_child("B0001", 2),),
    )
    write_family_calendars(
        summer, _book("B0001", "H1", _d(2027, 6, 4), _d(2027, 6, 5)), tmp_path, stamp=STAMP
    )
    (event,) = _events(_read(tmp_path / "B0001.ics"))
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start.astimezone(dt.UTC) == dt.datetime(2027, 6, 4, 14, 0, tzinfo=dt.UTC)
    assert end.astimezone(dt.UTC) == dt.datetime(2027, 6, 6, 8, 0, tzinfo=dt.UTC)


def test_uid_is_stable_across_runs(
    inp: RoundInput, bookings: list[Booking], tmp_path: Path
) -> None:
    write_family_calendars(inp, bookings, tmp_path / "a", stamp=STAMP)
    write_family_calendars(inp, list(reversed(bookings)), tmp_path / "b")  # now as DTSTAMP
    uids_a = [str(e["UID"]) for e in _events(_read(tmp_path / "a" / "B0001.ics"))]
    uids_b = [str(e["UID"]) for e in _events(_read(tmp_path / "b" / "B0001.ics"))]
    assert uids_a == uids_b
    assert uids_a == [
        "B0001-H1-2026-12-28@avlastning.bergen.kommune.no",
        "B0001-H1-2026-12-31@avlastning.bergen.kommune.no",
        "B0001-H2-2027-01-02@avlastning.bergen.kommune.no",
    ]
    assert stay_uid(Stay("B0002", "H2", _d(2027, 1, 4), _d(2027, 1, 5))) == (
        "B0002-H2-2027-01-04@avlastning.bergen.kommune.no"
    )


def test_duplicate_bookings_and_unknown_house(inp: RoundInput) -> None:
    plan = [*_book("B0001", "HX", _d(2027, 1, 4)), *_book("B0001", "HX", _d(2027, 1, 4))]
    (event,) = _events(family_calendar(inp, plan, "B0001", stamp=STAMP))
    assert str(event["LOCATION"]) == "HX"
    assert event.decoded("DTEND") == dt.datetime(2027, 1, 5, 10, 0, tzinfo=OSLO)


def test_unsafe_child_id_is_refused(inp: RoundInput, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file name"):
        write_family_calendars(inp, _book("../B0001", "H1", START), tmp_path, stamp=STAMP)


# --- Letters ------------------------------------------------------------------------------


def test_letter_lists_every_stay(inp: RoundInput, bookings: list[Booking]) -> None:
    text = family_letter(inp, bookings, "B0001", holidays=HOLIDAYS)
    lines = text.splitlines()
    assert lines[0] == "Avlastning 28. desember 2026 – 6. januar 2027"
    assert "Til foresatte for B0001" in lines
    assert (
        "Dere har vedtak om 5 døgn avlastning i perioden 28. desember 2026 – 6. januar 2027. "
        "Vi har satt opp 5 døgn fordelt på 3 opphold." in lines
    )
    assert [line for line in lines if line.startswith("- ")] == [
        "- mandag 28. desember 2026 – onsdag 30. desember 2026 (2 døgn), Vestlund avlastningsbolig",
        "- torsdag 31. desember 2026 – lørdag 2. januar 2027 (2 døgn), "
        "Vestlund avlastningsbolig. Helligdag/ferie: Første nyttårsdag",
        "- lørdag 2. januar 2027 – søndag 3. januar 2027 (1 døgn), Sverresborg avlastningsbolig",
    ]
    assert "kl. 16:00" in text and "kl. 10:00" in text
    assert "Vi kunne ikke sette opp" not in text
    assert "Endringer i datoene må avtales med avlastningsboligen." in lines
    assert lines[-1] == "Avlastningsenheten, Bergen kommune"
    assert "B0002" not in text and "B0003" not in text


def test_letter_within_one_year_omits_the_year_on_stays() -> None:
    inp = RoundInput(
        config=RoundConfig(start=_d(2027, 1, 4), end=_d(2027, 6, 30)),
        houses=(_house("H1", "Vestlund avlastningsbolig"),),
        children=(_child("B0001", 24),),
    )
    text = family_letter(inp, _book("B0001", "H1", _d(2027, 1, 8), _d(2027, 1, 9)), "B0001")
    assert text.startswith("Avlastning 4. januar – 30. juni 2027\n")
    assert "- fredag 8. januar – søndag 10. januar (2 døgn), Vestlund avlastningsbolig\n" in text
    assert "Vi har satt opp 2 døgn fordelt på 1 opphold." in text
    assert "Vi kunne ikke sette opp alle døgnene dere har vedtak om: 22 døgn av 24" in text


def test_shortfall_sentence_only_when_short(inp: RoundInput, bookings: list[Booking]) -> None:
    short = family_letter(inp, bookings, "B0002", holidays={})
    assert "Vi har satt opp 2 døgn fordelt på 1 opphold." in short
    assert "Vi kunne ikke sette opp alle døgnene dere har vedtak om: 2 døgn av 4" in short
    assert "ta kontakt med Avlastningsenheten, Bergen kommune" in short
    assert (
        "- mandag 4. januar 2027 – onsdag 6. januar 2027 (2 døgn), Sverresborg avlastningsbolig"
        in short
    )
    full = family_letter(inp, bookings, "B0001", holidays={})
    assert "Vi kunne ikke" not in full
    assert "Helligdag" not in full  # {} names no holiday


def test_letter_without_stays(inp: RoundInput, bookings: list[Booking]) -> None:
    text = family_letter(inp, bookings, "B0003", holidays={})
    assert "Dere har vedtak om 3 døgn avlastning" in text
    assert "Vi har foreløpig ikke satt opp noen opphold." in text
    assert "Oppholdene:" not in text
    assert "3 døgn av 3 er ikke satt opp" in text


def test_holidays_default_to_the_round_calendar(inp: RoundInput, bookings: list[Booking]) -> None:
    text = family_letter(inp, bookings, "B0001")  # public holidays from the holidays library
    assert "Helligdag/ferie: Første nyttårsdag" in text


def test_letter_for_unknown_child(inp: RoundInput, bookings: list[Booking]) -> None:
    with pytest.raises(KeyError):
        family_letter(inp, bookings, "B9999")


def test_write_letters(inp: RoundInput, bookings: list[Booking], tmp_path: Path) -> None:
    written = write_family_letters(inp, bookings, tmp_path / "families", holidays=HOLIDAYS)
    assert [p.name for p in written] == ["B0001.txt", "B0002.txt", "B0003.txt"]
    for path in written:
        expected = family_letter(inp, bookings, path.stem, holidays=HOLIDAYS)
        assert path.read_bytes() == expected.encode("utf-8")
    assert not [p for p in (tmp_path / "families").iterdir() if p.name.startswith(".")]


def test_no_letter_without_grant_or_bookings(tmp_path: Path) -> None:
    inp = RoundInput(
        config=RoundConfig(start=START, end=END),
        houses=(_house("H1", "Vestlund avlastningsbolig"),),
        children=(_child("B0001", 0), _child("B0002", 2)),
    )
    written = write_family_letters(inp, [], tmp_path, holidays={})
    assert [p.name for p in written] == ["B0002.txt"]


def test_grant_period_is_the_vedtak_within_the_round() -> None:
    child = _child("B0001", 10).model_copy(update={"vedtak_from": _d(2027, 2, 1)})
    inp = RoundInput(
        config=RoundConfig(start=_d(2027, 1, 4), end=_d(2027, 6, 30)),
        houses=(_house("H1", "Vestlund avlastningsbolig"),),
        children=(child,),
    )
    text = family_letter(inp, [], "B0001", holidays={})
    assert text.startswith("Avlastning 4. januar – 30. juni 2027\n")
    assert "Dere har vedtak om 10 døgn avlastning i perioden 1. februar – 30. juni 2027." in text
