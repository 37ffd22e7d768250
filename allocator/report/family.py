"""What a family receives: its stays as an iCalendar file and a short letter in Norwegian bokmål.

Per child with bookings, `write_family_calendars` writes ``<child_id>.ics`` with one event per
stay (consecutive nights in one house, `models.outputs.stays_from_bookings`): check-in at 16:00
on the first night's date, check-out at 10:00 the day after the last night, both in
Europe/Oslo with a VTIMEZONE derived from the time-zone database. Per child with a grant,
`write_family_letters` writes ``<child_id>.txt``: the grant, the planned stays with Norwegian
weekdays and dates, the holidays they cover, a shortfall sentence when fewer nights were
planned than granted, and whom to contact.

A night is named by the date of its evening (DOMAIN.md, contract v1). Only pseudonymous child
ids appear (``"Til foresatte for B0001"``), never a name. Month and weekday names are
hard-coded, so the text does not depend on the machine's locale.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from allocator.calendar import RoundCalendar
from allocator.io.atomic import atomic_write_bytes, atomic_write_text
from models.outputs import Booking, Stay, stays_from_bookings
from models.round_input import RoundInput

__all__ = [
    "CHECK_IN",
    "CHECK_OUT",
    "CONTACT",
    "NO_MONTHS",
    "NO_WEEKDAYS",
    "TIMEZONE",
    "UID_DOMAIN",
    "family_calendar",
    "family_letter",
    "norwegian_date",
    "norwegian_period",
    "round_holidays",
    "stay_uid",
    "write_family_calendars",
    "write_family_letters",
]

TIMEZONE = "Europe/Oslo"
CHECK_IN = dt.time(16, 0)  # afternoon of the first night's date
CHECK_OUT = dt.time(10, 0)  # morning after the last night
UID_DOMAIN = "avlastning.bergen.kommune.no"
CONTACT = "Avlastningsenheten, Bergen kommune"
PRODID = "-//Bergen kommune//Avlastning//NO"

# Norwegian bokmål names, hard-coded: Monday first (date.weekday()), January first.
NO_WEEKDAYS: tuple[str, ...] = (
    "mandag",
    "tirsdag",
    "onsdag",
    "torsdag",
    "fredag",
    "lørdag",
    "søndag",
)
NO_MONTHS: tuple[str, ...] = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)

# A child id becomes a file name: no path separators, no leading dot tricks beyond the contract.
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


def norwegian_date(day: dt.date, *, weekday: bool = False, year: bool = False) -> str:
    """Format a date the Norwegian way, independent of the locale.

    Parameters
    ----------
    day : datetime.date
        The date.
    weekday : bool, optional
        Put the weekday name first (``"fredag 8. januar"``).
    year : bool, optional
        Add the year (``"8. januar 2027"``).

    Returns
    -------
    str
        For example ``"fredag 8. januar 2027"`` with both options.
    """
    text = f"{day.day}. {NO_MONTHS[day.month - 1]}"
    if year:
        text += f" {day.year}"
    if weekday:
        text = f"{NO_WEEKDAYS[day.weekday()]} {text}"
    return text


def norwegian_period(first: dt.date, last: dt.date) -> str:
    """Format a closed date range: ``"4. januar – 30. juni 2027"``.

    The year is written once when both ends share it, else on both ends
    (``"28. desember 2026 – 6. januar 2027"``).

    Parameters
    ----------
    first, last : datetime.date
        First and last day, both included.

    Returns
    -------
    str
        The range with an en dash between spaced ends.
    """
    same_year = first.year == last.year
    return f"{norwegian_date(first, year=not same_year)} – {norwegian_date(last, year=True)}"


def stay_uid(stay: Stay) -> str:
    """Stable iCalendar UID of a stay: ``<child_id>-<house_id>-<first_night>@<domain>``.

    Parameters
    ----------
    stay : Stay
        The stay.

    Returns
    -------
    str
        For example ``"B0001-H1-2027-01-08@avlastning.bergen.kommune.no"``; the same stay gets
        the same UID on every run, so a calendar client updates the event instead of adding one.
    """
    return f"{stay.child_id}-{stay.house_id}-{stay.first_night.isoformat()}@{UID_DOMAIN}"


def round_holidays(inp: RoundInput) -> dict[dt.date, str]:
    """Holiday names of the round's nights, night → name.

    Parameters
    ----------
    inp : RoundInput
        The round; its ``calendar`` rows (calendar.csv) name public and school holidays, and
        when they list no public holiday the ``holidays`` library's Norway calendar is used
        (`allocator.calendar.RoundCalendar`).

    Returns
    -------
    dict of datetime.date to str
        Only the nights that have a name: the public holiday's, else the school holiday's.
    """
    cal = RoundCalendar.build(inp.config.start, inp.config.end, inp.calendar)
    return {night: name for i, night in enumerate(cal.nights) if (name := cal.holiday_name(i))}


def _check_id(child_id: str) -> str:
    """Refuse a child id that is not safe as a file name."""
    if not _SAFE_ID.fullmatch(child_id) or child_id in {".", ".."}:
        raise ValueError(f"child id {child_id!r} cannot be used as a file name")
    return child_id


def _house_name(inp: RoundInput, house_id: str) -> str:
    """The house's name from houses.csv, or its id when the plan names an unknown house."""
    return inp.house(house_id).name if inp.has_house(house_id) else house_id


