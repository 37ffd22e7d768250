"""Tests of the yearly figures (`allocator.report.yearly`, `allocator.report.yearly_out`,
`allocator.io.visiting`, ``allocator report``).

"The municipality must be able to report, per year: bed-nights used, how many users had
respite, and how many had a visiting family" (DOMAIN.md).

The hand-made case, year 2027 (1 January 2027 is a Friday, in ISO week 53 of 2026):

* houses: ``h1`` a respite house, 2 places, 350 nights a place a year, 1000 kr a night
  (1200 kr from round C); ``h2`` a barnebolig, 1 place, 3000 kr a night.
* round A, version 1, nights 28 Dec 2026 – 3 Jan 2027: B0001 in h1 on 30 Dec (planned) and
  31 Dec – 2 Jan (acute); B0003 in h2 every night. In 2027: B0001 1–2 Jan (2 acute nights, one
  stay), B0003 1–3 Jan (3 planned).
* round B, version 2, nights 4–10 Jan 2027, replaced by version 3: B0004 in h1 4–8 Jan. Ignored.
* round B again, version 3: B0001 in h1 8–9 Jan (planned); B0002 in h1 4–5 Jan and 7 Jan
  (acute, two stays) and 9 Jan (offered), not in the round's children; B0003 in h2 4–10 Jan.
* visiting homes: B0001 until 31 Dec 2026 (not 2027), B0002 from 31 Dec 2027 (twice), B0005
  March – August 2027.

Hand counts for 2027: bed-nights 2 + 3 + 2 + 3 + 1 + 7 = 18 (h1 8, h2 10); acute 5 nights in 3
stays; offered 1; planned 12; users 3 (B0001, B0002, B0003), 2 with acute; visiting family 2
(B0002, B0005); covered nights 1–10 Jan = 10; potential h1 2 × 350 × 10 / 365, h2 1 × 10;
cost h1 2 × 1000 + 6 × 1200 = 9200, h2 10 × 3000 = 30000.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factories import child, house, round_input

from allocator.commands.report_cmd import report
from allocator.io.errors import InputError
from allocator.io.visiting import read_visiting_homes
from allocator.io.write_input import write_files
from allocator.report.yearly import YearPlan, versions_for_year, yearly_figures
from allocator.report.yearly_out import (
    CSV_FILE,
    PNG_FILE,
    occupancy_png,
    write_yearly,
    yearly_csv_rows,
)
from allocator.store import RoundChildInfo, open_store
from models.inputs import House, VisitingHome
from models.outputs import Booking
from models.round_input import RoundInput

YEAR = 2027
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def d(month: int, day: int, year: int = YEAR) -> dt.date:
    return dt.date(year, month, day)


def span(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def stay(child_id: str, house_id: str, first: dt.date, last: dt.date) -> list[Booking]:
    return [Booking(child_id, house_id, n) for n in span(first, last)]


def h1(price: float = 1000) -> House:
    return house("h1", places=2, nights_per_place_year=350, price_per_night=price)


def h2() -> House:
    return house(
        "h2",
        places=1,
        kind="barnebolig",
        categories="5",
        nights_per_place_year=365,
        price_per_night=3000,
    )


def info(child_id: str, category: str, level: int) -> RoundChildInfo:
    return RoundChildInfo(child_id, 10, 10, "any", category, level)


B0001 = info("B0001", "2", 2)
B0003 = info("B0003", "5", 6)
A_START, A_END = d(12, 28, 2026), d(1, 3)
B_START, B_END = d(1, 4), d(1, 10)


def round_a_bookings() -> list[Booking]:
    return stay("B0001", "h1", d(12, 30, 2026), d(1, 2)) + stay("B0003", "h2", A_START, A_END)


def round_a_kinds() -> dict[tuple[str, dt.date], str]:
    return {("B0001", n): "acute" for n in span(d(12, 31, 2026), d(1, 2))}


def round_b_bookings() -> list[Booking]:
    return (
        stay("B0001", "h1", d(1, 8), d(1, 9))
        + stay("B0002", "h1", d(1, 4), d(1, 5))
        + stay("B0002", "h1", d(1, 7), d(1, 7))
        + stay("B0002", "h1", d(1, 9), d(1, 9))
        + stay("B0003", "h2", B_START, B_END)
    )


def round_b_kinds() -> dict[tuple[str, dt.date], str]:
    kinds = {("B0002", n): "acute" for n in (d(1, 4), d(1, 5), d(1, 7))}
    kinds["B0002", d(1, 9)] = "offered"
    return kinds


def plans() -> list[YearPlan]:
    return [
        YearPlan(
            1, A_START, A_END, round_a_bookings(), (h1(), h2()), (B0001, B0003), round_a_kinds()
        ),
        YearPlan(
            2,
            B_START,
            B_END,
            stay("B0004", "h1", d(1, 4), d(1, 8)),
            (h1(), h2()),
            (info("B0004", "3", 3),),
            {},
            replaced_by=3,
        ),
        YearPlan(
            3, B_START, B_END, round_b_bookings(), (h1(1200), h2()), (B0001, B0003), round_b_kinds()
        ),
    ]


def visiting_home(child_id: str, first: dt.date, last: dt.date, per_month: int = 2) -> VisitingHome:
    return VisitingHome.model_validate(
        {"child_id": child_id, "from": first, "to": last, "nights_per_month": per_month}
    )


def homes() -> list[VisitingHome]:
    return [
        visiting_home("B0001", d(6, 1, 2026), d(12, 31, 2026)),
        visiting_home("B0002", d(12, 31), d(3, 1, 2028)),
        visiting_home("B0002", d(12, 31), d(3, 1, 2028), 4),
        visiting_home("B0005", d(3, 1), d(8, 31)),
    ]


# ---------------------------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------------------------


def test_yearly_figures_match_hand_counts() -> None:
    f = yearly_figures(YEAR, plans(), homes())
    assert f.versions == (1, 3)
    assert (f.covered_from, f.covered_to, f.covered_days) == (d(1, 1), d(1, 10), 10)
    assert f.days_in_year == 365
    assert f.bed_nights == 18
    assert f.nights_by_kind == {"planned": 12, "acute": 5, "offered": 1}
    assert (f.acute_nights, f.offered_nights, f.planned_nights) == (5, 1, 12)
    assert f.acute_stays == 3
    assert f.users_with_respite == 3
    assert f.users_with_acute == 2
    assert f.users_with_visiting_family == 2
    by_house = {h.house_id: h for h in f.houses}
    assert [h.house_id for h in f.houses] == ["h1", "h2"]
    assert by_house["h1"].bed_nights == 8
    assert by_house["h2"].bed_nights == 10
    assert by_house["h1"].covered_nights == by_house["h2"].covered_nights == 10
    assert by_house["h1"].potential_nights == pytest.approx(2 * 350 * 10 / 365)
    assert by_house["h2"].potential_nights == pytest.approx(10)
    assert by_house["h2"].utilisation == pytest.approx(1.0)
    assert f.potential_nights == pytest.approx(2 * 350 * 10 / 365 + 10)
    assert f.utilisation == pytest.approx(18 / (2 * 350 * 10 / 365 + 10))
    assert by_house["h1"].cost == pytest.approx(2 * 1000 + 6 * 1200)
    assert by_house["h1"].price_per_night == 1200  # the newest round's price
    assert by_house["h2"].cost == pytest.approx(30000)
    assert f.cost == pytest.approx(39200)
    assert f.by_category == {"2": 4, "5": 10, "unknown": 4}
    assert f.by_level == {"2": 4, "6": 10, "unknown": 4}


def test_weekly_occupancy_per_iso_week() -> None:
    f = yearly_figures(YEAR, plans(), [])
    assert len(f.weeks) == 53  # 2026-W53 (1–3 Jan) and weeks 1–52 of 2027
    first, second = f.weeks[0], f.weeks[1]
    assert (first.iso_year, first.iso_week, first.first_night, first.last_night) == (
        2026,
        53,
        d(1, 1),
        d(1, 3),
    )
    assert (second.iso_week, second.first_night, second.last_night) == (1, d(1, 4), d(1, 10))
    weekly = {h.house_id: h.weekly for h in f.houses}
    assert weekly["h1"][:3] == (pytest.approx(2 / 6), pytest.approx(6 / 14), None)
    assert weekly["h2"][:3] == (1.0, 1.0, None)
    assert all(share is None for share in weekly["h1"][2:])


def test_only_nights_inside_the_year_count() -> None:
    f = yearly_figures(2026, plans(), homes())
    # 2026: round A's nights 28–31 Dec: B0001 30–31 Dec (31 Dec acute), B0003 28–31 Dec.
    assert f.versions == (1, 3)  # round B is counted but has no night in 2026
    assert f.bed_nights == 6
    assert f.nights_by_kind == {"planned": 5, "acute": 1, "offered": 0}
    assert f.acute_stays == 1
    assert f.users_with_respite == 2
    assert f.users_with_visiting_family == 1  # B0001 until 31 Dec 2026
    assert (f.covered_from, f.covered_to, f.covered_days) == (d(12, 28, 2026), d(12, 31, 2026), 4)


def test_a_replaced_round_is_ignored_even_without_replaced_by() -> None:
    """Two versions of the same round (same first night): only the newer counts."""
    older, _, newer = plans()
    replaced = YearPlan(
        2, B_START, B_END, stay("B0004", "h1", d(1, 4), d(1, 8)), (h1(), h2()), (), {}
    )
    f = yearly_figures(YEAR, [older, newer, replaced], [])
    assert f.versions == (1, 3)
    assert f.bed_nights == 18


def test_a_year_without_rounds() -> None:
    f = yearly_figures(2030, plans(), homes())
    assert (f.bed_nights, f.users_with_respite, f.users_with_visiting_family) == (0, 0, 0)
    assert f.houses == ()
    assert f.utilisation is None
    assert f.covered_from is None


@dataclass(frozen=True)
class _Version:
    version: int
    round_start: dt.date
    round_end: dt.date
    replaced_by: int | None = None


def test_versions_for_year_keeps_the_newest_version_of_each_overlapping_round() -> None:
    history = [
        _Version(1, d(7, 1, 2026), d(12, 31, 2026)),
        _Version(2, d(1, 1), d(6, 30), replaced_by=3),
        _Version(3, d(1, 1), d(6, 30)),
        _Version(4, d(7, 1), d(1, 5, 2028)),
        _Version(5, d(1, 6, 2028), d(6, 30, 2028)),
    ]
    assert [v.version for v in versions_for_year(history, YEAR)] == [3, 4]
    assert [v.version for v in versions_for_year(history, 2028)] == [4, 5]


# ---------------------------------------------------------------------------------------------
# The files
# ---------------------------------------------------------------------------------------------


def test_csv_and_png_are_written(tmp_path: Path) -> None:
    f = yearly_figures(YEAR, plans(), homes())
    out = tmp_path / "report"
    written = write_yearly(f, out)
    assert written == [out / CSV_FILE, out / PNG_FILE]
    assert (out / PNG_FILE).read_bytes().startswith(PNG_MAGIC)
    with (out / CSV_FILE).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["section", "key", "value"]
    values = {(s, k): v for s, k, v in rows[1:]}
    assert values["total", "bed_nights"] == "18"
    assert values["total", "users_with_respite"] == "3"
    assert values["total", "users_with_visiting_family"] == "2"
    assert values["total", "acute_stays"] == "3"
    assert values["total", "acute_nights"] == "5"
    assert values["total", "offered_nights"] == "1"
    assert values["total", "cost"] == "39200"
    assert values["house_bed_nights", "h1"] == "8"
    assert values["category_bed_nights", "5"] == "10"
    assert values["level_bed_nights", "unknown"] == "4"
    assert values["year", "versions"] == "1;3"
    assert float(values["total", "utilisation"]) == pytest.approx(f.utilisation, abs=1e-4)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    assert len(rows) - 1 == len(yearly_csv_rows(f))


def test_png_of_an_empty_year() -> None:
    assert occupancy_png(yearly_figures(2030, [], [])).startswith(PNG_MAGIC)


def test_a_failed_plot_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import allocator.report.yearly_out as yearly_out

    def broken(_figures: object) -> bytes:
        raise RuntimeError("no plot")

    monkeypatch.setattr(yearly_out, "occupancy_png", broken)
    with pytest.raises(RuntimeError):
        yearly_out.write_yearly(yearly_figures(YEAR, plans(), []), tmp_path / "out")
    assert not (tmp_path / "out" / CSV_FILE).exists()


# ---------------------------------------------------------------------------------------------
# visiting_homes.csv
# ---------------------------------------------------------------------------------------------


def test_read_visiting_homes_semicolons_and_norwegian_dates(tmp_path: Path) -> None:
    path = tmp_path / "visiting_homes.csv"
    path.write_text(
        "Child_ID;From;To;nights_per_month\nB0001;01.02.2027;2027-06-30;3\n", encoding="utf-8"
    )
    assert read_visiting_homes(path) == [visiting_home("B0001", d(2, 1), d(6, 30), 3)]
    assert read_visiting_homes(tmp_path) == [visiting_home("B0001", d(2, 1), d(6, 30), 3)]
    empty = tmp_path / "round-without-visiting-homes"
    empty.mkdir()
    assert read_visiting_homes(empty) == []


def test_bad_visiting_rows_name_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "visiting_homes.csv"
    path.write_text(
        "child_id,from,to,nights_per_month\n"
        "B0001,2027-01-01,2027-06-30,2\n"
        "B0002,31.02.2027,2027-06-30,2\n"
        "B0003,2027-01-01,2027-06-30,mange\n"
        "B0004,2027-06-30,2027-01-01,2\n"
        ",2027-01-01,2027-06-30,40\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_visiting_homes(path)
    found = {(p.file, p.row, p.column) for p in caught.value.problems}
    assert found == {
        ("visiting_homes.csv", 3, "from"),
        ("visiting_homes.csv", 4, "nights_per_month"),
        ("visiting_homes.csv", 5, "to"),
        ("visiting_homes.csv", 6, "child_id"),
        ("visiting_homes.csv", 6, "nights_per_month"),
    }
    text = str(caught.value)
    assert "visiting_homes.csv, row 3, column from: not a date: '31.02.2027'" in text
    assert "row 5, column to: 'to' is before 'from'" in text


def test_missing_visiting_column(tmp_path: Path) -> None:
    path = tmp_path / "visiting_homes.csv"
    path.write_text("child_id,from,to\nB0001,2027-01-01,2027-06-30\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_visiting_homes(path)
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column) == (
        "visiting_homes.csv",
        1,
        "nights_per_month",
    )


# ---------------------------------------------------------------------------------------------
# The command, on a SQLite store
# ---------------------------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(report)
    return app


def _round_folder(folder: Path, inp: RoundInput) -> RoundInput:
    """Write `inp` as an input folder and read it back (so the store records the folder)."""
    from allocator.io.reader import read_round

    folder.mkdir(parents=True)
    write_files(inp, folder)
    return read_round(folder)


def _store_case(tmp_path: Path) -> tuple[str, Path, Path]:
    """Round A (version 1), round B (version 2) and round B again (version 3) in a store."""
    children = [child("B0001", 4), child("B0002", 4), child("B0003", 7, category="5", level=6)]
    inp_a = round_input([h1(), h2()], children, start=A_START, nights=7)
    inp_b = round_input([h1(1200), h2()], children, start=B_START, nights=7)
    folder_a = tmp_path / "round-a"
    folder_b = tmp_path / "round-b"
    read_a = _round_folder(folder_a, inp_a)
    read_b = _round_folder(folder_b, inp_b)
    url = "sqlite:///" + str(tmp_path / "a.db")
    with open_store(url) as store:
        store.publish(read_a, round_a_bookings(), who="tester", why="round A")
        store.publish(read_b, stay("B0001", "h1", d(1, 4), d(1, 8)), who="tester", why="round B")
        store.publish(read_b, round_b_bookings(), who="tester", why="round B again")
        assert [v.replaced_by for v in store.history()] == [None, 3, None]
    return url, folder_a, folder_b


def test_report_command_on_a_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from allocator.store import Store

    kinds = {1: round_a_kinds(), 3: round_b_kinds()}

    def booking_kinds(_store: Store, version: int) -> dict[tuple[str, dt.date], str]:
        return kinds.get(version, {})

    monkeypatch.setattr(Store, "booking_kinds", booking_kinds, raising=False)
    url, _, folder_b = _store_case(tmp_path)
    (folder_b / "visiting_homes.csv").write_text(
        "child_id,from,to,nights_per_month\n"
        "B0002,2027-12-31,2028-03-01,2\n"
        "B0005,01.03.2027,31.08.2027,2\n"
        "B0001,2026-06-01,2026-12-31,2\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["--year", "2027", "--db", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Users with respite" in result.output
    assert (out / PNG_FILE).read_bytes().startswith(PNG_MAGIC)
    with (out / CSV_FILE).open(encoding="utf-8", newline="") as handle:
        values = {(s, k): v for s, k, v in list(csv.reader(handle))[1:]}
    assert values["year", "versions"] == "1;3"
    assert values["total", "bed_nights"] == "18"
    assert values["total", "users_with_respite"] == "3"
    assert values["total", "users_with_visiting_family"] == "2"
    assert values["total", "acute_stays"] == "3"
    assert values["total", "offered_nights"] == "1"
    assert values["total", "cost"] == "39200"
    # B0002 is in round B's children.csv here, so its category and level are known.
    assert values["category_bed_nights", "2"] == "8"


def test_report_without_visiting_file_says_so(tmp_path: Path) -> None:
    url, _, _ = _store_case(tmp_path)
    result = CliRunner().invoke(_app(), ["--year", "2027", "--db", url])
    assert result.exit_code == 0, result.output
    assert "no visiting_homes.csv" in result.output


def test_report_with_a_missing_round_input_exits_2(tmp_path: Path) -> None:
    import shutil

    url, folder_a, _ = _store_case(tmp_path)
    shutil.rmtree(folder_a)
    result = CliRunner().invoke(_app(), ["--year", "2027", "--db", url])
    assert result.exit_code == 2
    assert "is missing" in result.output
    assert str(folder_a) in result.output.replace("\n", "")
    assert "Traceback" not in result.output


def test_report_with_a_bad_visiting_file_exits_2(tmp_path: Path) -> None:
    url, _, _ = _store_case(tmp_path)
    bad = tmp_path / "besøk.csv"
    bad.write_text("child_id,from,to,nights_per_month\nB0001,2027-01-01,2027-02-30,2\n")
    result = CliRunner().invoke(_app(), ["--year", "2027", "--db", url, "--visiting", str(bad)])
    assert result.exit_code == 2
    assert "besøk.csv, row 2, column to: not a date" in result.output


def test_report_store_error_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["--year", "2027", "--db", "nonsense://"])
    assert result.exit_code == 1
    assert "Store:" in result.output
    assert "Traceback" not in result.output


def test_report_counts_a_change_version_of_a_round(tmp_path: Path) -> None:
    """A change to a published round (here an acute stay) is a newer version of the same round:
    it is counted instead of the round's publication, with its booking kinds from the store."""
    from allocator.store import Store

    if not hasattr(Store, "commit_change"):
        pytest.skip("the store has no commit_change yet")
    url, _, _ = _store_case(tmp_path)
    acute_child = RoundChildInfo("B0006", 0, 0, "any", "3", 3)
    kinds = round_b_kinds() | {("B0006", d(1, 10)): "acute"}
    with open_store(url) as store:
        version = store.commit_change(
            parent=3,
            bookings=[*round_b_bookings(), Booking("B0006", "h1", d(1, 10))],
            kinds=kinds,
            action="acute",
            who="tester",
            why="acute stay",
            detail="",
            new_children=[acute_child],
        )
    assert version == 4
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["--year", "2027", "--db", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with (out / CSV_FILE).open(encoding="utf-8", newline="") as handle:
        values = {(s, k): v for s, k, v in list(csv.reader(handle))[1:]}
    assert values["year", "versions"] == "1;4"
    assert values["total", "bed_nights"] == "19"
    assert values["total", "users_with_respite"] == "4"
    # Round A's acute nights were published as planned (publish keeps no kinds): round B's
    # change holds B0002's 3 acute nights in 2 stays and B0006's one.
    assert values["total", "acute_nights"] == "4"
    assert values["total", "acute_stays"] == "3"
    assert values["total", "offered_nights"] == "1"
    assert values["category_bed_nights", "3"] == "1"
    assert values["level_bed_nights", "3"] == "1"
