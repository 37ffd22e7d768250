"""Calendar workbook of a round's plan (``calendar.xlsx``), the sheet a coordinator opens.

Four sheets:

``Hus × natt``
    One row per house with places, one column per night; a cell reads ``booked/usable`` where
    usable places are ``places − closed − acute reserve`` (rule R2_HOUSE_CAPACITY), coloured
    from light (free) to warm (full), red when over capacity.
``Barn × natt``
    One row per child, one column per night; a booked night shows the house id on that house's
    colour, an unavailable night is grey with a short reason (``leir``, ``ferie``, ...), a night
    outside the child's vedtak is hatched dark grey.
``Hus``
    Legend: each house with its colour, nights allocated and its round budget (R3_HOUSE_BUDGET).
``Opphold``
    The stays (consecutive nights in one house) from `models.outputs.stays_from_bookings`.

A night is named by the date of its evening (DOMAIN.md, data contract v1). Friday and Saturday
nights are weekend nights. Every fill and font is created once (house colours once per call) and
reused, so ~400 children × 181 nights of a full round are written in a few seconds.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from allocator.calendar import RoundCalendar
from allocator.check.rules import house_budget, nightly_capacities
from allocator.io.atomic import atomic_write_bytes
from models.inputs import House, UnavailableReason
from models.outputs import Booking, stays_from_bookings
from models.round_input import RoundInput

__all__ = [
    "CHILD_LABELS",
    "HOUSE_LABELS",
    "HOUSE_PALETTE",
    "LEGEND_HEADERS",
    "REASON_CODES",
    "SHEET_CHILD_NIGHTS",
    "SHEET_HOUSES",
    "SHEET_HOUSE_NIGHTS",
    "SHEET_STAYS",
    "STAY_HEADERS",
    "house_colours",
    "night_header",
    "write_calendar_workbook",
]

SHEET_HOUSE_NIGHTS = "Hus × natt"
SHEET_CHILD_NIGHTS = "Barn × natt"
SHEET_HOUSES = "Hus"
SHEET_STAYS = "Opphold"

# Label columns left of the night columns in the two grids; the nights start right after them.
HOUSE_LABELS: tuple[str, ...] = ("house_id", "name", "places")
CHILD_LABELS: tuple[str, ...] = ("child_id", "category", "level", "granted", "allocated")
LEGEND_HEADERS: tuple[str, ...] = (
    "house_id",
    "name",
    "kind",
    "owner",
    "categories",
    "places",
    "colour",
    "nights_allocated",
    "budget_nights",
    "usable_place_nights",
)
STAY_HEADERS: tuple[str, ...] = (
    "child_id",
    "house_id",
    "first_night",
    "last_night",
    "check_out",
    "nights",
)

HEADER_ROWS = 2  # row 1: "fr 08.01", row 2: "uke 1" (merged over each ISO week)
NIGHT_WIDTH = 6.0

# Norwegian short weekday names, Monday first (date.weekday() order).
_WEEKDAYS_NO = ("ma", "ti", "on", "to", "fr", "lø", "sø")

# Short text written in a child's unavailable night: the reason's first letters.
REASON_CODES: dict[UnavailableReason, str] = {
    UnavailableReason.SOMMERLEIR: "leir",
    UnavailableReason.DAGSOMMERLEIR: "dagl",
    UnavailableReason.FERIETILBUD: "ferie",
    UnavailableReason.FAMILY: "fam",
    UnavailableReason.OTHER: "annet",
}

# One light colour per house, in the order of houses.csv; more houses get generated hues.
HOUSE_PALETTE: tuple[str, ...] = (
    "AED6F1",  # light blue
    "A9DFBF",  # light green
    "F9E79F",  # light yellow
    "F5B7B1",  # light pink
    "D2B4DE",  # lavender
    "FAD7A0",  # peach
    "A3E4D7",  # aqua
    "C5CAE9",  # periwinkle
    "DCEDC8",  # pale lime
    "FFCCBC",  # salmon
    "B2EBF2",  # cyan
    "E1BEE7",  # light purple
    "FFF59D",  # lemon
    "C8E6C9",  # mint
    "F8BBD0",  # rose
)


def _solid(rgb: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=rgb, end_color=rgb)


def _mix(a: str, b: str, t: float) -> str:
    """Blend two ``RRGGBB`` colours; ``t = 0`` gives ``a``, ``t = 1`` gives ``b``."""
    ca = [int(a[i : i + 2], 16) for i in (0, 2, 4)]
    cb = [int(b[i : i + 2], 16) for i in (0, 2, 4)]
    return "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(ca, cb, strict=True))


# --- Styles, each created once and shared by every cell that uses it. -------------------------

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=12)
_SMALL = Font(size=8)
_SMALL_GREY = Font(size=8, italic=True, color="404040")
_CONFLICT = Font(size=8, bold=True, color="C00000")  # booked on a night it must not be
_SHORT = Font(color="C00000")  # allocated < granted
_OVER = Font(bold=True, color="FFFFFF")  # house over its usable places

_CENTER = Alignment(horizontal="center", vertical="center")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)

_HEADER_FILL = _solid("F2F2F2")
_WEEKEND_FILL = _solid("BDD7EE")  # Friday and Saturday nights
_HOLIDAY_FILL = _solid("F8CBAD")  # public and school holidays (wins over weekend)
_UNAVAILABLE_FILL = _solid("BFBFBF")
_OUTSIDE_VEDTAK_FILL = PatternFill(fill_type="lightUp", start_color="595959", end_color="A6A6A6")
_CLOSED_FILL = _solid("D9D9D9")  # no usable place and nobody booked
_OVER_FILL = _solid("C00000")
_UNKNOWN_HOUSE_FILL = _solid("FFFFFF")

# Occupancy scale in tenths: 0 = free (pale green) → 0.5 (pale yellow) → 0.9 (orange); full is
# its own, warmest step so that a full house stands out from an almost full one.
_FREE, _HALF, _NEARLY, _FULL = "F1F8E9", "FFE9A8", "F4A261", "E76F51"
_SCALE: tuple[PatternFill, ...] = (
    *(_solid(_mix(_FREE, _HALF, i / 5)) for i in range(6)),
    *(_solid(_mix(_HALF, _NEARLY, i / 4)) for i in range(1, 5)),
    _solid(_FULL),
)


def night_header(night: dt.date) -> str:
    """Column header of a night: Norwegian short weekday and ``dd.mm``.

    Parameters
    ----------
    night : datetime.date
        The night, named by the date of its evening.

    Returns
    -------
    str
        For example ``"fr 08.01"`` for Friday 8 January.
    """
    return f"{_WEEKDAYS_NO[night.weekday()]} {night:%d.%m}"


def house_colours(house_ids: Iterable[str]) -> dict[str, str]:
    """Give each house one distinct light colour, ``RRGGBB``.

    The first 15 houses take `HOUSE_PALETTE` in order; further houses get light hues spread by
    the golden ratio, so the colours stay distinct and the same input gives the same colours.

    Parameters
    ----------
    house_ids : iterable of str
        House ids in the order they should take colours; duplicates are ignored.

    Returns
    -------
    dict of str to str
        House id → ``RRGGBB``.
    """
    colours: dict[str, str] = {}
    for house_id in house_ids:
        if house_id in colours:
            continue
        i = len(colours)
        if i < len(HOUSE_PALETTE):
            colours[house_id] = HOUSE_PALETTE[i]
        else:
            hue = (0.13 + 0.618033988749895 * i) % 1.0
            r, g, b = colorsys.hls_to_rgb(hue, 0.82, 0.6)
            colours[house_id] = f"{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"
    return colours


def _occupancy_style(booked: int, usable: int) -> tuple[PatternFill, Font | None]:
    """Fill (and font) of a house-night from its booked and usable places."""
    if booked > usable:
        return _OVER_FILL, _OVER
    if usable == 0:
        return _CLOSED_FILL, None
    if booked == usable:
        return _SCALE[-1], None
    return _SCALE[min(9, booked * 10 // usable)], None


def _categories_text(house: House) -> str:
    """``"2;3;(4)"``: accepted categories, then conditional ones in parentheses."""
    accepted = sorted(house.categories)
    conditional = [f"({c})" for c in sorted(house.conditional_categories)]
    return ";".join([*accepted, *conditional])


def _set_widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def _write_table_header(ws: Worksheet, headers: Sequence[str], row: int = 1) -> None:
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=col, value=text)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL


def _write_night_header(
    ws: Worksheet,
    cal: RoundCalendar,
    labels: Sequence[str],
    label_widths: Sequence[float],
    holidays: Mapping[dt.date, str],
    title: str,
) -> int:
    """Write the two header rows of a grid sheet and freeze them; return the first night column.

    Row 1 holds the title over the label columns and ``"fr 08.01"`` over each night, row 2 the
    label names and ``"uke 1"`` merged over each ISO week. Weekend nights and holidays are
    coloured in row 1; a holiday's name is the cell comment.
    """
    first = len(labels) + 1
    title_cell = ws.cell(row=1, column=1, value=title)
    title_cell.font = _TITLE
    _write_table_header(ws, labels, row=HEADER_ROWS)
    _set_widths(ws, label_widths)

    week_start = first
    for i, night in enumerate(cal.nights):
        col = first + i
        cell = ws.cell(row=1, column=col, value=night_header(night))
        cell.font = _BOLD
        cell.alignment = _HEADER_ALIGN
        name = holidays.get(night)
        if name:
            cell.fill = _HOLIDAY_FILL
            cell.comment = Comment(name, "allocator", width=160, height=40)
        elif cal.is_weekend_night(i):
            cell.fill = _WEEKEND_FILL
        else:
            cell.fill = _HEADER_FILL
        ws.column_dimensions[get_column_letter(col)].width = NIGHT_WIDTH
        if i + 1 == cal.n or cal.week_of(i + 1) != cal.week_of(i):
            week = ws.cell(row=2, column=week_start, value=f"uke {cal.week_of(i)}")
            week.font = _BOLD
            week.fill = _HEADER_FILL
            week.alignment = _CENTER
            if col > week_start:
                ws.merge_cells(start_row=2, start_column=week_start, end_row=2, end_column=col)
            week_start = col + 1

    ws.row_dimensions[1].height = 30
    ws.freeze_panes = ws.cell(row=HEADER_ROWS + 1, column=first).coordinate
    ws.print_title_rows = f"1:{HEADER_ROWS}"
    ws.print_title_cols = f"A:{get_column_letter(first - 1)}"
    ws.page_setup.orientation = "landscape"
    return first


def _write_house_nights(
    ws: Worksheet,
    inp: RoundInput,
    cal: RoundCalendar,
    booked: Mapping[tuple[str, int], int],
    usable: Mapping[str, list[int]],
    holidays: Mapping[dt.date, str],
    title: str,
) -> None:
    """Sheet "Hus × natt": booked/usable per house and night, plus a sum row."""
    first = _write_night_header(ws, cal, HOUSE_LABELS, (12, 34, 8), holidays, title)
    houses = [h for h in inp.houses if h.places > 0]
    row = HEADER_ROWS
    for row, house in enumerate(houses, start=HEADER_ROWS + 1):
        ws.cell(row=row, column=1, value=house.house_id)
        ws.cell(row=row, column=2, value=house.name)
        ws.cell(row=row, column=3, value=house.places)
        for i, places in enumerate(usable[house.house_id]):
            count = booked.get((house.house_id, i), 0)
            cell = ws.cell(row=row, column=first + i, value=f"{count}/{places}")
            cell.alignment = _CENTER
            cell.fill, font = _occupancy_style(count, places)
            if font is not None:
                cell.font = font
    if not houses:
        return
    total_row = row + 1
    label = ws.cell(row=total_row, column=1, value="Sum")
    label.font = _BOLD
    total_places = ws.cell(row=total_row, column=3, value=sum(h.places for h in houses))
    total_places.font = _BOLD
    for i in range(cal.n):
        count = sum(booked.get((h.house_id, i), 0) for h in houses)
        places = sum(usable[h.house_id][i] for h in houses)
        cell = ws.cell(row=total_row, column=first + i, value=f"{count}/{places}")
        cell.alignment = _CENTER
        cell.fill, font = _occupancy_style(count, places)
        cell.font = font if font is not None else _BOLD


def _write_child_nights(
    ws: Worksheet,
    inp: RoundInput,
    cal: RoundCalendar,
    child_rows: Sequence[str],
    placed: Mapping[tuple[str, int], list[str]],
    allocated: Mapping[str, int],
    house_fills: Mapping[str, PatternFill],
    holidays: Mapping[dt.date, str],
    title: str,
) -> None:
    """Sheet "Barn × natt": the house of each child each night, and its unavailable nights."""
    first = _write_night_header(ws, cal, CHILD_LABELS, (12, 9, 7, 9, 9), holidays, title)
    unavailable: dict[str, dict[dt.date, str]] = defaultdict(dict)
    for u in inp.unavailable:
        code = REASON_CODES.get(u.reason, str(u.reason)[:5])
        for night in u.nights():
            unavailable[u.child_id].setdefault(night, code)  # the first reason listed wins

    for row, child_id in enumerate(child_rows, start=HEADER_ROWS + 1):
        child = inp.child(child_id) if inp.has_child(child_id) else None
        ws.cell(row=row, column=1, value=child_id)
        got = allocated.get(child_id, 0)
        if child is not None:
            ws.cell(row=row, column=2, value=str(child.category))
            ws.cell(row=row, column=3, value=child.level)
            ws.cell(row=row, column=4, value=child.granted_nights)
        got_cell = ws.cell(row=row, column=5, value=got)
        if child is not None and got < child.granted_nights:
            got_cell.font = _SHORT
        marks = unavailable.get(child_id, {})
        for i, night in enumerate(cal.nights):
            outside = child is not None and not (child.vedtak_from <= night <= child.vedtak_to)
            reason = marks.get(night)
            houses = placed.get((child_id, i))
            if houses is None and not outside and reason is None:
                continue
            cell = ws.cell(row=row, column=first + i)
            cell.alignment = _CENTER
            if houses is not None:
                cell.value = "+".join(houses)
                cell.fill = house_fills.get(houses[0], _UNKNOWN_HOUSE_FILL)
                conflict = outside or reason is not None or len(houses) > 1
                cell.font = _CONFLICT if conflict else _SMALL
                continue
            cell.fill = _OUTSIDE_VEDTAK_FILL if outside else _UNAVAILABLE_FILL
            if reason is not None:
                cell.value = reason
                cell.font = _SMALL_GREY


def _write_legend(
    ws: Worksheet,
    inp: RoundInput,
    house_ids: Sequence[str],
    house_fills: Mapping[str, PatternFill],
    nights_per_house: Mapping[str, int],
    usable: Mapping[str, list[int]],
) -> None:
    """Sheet "Hus": one row per house with its colour, allocated nights and budget (R3)."""
    _write_table_header(ws, LEGEND_HEADERS)
    _set_widths(ws, (12, 34, 16, 13, 12, 8, 8, 16, 14, 19))
    row = 1
    for row, house_id in enumerate(house_ids, start=2):
        ws.cell(row=row, column=1, value=house_id)
        if inp.has_house(house_id):
            house = inp.house(house_id)
            ws.cell(row=row, column=2, value=house.name)
            ws.cell(row=row, column=3, value=str(house.kind))
            ws.cell(row=row, column=4, value=str(house.owner))
            ws.cell(row=row, column=5, value=_categories_text(house))
            ws.cell(row=row, column=6, value=house.places)
            ws.cell(row=row, column=9, value=house_budget(inp, house))  # None for a barnebolig
            ws.cell(row=row, column=10, value=sum(usable.get(house_id, [])))
        else:
            ws.cell(row=row, column=2, value="(not in houses.csv)")
        swatch = ws.cell(row=row, column=7, value=house_id)
        swatch.fill = house_fills.get(house_id, _UNKNOWN_HOUSE_FILL)
        swatch.font = _SMALL
        swatch.alignment = _CENTER
        ws.cell(row=row, column=8, value=nights_per_house.get(house_id, 0))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(LEGEND_HEADERS))}{row}"

    # Key to the grid colours and abbreviations, below the table.
    key_row = row + 2
    ws.cell(row=key_row, column=1, value="Forklaring").font = _BOLD
    entries: list[tuple[PatternFill, str, str]] = [
        (_WEEKEND_FILL, "", "helgenatt (fredag og lørdag)"),
        (_HOLIDAY_FILL, "", "helligdag / skoleferie (navn i kommentar)"),
        (_UNAVAILABLE_FILL, "", "barnet er ikke tilgjengelig"),
        (_OUTSIDE_VEDTAK_FILL, "", "utenfor vedtaksperioden"),
        (_SCALE[0], "0/4", "hus × natt: ledig"),
        (_SCALE[-1], "4/4", "hus × natt: fullt (plasser − stengt − akuttreserve)"),
        (_OVER_FILL, "5/4", "hus × natt: over kapasitet"),
    ]
    entries += [(_UNAVAILABLE_FILL, code, str(reason)) for reason, code in REASON_CODES.items()]
    for offset, (fill, sample, text) in enumerate(entries, start=1):
        sample_cell = ws.cell(row=key_row + offset, column=1, value=sample or None)
        sample_cell.alignment = _CENTER
        sample_cell.fill = fill
        if fill is _OVER_FILL:
            sample_cell.font = _OVER
        ws.cell(row=key_row + offset, column=2, value=text)


def _write_stays(
    ws: Worksheet, bookings: list[Booking], house_fills: Mapping[str, PatternFill]
) -> None:
    """Sheet "Opphold": one row per stay, check-out the day after the last night."""
    _write_table_header(ws, STAY_HEADERS)
    _set_widths(ws, (12, 12, 12, 12, 12, 8))
    row = 1
    for row, stay in enumerate(stays_from_bookings(bookings), start=2):
        ws.cell(row=row, column=1, value=stay.child_id)
        house = ws.cell(row=row, column=2, value=stay.house_id)
        house.fill = house_fills.get(stay.house_id, _UNKNOWN_HOUSE_FILL)
        for col, day in ((3, stay.first_night), (4, stay.last_night), (5, stay.check_out)):
            ws.cell(row=row, column=col, value=day).number_format = "yyyy-mm-dd"
        ws.cell(row=row, column=6, value=stay.nights)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(STAY_HEADERS))}{row}"


def write_calendar_workbook(
    inp: RoundInput,
    bookings: Sequence[Booking],
    path: Path,
    *,
    holidays: Mapping[dt.date, str] | None = None,
) -> None:
    """Write the round's plan as an Excel workbook for the coordinators.

    Sheets "Hus × natt" (booked/usable per house and night), "Barn × natt" (house per child
    and night, with unavailable nights and nights outside the vedtak marked), "Hus" (legend:
    colours, nights allocated, budget) and "Opphold" (stays). The grids freeze their two header
    rows and label columns, mark weekend nights (Friday and Saturday) and holidays in the header
    and give each holiday's name as a comment.

    Parameters
    ----------
    inp : RoundInput
        The round: nights, houses, children, unavailable nights, closures and acute reserve.
    bookings : sequence of Booking
        The plan, one booking per bed-night. Bookings on nights outside the round appear only in
        "Opphold"; bookings of unknown children or houses are shown, not dropped, so that a bad
        plan is visible (the checker reports it).
    path : pathlib.Path
        Where to write the ``.xlsx``. Written atomically: a temp file in the same folder, then
        `os.replace`; the folder is created if missing.
    holidays : mapping of datetime.date to str, optional
        Public and school holidays, night → name. ``None`` takes them from
        `allocator.calendar.RoundCalendar` built on ``inp.calendar`` (calendar.csv; public
        holidays from the ``holidays`` library when it lists none); pass ``{}`` for none.

    Returns
    -------
    None
    """
    cal = RoundCalendar.build(inp.config.start, inp.config.end, inp.calendar)
    if holidays is None:
        holidays = {
            night: name for i, night in enumerate(cal.nights) if (name := cal.holiday_name(i))
        }

    # One pass over the bookings; everything below reads these tables.
    distinct = sorted(set(bookings))  # a duplicated row is one bed-night
    placed: dict[tuple[str, int], list[str]] = {}
    booked: Counter[tuple[str, int]] = Counter()
    for b in distinct:
        if b.night not in cal:
            continue
        i = cal.index(b.night)
        placed.setdefault((b.child_id, i), []).append(b.house_id)
        booked[(b.house_id, i)] += 1
    allocated = Counter(child_id for child_id, _ in placed)
    nights_per_house: Counter[str] = Counter()
    for (house_id, _), count in booked.items():
        nights_per_house[house_id] += count

    known_houses = {h.house_id for h in inp.houses}
    house_ids = [h.house_id for h in inp.houses]
    house_ids += sorted({b.house_id for b in distinct} - known_houses)
    house_fills = {h: _solid(rgb) for h, rgb in house_colours(house_ids).items()}
    usable = {h.house_id: nightly_capacities(inp, h) for h in inp.houses}

    known_children = {c.child_id for c in inp.children}
    child_rows = [c.child_id for c in inp.children]
    child_rows += sorted({b.child_id for b in distinct} - known_children)

    title = f"Runde {inp.config.start.isoformat()} – {inp.config.end.isoformat()}"
    wb = Workbook()
    default = wb.active
    if default is not None:
        wb.remove(default)
    _write_house_nights(
        wb.create_sheet(SHEET_HOUSE_NIGHTS), inp, cal, booked, usable, holidays, title
    )
    _write_child_nights(
        wb.create_sheet(SHEET_CHILD_NIGHTS),
        inp,
        cal,
        child_rows,
        placed,
        allocated,
        house_fills,
        holidays,
        title,
    )
    _write_legend(
        wb.create_sheet(SHEET_HOUSES), inp, house_ids, house_fills, nights_per_house, usable
    )
    _write_stays(wb.create_sheet(SHEET_STAYS), distinct, house_fills)
    buffer = io.BytesIO()
    wb.save(buffer)
    atomic_write_bytes(path, buffer.getvalue())