def _stays_by_child(bookings: Iterable[Booking]) -> dict[str, list[Stay]]:
    """The stays of each child, in date order; a duplicated booking is one bed-night."""
    result: dict[str, list[Stay]] = {}
    for stay in stays_from_bookings(sorted(set(bookings))):
        result.setdefault(stay.child_id, []).append(stay)
    for stays in result.values():
        stays.sort(key=lambda s: (s.first_night, s.house_id))
    return result


def _nights_text(nights: int) -> str:
    return f"{nights} døgn"  # døgn is the same in singular and plural


def _holiday_names(stay: Stay, holidays: Mapping[dt.date, str]) -> list[str]:
    """Distinct holiday names of the stay's nights, in date order."""
    names: list[str] = []
    for k in range(stay.nights):
        for name in holidays.get(stay.first_night + dt.timedelta(days=k), "").split(";"):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return names


def family_calendar(
    inp: RoundInput,
    bookings: Iterable[Booking],
    child_id: str,
    *,
    stamp: dt.datetime | None = None,
) -> Calendar:
    """Build the iCalendar of one child's stays.

    Parameters
    ----------
    inp : RoundInput
        The round, for house names.
    bookings : iterable of Booking
        The plan; only this child's bookings are used, grouped into stays.
    child_id : str
        The child (pseudonym).
    stamp : datetime.datetime, optional
        DTSTAMP of every event; now (UTC) when ``None``. A naive datetime is taken as UTC.

    Returns
    -------
    icalendar.Calendar
        VCALENDAR with one VEVENT per stay and a VTIMEZONE for Europe/Oslo.
    """
    tz = ZoneInfo(TIMEZONE)
    if stamp is None:
        stamp = dt.datetime.now(dt.UTC)
    elif stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    stamp = stamp.astimezone(dt.UTC).replace(microsecond=0)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Avlastning {child_id}")
    cal.add("x-wr-timezone", TIMEZONE)
    own = _stays_by_child(b for b in bookings if b.child_id == child_id).get(child_id, [])
    for stay in own:
        name = _house_name(inp, stay.house_id)
        event = Event()
        event.add("uid", stay_uid(stay))
        event.add("dtstamp", stamp)
        event.add("dtstart", dt.datetime.combine(stay.first_night, CHECK_IN, tzinfo=tz))
        event.add("dtend", dt.datetime.combine(stay.check_out, CHECK_OUT, tzinfo=tz))
        event.add("summary", f"Avlastning – {name}")
        event.add("location", name)
        event.add(
            "description",
            f"{_nights_text(stay.nights)} avlastning i {name}. "
            f"Innsjekk kl. {CHECK_IN:%H:%M}, utsjekk kl. {CHECK_OUT:%H:%M}. "
            "Endringer må avtales med avlastningsboligen.",
        )
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    if own:
        # VTIMEZONE from the tz database, covering the events with a year's margin each side.
        first = dt.date(own[0].first_night.year - 1, 1, 1)
        last = dt.date(max(s.check_out for s in own).year + 2, 1, 1)
        cal.add_missing_timezones(first_date=first, last_date=last)
    return cal


