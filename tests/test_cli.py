"""The command line end to end: plan, validate, check and generate through `typer`'s CliRunner.

One real plan of the shipped Bergen round (15 s) is shared by the module; every other case is a
tiny hand-made round written with the factories (pseudonyms B0001, ...; no names or IDs).
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from factories import MONDAY, child, csv_sheets, house, round_input
from typer.testing import CliRunner, Result

from allocator.check import check_plan
from allocator.cli import EXIT_BAD_INPUT, EXIT_NO_PLAN, app
from allocator.io.bookings import read_bookings
from allocator.io.reader import read_round
from allocator.io.write_input import write_round
from models.round_input import RoundInput
from models.rules import Rule

REPO = Path(__file__).resolve().parents[1]
BERGEN = REPO / "data" / "bergen"

# A wide console, so rich does not wrap a message over several lines.
ENV = {"COLUMNS": "400"}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def tiny_round(**kw: Any) -> RoundInput:
    """One house with one place, two children, one week (Monday 2027-01-04 to Sunday)."""
    return round_input([house("h1", places=1)], [child("B0001", 2), child("B0002", 3)], **kw)


def tiny_folder(folder: Path, inp: RoundInput | None = None) -> Path:
    write_round(inp or tiny_round(), folder)
    return folder


def monday_plan(plan_dir: Path, *child_ids: str) -> Path:
    """A plan folder whose bookings.csv has each child in h1 on Monday night."""
    plan_dir.mkdir()
    rows = "".join(f"{c},h1,{MONDAY}\n" for c in child_ids)
    (plan_dir / "bookings.csv").write_text(f"child_id,house_id,night\n{rows}", encoding="utf-8")
    return plan_dir


# ---------------------------------------------------------------------------------------------
# The shipped Bergen round, planned once
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bergen_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    out = tmp_path_factory.mktemp("bergen") / "plan"
    result = run(
        "plan", BERGEN, "--out", out, "--time-limit", "15", "--seed", "1", "--workers", "2"
    )
    return result, out


@pytest.fixture(scope="module")
def bergen_input() -> RoundInput:
    return read_round(BERGEN)


def test_plan_bergen_writes_every_file(bergen_plan: tuple[Result, Path]) -> None:
    result, out = bergen_plan
    assert result.exit_code == 0, result.output
    for name in ("bookings.csv", "stays.csv", "summary.json", "calendar.xlsx"):
        assert (out / name).is_file(), name
    with (out / "bookings.csv").open(encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == ["child_id", "house_id", "night"]
    with (out / "stays.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert {"child_id", "house_id", "first_night", "last_night", "nights"} <= set(header)
    workbook = openpyxl.load_workbook(out / "calendar.xlsx")
    assert workbook.sheetnames


def test_plan_bergen_summary(bergen_plan: tuple[Result, Path], bergen_input: RoundInput) -> None:
    result, out = bergen_plan
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in ("status", "objective", "best_bound", "gap", "wall_time", "children", "figures"):
        assert key in summary, key
    assert summary["status"] in ("OPTIMAL", "FEASIBLE")
    assert summary["wall_time"] > 0
    assert {"bound", "gap_to_bound"} <= set(summary["figures"])

    booked = Counter(b.child_id for b in read_bookings(out))
    children = {c["child_id"]: c for c in summary["children"]}
    assert set(children) == {c.child_id for c in bergen_input.children}
    for c in bergen_input.children:
        row = children[c.child_id]
        assert row["granted"] == c.granted_nights
        assert row["allocated"] == booked[c.child_id]
        assert row["allocated"] <= row["granted"]
    assert summary["figures"]["allocated"] == sum(booked.values())
    assert summary["figures"]["allocated"] <= summary["figures"]["bound"]


def test_plan_bergen_summary_is_strict_json(bergen_plan: tuple[Result, Path]) -> None:
    _result, out = bergen_plan

    def reject(constant: str) -> float:
        raise ValueError(f"not JSON: {constant}")

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"), parse_constant=reject)
    assert summary["best_bound"] is None or math.isfinite(summary["best_bound"])


def test_check_accepts_the_bergen_plan(
    bergen_plan: tuple[Result, Path], bergen_input: RoundInput
) -> None:
    _result, out = bergen_plan
    checked = run("check", BERGEN, out)
    assert checked.exit_code == 0, checked.output
    assert "Every hard rule holds" in checked.output
    assert check_plan(bergen_input, read_bookings(out)) == []


def test_validate_bergen() -> None:
    result = run("validate", BERGEN)
    assert result.exit_code == 0, result.output
    assert "Input OK" in result.output


# ---------------------------------------------------------------------------------------------
# Bad input, no plan, broken plans
# ---------------------------------------------------------------------------------------------


def test_plan_bad_children_csv_names_file_row_and_column(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "round")
    path = folder / "children.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    rows[1][header.index("granted_nights")] = "ti"  # B0001, spreadsheet row 2
    rows[2][header.index("category")] = "7"  # B0002, spreadsheet row 3
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    out = tmp_path / "plan"

    result = run("plan", folder, "--out", out)

    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "children.csv, row 2, column granted_nights" in result.output
    assert "children.csv, row 3, column category" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_plan_missing_input_exits_2_without_traceback(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    result = run("plan", tmp_path / "no-such-round", "--out", out)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "no-such-round" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert not out.exists()


def test_check_reports_a_capacity_breach(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "round")
    # Both children in h1's one place on Monday night.
    plan_dir = monday_plan(tmp_path / "plan", "B0001", "B0002")
    result = run("check", folder, plan_dir)
    assert result.exit_code == EXIT_NO_PLAN, result.output
    assert str(Rule.R2_HOUSE_CAPACITY) in result.output
    assert "Every hard rule holds" not in result.output


def test_plan_infeasible_barnebolig_names_both_children(tmp_path: Path) -> None:
    barnebolig = house("bb1", places=1, kind="barnebolig", categories="5")
    residents = [
        child(cid, 7, category="5", level=6, interdisciplinary_assessment=True)
        for cid in ("B0001", "B0002")
    ]
    folder = tiny_folder(tmp_path / "round", round_input([barnebolig], residents))
    out = tmp_path / "plan"

    result = run("plan", folder, "--out", out, "--time-limit", "5", "--workers", "1")

    assert result.exit_code == EXIT_NO_PLAN, result.output
    reasons = [line for line in result.output.splitlines() if line.startswith("No plan:")]
    assert len(reasons) == 1, result.output
    assert "B0001" in reasons[0] and "B0002" in reasons[0]
    assert "Traceback" not in result.output
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Other inputs and commands
# ---------------------------------------------------------------------------------------------


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, f"{name}."))
        else:
            rows.append((name, value.isoformat() if hasattr(value, "isoformat") else str(value)))
    return rows


def test_plan_from_an_xlsx_workbook(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "round")
    workbook = csv_sheets(folder)
    settings = workbook.create_sheet("round")
    settings.append(["key", "value"])
    with (folder / "round.toml").open("rb") as handle:
        for key, value in _flatten(tomllib.load(handle)):
            settings.append([key, value])
    book = tmp_path / "round.xlsx"
    workbook.save(book)
    out = tmp_path / "plan"

    result = run("plan", book, "--out", out, "--time-limit", "5", "--workers", "1")

    assert result.exit_code == 0, result.output
    bookings = read_bookings(out)
    assert len(bookings) == 5  # 2 + 3 granted nights fit in one place over 7 nights
    assert check_plan(read_round(book), bookings) == []


def test_generate_writes_a_round_validate_accepts(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    generated = run("generate", "--scale", "0.3", "--seed", "2", "--out", out)
    assert generated.exit_code == 0, generated.output
    assert (out / "children.csv").is_file() and (out / "round.toml").is_file()
    validated = run("validate", out)
    assert validated.exit_code == 0, validated.output
    assert "Input OK" in validated.output


def test_plan_refuses_to_write_over_its_input(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "round")
    before = sorted(p.name for p in folder.iterdir())

    result = run("plan", folder, "--out", folder, "--time-limit", "2", "--workers", "1")

    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "input" in result.output
    assert sorted(p.name for p in folder.iterdir()) == before


def test_plan_refuses_a_non_empty_folder_that_is_not_a_plan(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "round")
    other = tmp_path / "documents"
    other.mkdir()
    (other / "notes.txt").write_text("keep me", encoding="utf-8")

    result = run("plan", folder, "--out", other, "--time-limit", "2", "--workers", "1")

    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert (other / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_validate_names_a_round_that_cannot_be_planned(tmp_path: Path) -> None:
    barnebolig = house("bb1", places=1, kind="barnebolig", categories="5")
    residents = [
        child(cid, 7, category="5", level=6, interdisciplinary_assessment=True)
        for cid in ("B0001", "B0002")
    ]
    folder = tiny_folder(tmp_path / "round", round_input([barnebolig], residents))

    result = run("validate", folder)

    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "B0001" in result.output and "B0002" in result.output


@pytest.mark.parametrize(("method", "ran"), [("monolithic", "monolithic"), ("lns", "decomposed")])
def test_plan_method_switch(tmp_path: Path, method: str, ran: str) -> None:
    folder = tiny_folder(tmp_path / "in")
    result = run("plan", folder, "--out", tmp_path / "out", "--time-limit", "3", "--method", method)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["method"] == ran
    inp = read_round(folder)
    assert check_plan(inp, read_bookings(tmp_path / "out")) == []


def test_plan_unknown_method_is_a_bad_option(tmp_path: Path) -> None:
    result = run("plan", tiny_folder(tmp_path / "in"), "--out", tmp_path / "out", "--method", "x")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "--method 'x'" in result.output
    assert not (tmp_path / "out").exists()


def test_plan_improve_gives_a_plan_more_time(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "in")
    first = run("plan", folder, "--out", tmp_path / "first", "--time-limit", "2")
    assert first.exit_code == 0, first.output
    result = run(
        "plan", folder, "--out", tmp_path / "better", "--improve", tmp_path / "first",
        "--time-limit", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    before = json.loads((tmp_path / "first" / "summary.json").read_text())
    after = json.loads((tmp_path / "better" / "summary.json").read_text())
    assert after["method"] == "polish"
    assert after["objective"] <= before["objective"]
    assert check_plan(read_round(folder), read_bookings(tmp_path / "better")) == []


def test_plan_improve_names_the_row_the_round_cannot_make(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "in")
    old = monday_plan(tmp_path / "old", "B0001", "B0099")
    result = run("plan", folder, "--out", tmp_path / "out", "--improve", old)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert f"{old / 'bookings.csv'}, row 3: unknown child 'B0099'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_plan_keep_and_improve_together_is_a_bad_option(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "in")
    result = run("plan", folder, "--out", tmp_path / "out", "--keep", folder, "--improve", folder)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "--keep and --improve" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "option",
    [
        ("--time-limit", "0"),
        ("--time-limit", "nan"),
        ("--workers", "0"),
        ("--seed", "-1"),
        ("--seed", "99999999999"),
    ],
)
def test_plan_refuses_a_bad_solver_option(tmp_path: Path, option: tuple[str, str]) -> None:
    result = run("plan", tiny_folder(tmp_path / "in"), "--out", tmp_path / "out", *option)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert f"{option[0]} " in result.output
    assert not (tmp_path / "out").exists()


def test_plan_refuses_to_delete_a_users_file_in_an_earlier_plan(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "in")
    assert run("plan", folder, "--out", tmp_path / "plan", "--time-limit", "2").exit_code == 0
    (tmp_path / "plan" / "my_notes.txt").write_text("keep me", encoding="utf-8")
    result = run("plan", folder, "--out", tmp_path / "plan", "--time-limit", "2")
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "my_notes.txt" in result.output
    assert (tmp_path / "plan" / "my_notes.txt").read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize(
    "option",
    [
        ("--scale", "0"),
        ("--scale", "1.5"),
        ("--scale", "nan"),
        ("--demand", "-2"),
        ("--seed", "-5"),
    ],
)
def test_generate_refuses_bad_values(tmp_path: Path, option: tuple[str, str]) -> None:
    result = run("generate", "--out", tmp_path / "round", *option)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert option[0] in result.output and "Traceback" not in result.output
    assert not (tmp_path / "round").exists()


def test_generate_never_writes_over_a_folder_with_files(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "in")
    before = (folder / "children.csv").read_text(encoding="utf-8")
    result = run("generate", "--scale", "0.1", "--out", folder)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert (folder / "children.csv").read_text(encoding="utf-8") == before


def test_a_missing_keep_plan_is_reported_before_any_planning(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "in")
    result = run("plan", folder, "--out", tmp_path / "out", "--keep", tmp_path / "nowhere")
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "bookings.csv: file not found" in result.output
    assert "Planning" not in result.output
    assert not (tmp_path / "out").exists()
