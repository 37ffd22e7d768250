"""``acute``, ``cancel``, ``free-nights`` and ``offer`` end to end on a SQLite store, as a
coordinator would run them after ``publish`` (issue 6)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factories import MONDAY, child, house, round_input

from allocator.commands.midround_cmds import acute, cancel, free_nights, offer
from allocator.commands.store_cmds import history, publish
from allocator.io.write_input import write_round
from allocator.store import open_store

app = typer.Typer(pretty_exceptions_enable=False)
for command in (publish, history, acute, cancel, offer):
    app.command()(command)
app.command("free-nights")(free_nights)
ENV = {"COLUMNS": "300", "USER": "tester"}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def day(i: int) -> str:
    return (MONDAY + dt.timedelta(days=i)).isoformat()


def _published(tmp_path: Path) -> str:
    inp = round_input(
        [house("h1", places=2), house("h2", places=1, categories="3")],
        [child("A0001", 7, category="3"), child("B0002", 7, category="3")],
        acute_reserve={"h1": 1},
    )
    input_dir = tmp_path / "input"
    write_round(inp, input_dir)
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    rows = ["child_id,house_id,night"] + [f"A0001,h1,{day(i)}" for i in range(7)]
    (plan_dir / "bookings.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert run("publish", input_dir, plan_dir, "--db", url).exit_code == 0
    return url


def test_acute_then_cancel_then_history(tmp_path: Path) -> None:
    url = _published(tmp_path)
    result = run(
        "acute",
        "AK001",
        "--category",
        "2",
        "--age",
        "12",
        "--from",
        day(1),
        "--to",
        day(3),
        "--today",
        day(0),
        "--db",
        url,
        "--yes",
    )
    assert result.exit_code == 0, result.output
    assert "h1" in result.output and "Written as version 2" in result.output
    with open_store(url) as store:
        kinds = store.booking_kinds()
    assert sorted(n.isoformat() for (c, n), k in kinds.items() if c == "AK001") == [
        day(1),
        day(2),
        day(3),
    ]
    result = run(
        "cancel",
        "A0001",
        "--from",
        day(5),
        "--to",
        day(6),
        "--today",
        day(0),
        "--db",
        url,
        "--yes",
    )
    assert result.exit_code == 0, result.output
    assert "Written as version 3" in result.output
    result = run("history", "--db", url)
    assert "acute by tester" in result.output and "cancel by tester" in result.output


def test_dry_run_writes_nothing_and_too_long_is_refused(tmp_path: Path) -> None:
    url = _published(tmp_path)
    result = run(
        "acute",
        "A0001",
        "--from",
        day(1),
        "--to",
        day(2),
        "--today",
        day(0),
        "--db",
        url,
        "--dry-run",
    )
    # A0001 already sleeps in h1 those nights: they become the acute stay, in h1; dry run.
    assert result.exit_code == 0, result.output
    assert "A0001's own 2 nights in h1" in result.output
    assert "Dry run: nothing written." in result.output
    result = run(
        "acute",
        "B0002",
        "--from",
        day(0),
        "--to",
        day(6),
        "--max-nights",
        "3",
        "--today",
        day(0),
        "--db",
        url,
    )
    assert result.exit_code == 1 and "at most 3" in result.output
    with open_store(url) as store:
        assert [v.version for v in store.history()] == [1]


def test_free_nights_and_offer_with_a_notice(tmp_path: Path) -> None:
    url = _published(tmp_path)
    result = run("free-nights", "--from", day(0), "--to", day(6), "--db", url)
    assert result.exit_code == 0, result.output
    assert "h2" in result.output
    waiting = _overdue_waiting_list(tmp_path)
    notices = tmp_path / "notices"
    result = run(
        "offer",
        waiting,
        "--from",
        day(0),
        "--to",
        day(6),
        "--today",
        day(0),
        "--out",
        notices,
        "--db",
        url,
        "--yes",
    )
    assert result.exit_code == 0, result.output
    assert "Written as version 2" in result.output
    letter = (notices / "melding_B0002.txt").read_text(encoding="utf-8")
    assert "mottatt" in letter and "innen" in letter


def test_bad_waiting_list_names_file_row_and_column(tmp_path: Path) -> None:
    url = _published(tmp_path)
    waiting = tmp_path / "waiting.csv"
    waiting.write_text(
        "child_id,applied,category,level,nights_wanted\nB0002,not-a-date,3,2,2\n", encoding="utf-8"
    )
    result = run("offer", waiting, "--from", day(0), "--to", day(6), "--db", url, "--yes")
    assert result.exit_code == 2
    assert "waiting.csv" in result.output and "applied" in result.output


def _overdue_waiting_list(tmp_path: Path) -> Path:
    waiting = tmp_path / "waiting.csv"
    waiting.write_text(
        "child_id,applied,category,level,nights_wanted\n"
        f"B0002,{(MONDAY - dt.timedelta(days=45)).isoformat()},3,2,2\n",
        encoding="utf-8",
    )
    return waiting


def test_offer_dry_run_drafts_no_notices(tmp_path: Path) -> None:
    url = _published(tmp_path)
    waiting = _overdue_waiting_list(tmp_path)
    notices = tmp_path / "notices"
    args = ("--from", day(0), "--to", day(6), "--today", day(0), "--db", url)
    result = run("offer", waiting, *args, "--out", notices, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing written" in result.output
    assert "No notices drafted" in result.output
    assert not notices.exists()


def test_offer_never_replaces_a_folder_of_other_files(tmp_path: Path) -> None:
    url = _published(tmp_path)
    waiting = _overdue_waiting_list(tmp_path)
    args = ("--from", day(0), "--to", day(6), "--today", day(0), "--db", url, "--yes")
    for out in (tmp_path / "input", tmp_path):  # the round's input, and a folder holding it
        result = run("offer", waiting, *args, "--out", out)
        assert result.exit_code == 2, result.output
        assert "the input" in result.output
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "important.txt").write_text("keep me", encoding="utf-8")
    result = run("offer", waiting, *args, "--out", mine)
    assert result.exit_code == 2, result.output
    assert (mine / "important.txt").read_text(encoding="utf-8") == "keep me"
    assert (tmp_path / "input" / "children.csv").is_file()
    with open_store(url) as store:
        assert [v.version for v in store.history()] == [1]


def test_cancel_of_past_nights_says_they_stay_as_history(tmp_path: Path) -> None:
    url = _published(tmp_path)
    result = run(
        "cancel", "A0001", "--from", day(0), "--to", day(2), "--today", day(5), "--db", url, "--yes"
    )
    assert result.exit_code == 0, result.output
    assert f"from {day(5)} on (nights before today stay as history)" in result.output


def test_dates_outside_the_round_are_bad_input(tmp_path: Path) -> None:
    url = _published(tmp_path)
    later = (MONDAY + dt.timedelta(days=400)).isoformat()
    for args in (
        ("acute", "A0001", "--from", day(5), "--to", later, "--yes"),  # reaching past the round
        ("free-nights", "--from", later, "--to", later),  # nothing of the round at all
        ("cancel", "A0001", "--from", later, "--to", later, "--yes"),
    ):
        result = run(*args, "--db", url)
        assert result.exit_code == 2, result.output
        assert "the round" in result.output
    with open_store(url) as store:
        assert [v.version for v in store.history()] == [1]