def write_family_calendars(
    inp: RoundInput,
    bookings: Sequence[Booking],
    out_dir: Path,
    *,
    stamp: dt.datetime | None = None,
) -> list[Path]:
    """Write one iCalendar file per child with bookings, ``out_dir/<child_id>.ics``.

    Each stay is one event: SUMMARY ``"Avlastning – <house name>"``, LOCATION the house name,
    DTSTART the first night's date at 16:00 and DTEND the day after the last night at 10:00
    (TZID Europe/Oslo, with its VTIMEZONE), DESCRIPTION with the number of nights, a stable UID
    (`stay_uid`) and DTSTAMP.

    Parameters
    ----------
    inp : RoundInput
        The round, for house names (an unknown house is shown by its id).
    bookings : sequence of Booking
        The plan, one booking per bed-night.
    out_dir : pathlib.Path
        Target folder; created if missing. Each file is written atomically.
    stamp : datetime.datetime, optional
        DTSTAMP of the events; now (UTC) when ``None``.

    Returns
    -------
    list of pathlib.Path
        The files written, in child-id order.

    Raises
    ------
    ValueError
        If a child id in the bookings is not safe as a file name.
    """
    out_dir = Path(out_dir)
    by_child: dict[str, list[Booking]] = {}
    for b in bookings:
        by_child.setdefault(b.child_id, []).append(b)
    if stamp is None:
        stamp = dt.datetime.now(dt.UTC)  # one DTSTAMP for the whole run
    written: list[Path] = []
    for child_id, own in sorted(by_child.items()):
        path = out_dir / f"{_check_id(child_id)}.ics"
        cal = family_calendar(inp, own, child_id, stamp=stamp)
        atomic_write_bytes(path, cal.to_ical())
        written.append(path)
    return written


def _grant_period(inp: RoundInput, child_id: str) -> tuple[dt.date, dt.date]:
    """The round's nights that the child's vedtak covers (the whole round if they do not meet)."""
    start, end = inp.config.start, inp.config.end
    if not inp.has_child(child_id):
        return start, end
    child = inp.child(child_id)
    first, last = max(start, child.vedtak_from), min(end, child.vedtak_to)
    return (first, last) if first <= last else (start, end)


