"""`read_round` on valid input in the shapes people save: CSV variants and an xlsx workbook."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
from io_helpers import VALID, RoundWriter, write_files

from allocator.io.reader import read_round
from models.inputs import HouseKind, Pattern, UnavailableReason, WishKind


def test_valid_folder_reads_every_file(make_round: RoundWriter) -> None:
    folder = make_round()
    inp = read_round(folder)

    assert inp.source == str(folder)
    assert inp.config.start == dt.date(2027, 1, 1)
    assert inp.config.end == dt.date(2027, 6, 30)
    assert inp.config.n_nights == 181
    assert inp.config.seed == 7
    assert inp.config.time_limit == 30
    assert inp.config.acute_reserve == {"H02": 1}
    assert inp.config.weights.nights == 120

    assert [h.house_id for h in inp.houses] == ["H01", "H02", "H03"]
    h01 = inp.house("H01")
    assert h01.categories == frozenset({"2", "3"})
    assert h01.conditional_categories == frozenset({"4"})
    assert h01.night_watch is True
    assert h01.price_per_night == 4500
    assert inp.house("H03").kind is HouseKind.BARNEBOLIG

    assert [c.child_id for c in inp.children] == ["B0001", "B0002", "B0003"]
    b1 = inp.child("B0001")
    assert b1.birth_date == dt.date(2012, 3, 4)
    assert b1.category == "3"
    assert b1.pattern is Pattern.WEEKEND
    assert b1.home_house == "H01"
    assert b1.under_10_exception is False

    assert inp.unavailable[0].from_ == dt.date(2027, 6, 20)
    assert inp.unavailable[0].reason is UnavailableReason.SOMMERLEIR
    assert inp.wishes[0].kind is WishKind.WANT
    assert inp.wishes[0].weight == 5
    assert inp.closures[0].places_closed == 2
    assert inp.calendar[0].name == "Påske"


def test_incompatible_pair_listed_twice_is_kept_once(make_round: RoundWriter) -> None:
    inp = read_round(make_round())
    assert [(p.child_a, p.child_b) for p in inp.incompatible] == [("B0001", "B0002")]


def test_optional_files_may_be_missing(make_round: RoundWriter) -> None:
    folder = make_round(
        unavailable_csv=None,
        wishes_csv=None,
        incompatible_csv=None,
        closures_csv=None,
        calendar_csv=None,
    )
    inp = read_round(folder)
    assert inp.unavailable == inp.wishes == inp.incompatible == inp.closures == ()
    assert inp.calendar == ()


def test_header_only_optional_file_is_empty(make_round: RoundWriter) -> None:
    inp = read_round(make_round(wishes_csv="child_id,from,to,kind,weight\n", closures_csv=""))
    assert inp.wishes == ()
    assert inp.closures == ()


def test_semicolon_cp1252_norwegian_dates_and_booleans(tmp_path: Path) -> None:
    files = {
        "houses.csv": (
            "House_ID;Name;Kind;Owner;Places;Categories;Conditional_categories;Night_watch\r\n"
            "H01;Åsane avlastningsbolig;avlastningsbolig;kommunal;4;2 3;4;ja\r\n"
            "H02;Vestlund;avlastningsbolig;kommunal;10;4;;JA\r\n"
            "H03;Utsikten;barnebolig;kommunal;3;5;;nei\r\n"
        ),
        "children.csv": (
            " child_id ;birth_date;category;level;granted_nights;vedtak_from;vedtak_to;"
            "pattern;home_house;under_10_exception;interdisciplinary_assessment\r\n"
            "B0001;04.03.2019;3;2;20;01.01.2027;30.06.2027;weekend;H01;ja;nei\r\n"
            "B0002;6.5.2010;4;3;40;01.01.2027;30.06.2027;;;;\r\n"
        ),
        "calendar.csv": "from;to;kind;name\r\n25.03.2027;29.03.2027;public_holiday;Påske\r\n",
        "round.toml": 'start = "01.01.2027"\nend = "30.06.2027"\n',
    }
    folder = write_files(tmp_path / "nor", files, encoding="cp1252")
    inp = read_round(folder)

    assert inp.house("H01").name == "Åsane avlastningsbolig"
    assert inp.house("H01").categories == frozenset({"2", "3"})
    assert inp.house("H02").night_watch is True
    assert inp.house("H03").night_watch is False
    b1 = inp.child("B0001")
    assert b1.birth_date == dt.date(2019, 3, 4)
    assert b1.vedtak_to == dt.date(2027, 6, 30)
    assert b1.under_10_exception is True
    assert b1.interdisciplinary_assessment is False
    b2 = inp.child("B0002")
    assert b2.birth_date == dt.date(2010, 5, 6)
    assert b2.pattern is Pattern.ANY
    assert b2.home_house is None
    assert inp.calendar[0].name == "Påske"
    assert inp.config.start == dt.date(2027, 1, 1)


def test_utf8_bom_and_crlf(tmp_path: Path) -> None:
    files = {name: "\ufeff" + text.replace("\n", "\r\n") for name, text in VALID.items()}
    inp = read_round(write_files(tmp_path / "bom", files))
    assert inp.houses[0].house_id == "H01"
    assert inp.calendar[0].name == "Påske"


def test_utf16_unicode_text_export(tmp_path: Path) -> None:
    files: dict[str, str | bytes | None] = dict(VALID)
    files["children.csv"] = VALID["children.csv"].replace(",", "\t").encode("utf-16")
    inp = read_round(write_files(tmp_path / "u16", files))
    assert [c.child_id for c in inp.children] == ["B0001", "B0002", "B0003"]


def test_blank_lines_and_extra_columns_are_ignored(make_round: RoundWriter) -> None:
    children = VALID["children.csv"].splitlines()
    text = "\n".join([children[0] + ",note", children[1] + ",hei", "", ",,,,", *children[2:]])
    inp = read_round(make_round(children_csv=text + "\n"))
    assert len(inp.children) == 3


def _sheet_rows(text: str) -> list[list[object]]:
    """CSV text → rows, with numbers and ISO dates as Excel would store them."""
    rows: list[list[object]] = []
    for row in csv.reader(io.StringIO(text)):
        cells: list[object] = []
        for cell in row:
            if cell.isdigit():
                cells.append(int(cell))
            elif len(cell) == 10 and cell[4] == "-" and cell[7] == "-":
                cells.append(dt.datetime.fromisoformat(cell))
            else:
                cells.append(cell)
        rows.append(cells)
    return rows


def test_xlsx_workbook(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for name in ("houses", "children", "unavailable", "wishes", "incompatible", "closures"):
        title = "houses.csv" if name == "houses" else name.capitalize()
        sheet = workbook.create_sheet(title)
        for row in _sheet_rows(VALID[f"{name}.csv"]):
            sheet.append(row)
    settings = workbook.create_sheet("round")
    settings_rows: list[list[object]] = [
        ["key", "value"],
        ["start", dt.datetime(2027, 1, 1)],
        ["end", "30.06.2027"],
        ["seed", 7],
        ["acute_reserve.H02", 1],
        ["weights.nights", 120],
    ]
    for setting in settings_rows:
        settings.append(setting)
    path = tmp_path / "runde.xlsx"
    workbook.save(path)

    inp = read_round(path)
    assert inp.source == str(path)
    assert inp.config.end == dt.date(2027, 6, 30)
    assert inp.config.acute_reserve == {"H02": 1}
    assert inp.config.weights.nights == 120
    assert inp.house("H01").categories == frozenset({"2", "3"})
    assert inp.child("B0003").granted_nights == 181
    assert inp.child("B0001").birth_date == dt.date(2012, 3, 4)
    assert len(inp.incompatible) == 1
    assert inp.calendar == ()


def test_excel_sep_line_sets_separator_and_is_not_a_row(make_round: RoundWriter) -> None:
    text = "sep=;\r\n" + VALID["children.csv"].replace(",", ";").replace("\n", "\r\n")
    inp = read_round(make_round(children_csv=text))
    assert [c.child_id for c in inp.children] == ["B0001", "B0002", "B0003"]
