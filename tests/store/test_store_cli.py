"""``allocator publish`` and ``allocator history`` end to end through typer's CliRunner.

The commands are registered on an app of the test's own, as `allocator.cli` registers them. The
input folder is a tiny round written with the factories; bookings.csv is written by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import typer
from store_helpers import first_round, second_round
from typer.testing import CliRunner, Result

from allocator.commands.store_cmds import EXIT_BAD_INPUT, EXIT_REFUSED, history, publish
from allocator.io.write_input import write_round
from allocator.store import open_store
from models.outputs import Booking
from models.round_input import RoundInput

app = typer.Typer(pretty_exceptions_enable=False)
app.command()(publish)
app.command()(history)

# A wide console, so rich neither wraps a message nor squeezes a table.
ENV = {"COLUMNS": "300", "USER": "tester"}


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={**ENV, **(env or {})})


def write_folders(
    tmp_path: Path, name: str, inp: RoundInput, bookings: list[Booking]
) -> tuple[Path, Path]:
    """The round's input folder and a plan folder whose bookings.csv is written by hand."""
    input_dir = tmp_path / f"{name}-input"
    write_round(inp, input_dir)
    plan_dir = tmp_path / f"{name}-plan"
    plan_dir.mkdir()
    lines = ["child_id,house_id,night"]
    lines += [f"{b.child_id},{b.house_id},{b.night.isoformat()}" for b in bookings]
    (plan_dir / "bookings.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return input_dir, plan_dir


def test_publish_then_history(store_url: str, tmp_path: Path) -> None:
    input1, plan1 = write_folders(tmp_path, "round1", *first_round())
    result = run("publish", input1, plan1, "--db", store_url)
    assert result.exit_code == 0, result.output
    assert "Published version 1: round 2027-01-04 – 2027-01-10, 5 bed-nights" in result.output

    result = run("history", "--db", store_url)
    assert result.exit_code == 0, result.output
    assert "tester" in result.output  # --who from $USER
    assert "half-year round" in result.output  # the default --why
    assert "publish by tester" in result.output  # the audit line
    # B0002 got no weekend night: it is owed most and listed first.
    balances = result.output[result.output.index("Balance per family") :]
    assert balances.index("B0002") < balances.index("B0001")
    assert "-1.2" in balances and "+1.2" in balances

    input2, plan2 = write_folders(tmp_path, "round2", *second_round())
    result = run(
        "publish", input2, plan2, "--db", store_url, "--who", "kari", "--why", "spring 2027"
    )
    assert result.exit_code == 0, result.output
    assert "Published version 2" in result.output
    with open_store(store_url) as store:
        latest = store.history()[-1]
        assert (latest.who, latest.why) == ("kari", "spring 2027")
        assert latest.input_source == str(input2.resolve())
        assert store.balances()["B0002"]["weekend"] == pytest.approx(-0.2)
    result = run("history", "--db", store_url)
    assert result.exit_code == 0, result.output
    assert "spring 2027" in result.output
    assert "after version 2" in result.output
    assert "-0.2" in result.output and "+0.2" in result.output


def test_a_plan_that_breaks_a_hard_rule_is_not_published(store_url: str, tmp_path: Path) -> None:
    inp, bookings = first_round()
    # h1 has one place: a second child on Monday's night breaks the capacity rule.
    bad = [*bookings, Booking("B0001", "h1", dt.date(2027, 1, 4))]
    input_dir, plan_dir = write_folders(tmp_path, "bad", inp, bad)
    result = run("publish", input_dir, plan_dir, "--db", store_url)
    assert result.exit_code == EXIT_REFUSED, result.output
    assert "Not published" in result.output
    assert "R2_HOUSE_CAPACITY" in result.output
    assert "Traceback" not in result.output
    result = run("history", "--db", store_url)
    assert result.exit_code == 0, result.output
    assert "Nothing published yet" in result.output


def test_bad_input_lists_file_row_and_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'allocator.db'}"
    input_dir, plan_dir = write_folders(tmp_path, "round", *first_round())
    (plan_dir / "bookings.csv").write_text(
        "child_id,house_id,night\nB0001,h1,2027-01-08\nB0001,h1,8 January\n", encoding="utf-8"
    )
    result = run("publish", input_dir, plan_dir, "--db", url)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "bookings.csv, row 3, column night" in result.output

    children = input_dir / "children.csv"
    lines = children.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",2,", ",ti,", 1)  # granted_nights "ti" (ten) is not a number
    children.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("publish", input_dir, plan_dir, "--db", url)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "children.csv, row 2, column" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "allocator.db").exists()  # nothing opened, nothing written


def test_unreachable_store_is_one_line_without_traceback(tmp_path: Path) -> None:
    input_dir, plan_dir = write_folders(tmp_path, "round", *first_round())
    url = "postgresql+psycopg://coordinator:secret@127.0.0.1:1/allocator"  # nothing on port 1
    for args in (["publish", input_dir, plan_dir, "--db", url], ["history", "--db", url]):
        result = run(*args)
        assert result.exit_code == EXIT_REFUSED, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith("Store: cannot reach the store at")
        assert "secret" not in result.output
        assert isinstance(result.exception, SystemExit)


def test_store_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    input_dir, plan_dir = write_folders(tmp_path, "round", *first_round())
    result = run("publish", input_dir, plan_dir, env={"ALLOCATOR_DB": url})
    assert result.exit_code == 0, result.output
    assert "shared.db" in result.output
    result = run("history", env={"ALLOCATOR_DB": url})
    assert result.exit_code == 0, result.output
    assert "B0002" in result.output


def test_reading_a_store_that_is_not_there_makes_none(tmp_path: Path) -> None:
    # A mistyped --db for a command that only reads must not leave a new database behind.
    missing = tmp_path / "typo.db"
    result = run("history", "--db", f"sqlite:///{missing}")
    assert result.exit_code == 0, result.output
    assert "Nothing published yet" in result.output
    assert not missing.exists()
