"""Week-by-week roster of each house: who arrives, who leaves and who sleeps there each day.

A night is named by the date of its evening (DOMAIN.md, contract v1). On the day ``d`` of a
house's roster:

* **arrivals** check in that afternoon (a stay whose first night is ``d``),
* **departures** check out that morning (a stay whose last night is ``d − 1``),
* **staying** are booked in the house on night ``d``,
* **usable** places are ``places − closed − acute reserve`` on night ``d`` (rule
  R2_HOUSE_CAPACITY, `allocator.check.rules.nightly_capacities`), and **free** places are
  ``usable − staying`` (negative when the house is overbooked).

The roster has one day per night of the round, plus the morning after the round's last night
when children check out then (``in_round`` false, no places). `write_house_rosters` writes one
CSV per house and one workbook ``rosters.xlsx`` with a sheet per house, laid out in blocks of
ISO weeks (Monday–Sunday).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from allocator.check.rules import nightly_capacities
from allocator.io.atomic import atomic_write_bytes, write_csv_rows
from allocator.report.family import NO_WEEKDAYS, norwegian_period, round_holidays
from models.inputs import House
from models.outputs import Booking, stays_from_bookings
from models.round_input import RoundInput

__all__ = [
    "CSV_HEADERS",
    "ROSTER_WORKBOOK",
    "SHEET_HEADERS",
    "RosterDay",
    "house_roster",
    "write_house_rosters",
]

CSV_HEADERS: tuple[str, ...] = (
    "week",
    "date",
    "weekday",
    "arrivals",
    "departures",
    "staying",
    "occupied",
    "usable",
    "free",
)
SHEET_HEADERS: tuple[str, ...] = ("Dag", "Dato", "Inn", "Ut", "Overnatter", "Ledige", "Merknad")
ROSTER_WORKBOOK = "rosters.xlsx"
HEADER_ROWS = 2  # row 1: title, row 2: column headers

_ONE_DAY = dt.timedelta(days=1)
_FRIDAY, _SATURDAY = 4, 5


@dataclass(frozen=True)
class RosterDay:
    """One day (and the night that starts that evening) in one house.

    Attributes
    ----------
    date : datetime.date
        The day; the night of the same name starts that evening.
    weekday : str
        Norwegian weekday name, lower case (``"fredag"``).
    week : int
        ISO week number of `date`.
    arrivals : tuple of str
        Child ids checking in that afternoon, sorted.
    departures : tuple of str
        Child ids checking out that morning, sorted.
    staying : tuple of str
        Child ids in the house that night, sorted.
    places : int
        The house's places.
    closed : int
        Places closed that night (closures.csv).
    reserve : int
        Places held free for acute respite (round.toml ``acute_reserve``).
    usable : int
        Places that may be booked: ``max(0, places − closed − reserve)``; 0 for the day after
        the round.
    holiday : str
        Name of the public or school holiday of that night, or ``""``.
    in_round : bool
        False only for the morning after the round's last night (departures only).
    """

    date: dt.date
    weekday: str
    week: int
    arrivals: tuple[str, ...]
    departures: tuple[str, ...]
    staying: tuple[str, ...]
    places: int
    closed: int
    reserve: int
    usable: int
    holiday: str = ""
    in_round: bool = True

    @property
    def occupied(self) -> int:
        """Number of children in the house that night."""
        return len(self.staying)

    @property
    def free(self) -> int:
        """Usable places left that night; negative when the house is overbooked."""
        return self.usable - self.occupied

    @property
    def iso_year(self) -> int:
        """ISO year of `date` (the year `week` belongs to)."""
        return self.date.isocalendar().year

    @property
    def is_weekend_night(self) -> bool:
        """True on Fridays and Saturdays (weekend nights, as everywhere in the allocator)."""
        return self.date.weekday() in (_FRIDAY, _SATURDAY)


def _closed_per_night(inp: RoundInput, house: House) -> list[int]:
    """Places closed on each night of the round (sum over overlapping closures)."""
    closures = [c for c in inp.closures if c.house_id == house.house_id]
    return [sum(c.places_closed for c in closures if c.contains(night)) for night in inp.nights]


def house_roster(
    inp: RoundInput,
    bookings: Sequence[Booking],
    house_id: str,
    *,
    holidays: Mapping[dt.date, str] | None = None,
) -> list[RosterDay]:
    """The day-by-day roster of one house over the round.

    Parameters
    ----------
    inp : RoundInput
        The round: nights, the house's places, closures and acute reserve.
    bookings : sequence of Booking
        The plan; bookings of other houses are ignored and a duplicated booking counts once.
        Bookings outside the round count only for arrivals and departures on round days.
    house_id : str
        The house.
    holidays : mapping of datetime.date to str, optional
        Night → holiday name for `RosterDay.holiday`. ``None`` takes them from the round's
        calendar (`allocator.report.family.round_holidays`); ``{}`` names none.

    Returns
    -------
    list of RosterDay
        One day per night of the round in date order, then the day after the round's last
        night if any child checks out that morning.

    Raises
    ------
    KeyError
        If the house is not in houses.csv.
    """
    house = inp.house(house_id)
    if holidays is None:
        holidays = round_holidays(inp)
    own = sorted({b for b in bookings if b.house_id == house_id})
    staying: dict[dt.date, set[str]] = {}
    for b in own:
        staying.setdefault(b.night, set()).add(b.child_id)
    arrivals: dict[dt.date, set[str]] = {}
    departures: dict[dt.date, set[str]] = {}
    for stay in stays_from_bookings(own):
        arrivals.setdefault(stay.first_night, set()).add(stay.child_id)
        departures.setdefault(stay.check_out, set()).add(stay.child_id)

    usable = nightly_capacities(inp, house)
    closed = _closed_per_night(inp, house)
    reserve = inp.config.acute_reserve.get(house_id, 0)
    days: list[RosterDay] = []
    for i, night in enumerate(inp.nights):
        days.append(
            RosterDay(
                date=night,
                weekday=NO_WEEKDAYS[night.weekday()],
                week=night.isocalendar().week,
                arrivals=tuple(sorted(arrivals.get(night, ()))),
                departures=tuple(sorted(departures.get(night, ()))),
                staying=tuple(sorted(staying.get(night, ()))),
                places=house.places,
                closed=closed[i],
                reserve=reserve,
                usable=usable[i],
                holiday=holidays.get(night, ""),
            )
        )
    after = inp.config.end + _ONE_DAY
    if departures.get(after):
        days.append(
            RosterDay(
                date=after,
                weekday=NO_WEEKDAYS[after.weekday()],
                week=after.isocalendar().week,
                arrivals=(),
                departures=tuple(sorted(departures[after])),
                staying=(),
                places=house.places,
                closed=0,
                reserve=0,
                usable=0,
                holiday="",
                in_round=False,
            )
        )
    return days


# --- Workbook ---------------------------------------------------------------------------------


def _solid(rgb: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=rgb, end_color=rgb)


_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=12)
_GREY = Font(italic=True, color="808080")
_OVER = Font(bold=True, color="C00000")
_WRAP = Alignment(vertical="top", wrap_text=True)
_CENTER = Alignment(horizontal="center", vertical="top")
_HEADER_FILL = _solid("F2F2F2")
_WEEK_FILL = _solid("D9E1F2")
_WEEKEND_FILL = _solid("BDD7EE")  # Friday and Saturday nights, as in calendar.xlsx
_HOLIDAY_FILL = _solid("F8CBAD")  # public and school holidays (wins over weekend)
_OUTSIDE_FILL = _solid("EDEDED")  # days of the week outside the round
_WEEK_TOP = Border(top=Side(style="medium", color="808080"))
_WIDTHS = (10, 11, 22, 22, 40, 8, 28)


def _sheet_title(house_id: str, used: set[str]) -> str:
    """An Excel sheet name (≤ 31 characters) from the house id, unique in the workbook."""
    base = house_id[:31]
    title, n = base, 2
    while title.lower() in used:
        suffix = f"~{n}"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def _remark(day: RosterDay) -> str:
    """The Merknad cell: holiday, closed places, overbooking, day after the round."""
    parts: list[str] = []
    if day.holiday:
        parts.append(day.holiday)
    if day.closed:
        parts.append(f"{day.closed} {'plass' if day.closed == 1 else 'plasser'} stengt")
    if day.in_round and day.free < 0:
        parts.append(f"overbooket med {-day.free}")
    if not day.in_round:
        parts.append("etter perioden (bare utsjekk)")
    return "; ".join(parts)


def _week_label(monday: dt.date) -> str:
    sunday = monday + dt.timedelta(days=6)
    week = monday.isocalendar().week
    return f"Uke {week} · {norwegian_period(monday, sunday)}"


def _write_roster_sheet(
    ws: Worksheet, inp: RoundInput, house: House, roster: Sequence[RosterDay]
) -> None:
    """One house: title, frozen header, then a block per ISO week with rows Monday–Sunday."""
    reserve = inp.config.acute_reserve.get(house.house_id, 0)
    title = (
        f"{house.name} ({house.house_id}), {norwegian_period(inp.config.start, inp.config.end)}:"
        f" {house.places} plasser, {reserve} holdt av til akuttavlastning"
    )
    ws.cell(row=1, column=1, value=title).font = _TITLE
    for col, text in enumerate(SHEET_HEADERS, start=1):
        cell = ws.cell(row=HEADER_ROWS, column=col, value=text)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
    for col, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=HEADER_ROWS + 1, column=1).coordinate
    ws.print_title_rows = f"1:{HEADER_ROWS}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)

    by_date = {day.date: day for day in roster}
    mondays = sorted({day.date - dt.timedelta(days=day.date.weekday()) for day in roster})
    row = HEADER_ROWS
    for monday in mondays:
        row += 1
        for col in range(1, len(SHEET_HEADERS) + 1):
            band = ws.cell(row=row, column=col)
            band.fill = _WEEK_FILL
            band.border = _WEEK_TOP
        ws.cell(row=row, column=1, value=_week_label(monday)).font = _BOLD
        for offset in range(7):
            row += 1
            date = monday + dt.timedelta(days=offset)
            _write_day_row(ws, row, date, by_date.get(date))


def _write_day_row(ws: Worksheet, row: int, date: dt.date, day: RosterDay | None) -> None:
    """One row of a week block; a day outside the roster shows only its weekday and date."""
    ws.cell(row=row, column=1, value=NO_WEEKDAYS[date.weekday()])
    date_cell = ws.cell(row=row, column=2, value=date)
    date_cell.number_format = "dd.mm.yyyy"
    if day is None:
        fill, font = _OUTSIDE_FILL, _GREY
    else:
        ws.cell(row=row, column=3, value=", ".join(day.arrivals) or None)
        ws.cell(row=row, column=4, value=", ".join(day.departures) or None)
        ws.cell(row=row, column=5, value=", ".join(day.staying) or None)
        free = ws.cell(row=row, column=6, value=day.free if day.in_round else None)
        free.alignment = _CENTER
        if day.in_round and day.free < 0:
            free.font = _OVER
        ws.cell(row=row, column=7, value=_remark(day) or None)
        fill, font = None, None
        if not day.in_round:
            fill, font = _OUTSIDE_FILL, _GREY
        elif day.holiday:
            fill = _HOLIDAY_FILL
        elif day.is_weekend_night:
            fill = _WEEKEND_FILL
    for col in range(1, len(SHEET_HEADERS) + 1):
        cell = ws.cell(row=row, column=col)
        if col != 6:
            cell.alignment = _WRAP
        if fill is not None:
            cell.fill = fill
        if font is not None and col in (1, 2):
            cell.font = font


def _write_key(ws: Worksheet) -> None:
    """Sheet "Forklaring": what the columns and colours mean."""
    ws.cell(row=1, column=1, value="Forklaring").font = _TITLE
    rows: list[tuple[PatternFill | None, str, str]] = [
        (None, "Inn", "barn som sjekker inn denne ettermiddagen (kl. 16:00)"),
        (None, "Ut", "barn som sjekker ut denne morgenen (kl. 10:00)"),
        (None, "Overnatter", "barn som sover i huset natten som begynner denne kvelden"),
        (None, "Ledige", "plasser − stengte plasser − akuttreserve − overnattende"),
        (_WEEKEND_FILL, "", "helgenatt (fredag og lørdag)"),
        (_HOLIDAY_FILL, "", "helligdag / skoleferie (navn i Merknad)"),
        (_OUTSIDE_FILL, "", "utenfor perioden"),
    ]
    for row, (fill, label, text) in enumerate(rows, start=3):
        cell = ws.cell(row=row, column=1, value=label or None)
        cell.font = _BOLD
        if fill is not None:
            cell.fill = fill
        ws.cell(row=row, column=2, value=text)
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 60


def write_house_rosters(
    inp: RoundInput,
    bookings: Sequence[Booking],
    out_dir: Path,
    *,
    holidays: Mapping[dt.date, str] | None = None,
) -> list[Path]:
    """Write each house's roster as ``<house_id>.csv`` and all of them as ``rosters.xlsx``.

    Only houses with places get a roster. The CSV columns are `CSV_HEADERS` (child ids
    ``;``-joined, dates ISO, weekday in Norwegian); the workbook has one sheet per house with
    a frozen header and a block per ISO week (rows Monday–Sunday; columns Inn, Ut, Overnatter,
    Ledige, Merknad), weekend nights and holidays shaded, and a last sheet "Forklaring".

    Parameters
    ----------
    inp : RoundInput
        The round.
    bookings : sequence of Booking
        The plan.
    out_dir : pathlib.Path
        Target folder; created if missing. Every file is written atomically.
    holidays : mapping of datetime.date to str, optional
        As in `house_roster`; computed once for all houses when ``None``.

    Returns
    -------
    list of pathlib.Path
        The CSV files in the order of houses.csv, then the workbook.
    """
    out_dir = Path(out_dir)
    if holidays is None:
        holidays = round_holidays(inp)
    distinct = sorted(set(bookings))
    wb = Workbook()
    default = wb.active
    if default is not None:
        wb.remove(default)
    used_titles: set[str] = set()
    written: list[Path] = []
    for house in inp.houses:
        if house.places <= 0:
            continue
        roster = house_roster(inp, distinct, house.house_id, holidays=holidays)
        path = out_dir / f"{house.house_id}.csv"
        write_csv_rows(
            path,
            list(CSV_HEADERS),
            (
                (
                    day.week,
                    day.date,
                    day.weekday,
                    ";".join(day.arrivals),
                    ";".join(day.departures),
                    ";".join(day.staying),
                    day.occupied,
                    day.usable,
                    day.free,
                )
                for day in roster
            ),
        )
        written.append(path)
        ws = wb.create_sheet(_sheet_title(house.house_id, used_titles))
        _write_roster_sheet(ws, inp, house, roster)
    _write_key(wb.create_sheet(_sheet_title("Forklaring", used_titles)))
    buffer = io.BytesIO()
    wb.save(buffer)
    path = out_dir / ROSTER_WORKBOOK
    atomic_write_bytes(path, buffer.getvalue())
    written.append(path)
    return written