def family_letter(
    inp: RoundInput,
    bookings: Sequence[Booking],
    child_id: str,
    *,
    holidays: Mapping[dt.date, str] | None = None,
    contact: str = CONTACT,
) -> str:
    """The letter to a child's family about its planned respite, in Norwegian bokmål.

    Heading ``"Avlastning <round start> – <round end>"``, the addressee
    ``"Til foresatte for <child_id>"``, the granted and planned nights, one line per stay
    (``"fredag 8. januar – søndag 10. januar (2 døgn), Vestlund avlastningsbolig"``, with the
    holidays the stay covers), check-in and check-out times, a shortfall sentence only when
    fewer nights were planned than granted, that changes must be agreed with the house, and the
    contact line.

    Parameters
    ----------
    inp : RoundInput
        The round: dates, the child's grant (``granted_nights`` for this round) and house names.
    bookings : sequence of Booking
        The plan; only this child's bookings are used.
    child_id : str
        The child (pseudonym, e.g. ``"B0001"``).
    holidays : mapping of datetime.date to str, optional
        Night → holiday name. ``None`` takes them from the round's calendar
        (`round_holidays`); pass ``{}`` to name none.
    contact : str, optional
        Who the family contacts; ``"Avlastningsenheten, Bergen kommune"`` by default.

    Returns
    -------
    str
        The letter, lines separated by ``\\n``, ending with a newline.

    Raises
    ------
    KeyError
        If the child is not in the round's children.
    """
    if not inp.has_child(child_id):
        raise KeyError(f"child {child_id!r} is not in the round's children")
    if holidays is None:
        holidays = round_holidays(inp)
    child = inp.child(child_id)
    stays = _stays_by_child(b for b in bookings if b.child_id == child_id).get(child_id, [])
    granted = child.granted_nights
    planned = sum(s.nights for s in stays)
    first, last = _grant_period(inp, child_id)
    years = {inp.config.start.year, inp.config.end.year}
    years |= {d.year for s in stays for d in (s.first_night, s.check_out)}
    with_year = len(years) > 1

    lines = [
        f"Avlastning {norwegian_period(inp.config.start, inp.config.end)}",
        "",
        f"Til foresatte for {child_id}",
        "",
    ]
    summary = (
        f"Dere har vedtak om {_nights_text(granted)} avlastning i perioden "
        f"{norwegian_period(first, last)}."
    )
    if stays:
        summary += f" Vi har satt opp {_nights_text(planned)} fordelt på {len(stays)} opphold."
    else:
        summary += " Vi har foreløpig ikke satt opp noen opphold."
    lines += [summary, ""]

    if stays:
        lines.append("Oppholdene:")
        for stay in stays:
            line = (
                f"- {norwegian_date(stay.first_night, weekday=True, year=with_year)}"
                f" – {norwegian_date(stay.check_out, weekday=True, year=with_year)}"
                f" ({_nights_text(stay.nights)}), {_house_name(inp, stay.house_id)}"
            )
            names = _holiday_names(stay, holidays)
            if names:
                line += f". Helligdag/ferie: {', '.join(names)}"
            lines.append(line)
        lines += [
            "",
            f"Innsjekk er kl. {CHECK_IN:%H:%M} den første dagen og utsjekk "
            f"kl. {CHECK_OUT:%H:%M} den siste dagen i hvert opphold.",
            "",
        ]

    if planned < granted:
        missing = granted - planned
        lines += [
            f"Vi kunne ikke sette opp alle døgnene dere har vedtak om: {_nights_text(missing)} "
            f"av {granted} er ikke satt opp. Vi arbeider med å finne ledige døgn; ta kontakt "
            f"med {contact} hvis dere har spørsmål eller ønsker om datoer.",
            "",
        ]

    lines += [
        "Endringer i datoene må avtales med avlastningsboligen.",
        "",
        "Med vennlig hilsen",
        contact,
    ]
    return "\n".join(lines) + "\n"


def write_family_letters(
    inp: RoundInput,
    bookings: Sequence[Booking],
    out_dir: Path,
    *,
    holidays: Mapping[dt.date, str] | None = None,
    contact: str = CONTACT,
) -> list[Path]:
    """Write `family_letter` of every child with a grant to ``out_dir/<child_id>.txt``.

    Parameters
    ----------
    inp : RoundInput
        The round. A letter is written for each child with ``granted_nights > 0`` or with
        bookings in the plan.
    bookings : sequence of Booking
        The plan.
    out_dir : pathlib.Path
        Target folder; created if missing. Each file is UTF-8, written atomically.
    holidays : mapping of datetime.date to str, optional
        As in `family_letter`; computed once for all letters when ``None``.
    contact : str, optional
        As in `family_letter`.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of children.csv.

    Raises
    ------
    ValueError
        If a child id is not safe as a file name.
    """
    out_dir = Path(out_dir)
    if holidays is None:
        holidays = round_holidays(inp)
    booked = {b.child_id for b in bookings}
    written: list[Path] = []
    for child in inp.children:
        if child.granted_nights <= 0 and child.child_id not in booked:
            continue
        path = out_dir / f"{_check_id(child.child_id)}.txt"
        text = family_letter(inp, bookings, child.child_id, holidays=holidays, contact=contact)
        atomic_write_text(path, text)
        written.append(path)
    return written
