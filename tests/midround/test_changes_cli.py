"""Every kind of change to a published plan, end to end as a coordinator runs it (issue 6):
publish, an acute stay for a child given inline, a pin, a manual move, a cancellation; each is a
new version with an audit line (who, when, why); an exported version passes ``allocator check``;
bad input is one line per problem and exit 2 with nothing written.

The round (one week from Monday 2027-01-04): h1 takes categories 2 and 3 (2 places, no acute
reserve), h2 only category 3 (1 place). A0001 and B0002 (category 3) sleep in h1 every night,
so h1 is full and an acute child of category 2 fits only by moving one of them to h2.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factories import MONDAY, child, house, round_input

from allocator.check import check_plan
from allocator.cli import app
from allocator.io.added_children import read_added_children
from allocator.io.bookings import read_bookings
from allocator.io.reader import read_round
from allocator.io.write_input import write_round
from allocator.store import open_store

ENV = {"COLUMNS": "300", "USER": "tester"}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def day(i: int) -> str:
    return (MONDAY + dt.timedelta(days=i)).isoformat()


def _published(tmp_path: Path) -> tuple[str, Path]:
    inp = round_input(
        [house("h1", places=2), house("h2", places=1, categories="3")],
        [child("A0001", 7, category="3"), child("B0002", 7, category="3")],
    )
    input_dir = tmp_path / "input"
    write_round(inp, input_dir)
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    rows = ["child_id,house_id,night"] + [
        f"{c},h1,{day(i)}" for c in ("A0001", "B0002") for i in range(7)
    ]
    (plan_dir / "bookings.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    result = run("publish", input_dir, plan_dir, "--db", url, "--who", "kari", "--why", "spring")
    assert result.exit_code == 0, result.output
    return url, input_dir


def _versions(url: str) -> list[int]:
    with open_store(url) as store:
        return [v.version for v in store.history()]


def _export_and_check(url: str, input_dir: Path, out: Path) -> None:
    """The newest version exported, then `allocator check` on it: every hard rule holds."""
    result = run("export", "--out", out, "--db", url)
    assert result.exit_code == 0, result.output
    result = run("check", input_dir, out)
    assert result.exit_code == 0, result.output
    assert "Every hard rule holds." in result.output


def test_pin_then_acute_moves_only_the_unpinned_family(tmp_path: Path) -> None:
    url, input_dir = _published(tmp_path)
    result = run(
        "pin", "A0001", "--from", day(0), "--to", day(6), "--db", url, "--yes",
        "--who", "kari", "--why", "agreed at the family meeting",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Pinned: 7 nights of A0001 in h1" in result.output
    with open_store(url) as store:
        assert store.pinned_nights() == {("A0001", MONDAY + dt.timedelta(days=i)) for i in range(7)}

    # AK001 (category 2) fits only h1, which is full: B0002 (not pinned) moves to h2 for the
    # two nights, A0001 (pinned) stays. Optimum: 2 nights of 1 family.
    result = run(
        "acute", "AK001", "--category", "2", "--age", "12", "--from", day(2), "--to", day(3),
        "--today", day(1), "--db", url, "--yes", "--who", "ola", "--why", "mother in hospital",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 nights of 1 family move (2 to another house)" in result.output
    with open_store(url) as store:
        plan = {(b.child_id, b.night): b.house_id for b in store.bookings()}
        # The pins are kept in the new version.
        assert len(store.pinned_nights()) == 7
    assert all(plan[("A0001", MONDAY + dt.timedelta(days=i))] == "h1" for i in range(7))
    assert plan[("B0002", MONDAY + dt.timedelta(days=2))] == "h2"
    assert plan[("AK001", MONDAY + dt.timedelta(days=2))] == "h1"
    _export_and_check(url, input_dir, tmp_path / "v3")
    assert [c.child_id for c in read_added_children(tmp_path / "v3")] == ["AK001"]


def test_every_change_is_a_version_with_who_when_and_why(tmp_path: Path) -> None:
    url, input_dir = _published(tmp_path)
    steps = [
        ("acute", "AK001", "--category", "2", "--age", "9", "--from", day(4), "--to", day(4),
         "--today", day(0), "--who", "ola", "--why", "crisis in the family"),
        ("pin", "A0001", "--from", day(5), "--to", day(6), "--who", "kari", "--why", "agreed"),
        ("move", "B0002", "--from", day(0), "--to", day(1), "--to-house", "h2",
         "--today", day(0), "--who", "per", "--why", "quieter house"),
        ("cancel", "A0001", "--from", day(6), "--to", day(6), "--today", day(0),
         "--who", "kari", "--why", "family away"),
        ("pin", "A0001", "--from", day(5), "--to", day(5), "--release",
         "--who", "kari", "--why", "plans changed"),
    ]  # fmt: skip
    for step in steps:
        result = run(*step, "--db", url, "--yes")
        assert result.exit_code == 0, (step, result.output)
    with open_store(url) as store:
        history = store.history()
        final = store.bookings()
        pinned = store.pinned_nights()
    lines = [(v.kind, v.who, v.why, [a.action for a in v.audit]) for v in history]
    assert lines == [
        ("round", "kari", "spring", ["publish"]),
        ("acute", "ola", "crisis in the family", ["acute"]),
        ("pin", "kari", "agreed", ["pin"]),
        ("move", "per", "quieter house", ["move"]),
        ("cancel", "kari", "family away", ["cancel"]),
        ("unpin", "kari", "plans changed", ["unpin"]),
    ]
    assert all(v.created_at.tzinfo is not None for v in history)
    details = [v.audit[0].detail for v in history[1:]]
    assert details[1] == f"pin A0001 {day(5)}–{day(6)} in h1: 2 nights pinned"
    assert details[2] == f"move B0002 {day(0)}–{day(1)} to h2: 2 nights moved from h1"
    assert details[3] == f"cancel A0001 {day(6)}–{day(6)}: 1 night freed"
    # The cancelled night took its pin with it; the release took the other.
    assert pinned == set()
    assert len(final) == 14 + 1 - 1
    inp = read_round(input_dir)
    _export_and_check(url, input_dir, tmp_path / "v6")
    added = read_added_children(tmp_path / "v6")
    assert check_plan(inp.with_children(added), read_bookings(tmp_path / "v6")) == []


def test_a_pinned_night_is_not_moved_by_hand_and_a_full_house_is_refused(tmp_path: Path) -> None:
    url, _ = _published(tmp_path)
    assert (
        run("pin", "A0001", "--from", day(0), "--to", day(1), "--db", url, "--yes").exit_code == 0
    )
    result = run(
        "move", "A0001", "--from", day(1), "--to", day(2), "--to-house", "h2",
        "--today", day(0), "--db", url, "--yes",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "A0001 is pinned on" in result.output and "--release" in result.output
    # h2 has one place: B0002 there on night 0, then A0001 too would be two.
    assert run(
        "move", "B0002", "--from", day(0), "--to", day(0), "--to-house", "h2",
        "--today", day(0), "--db", url, "--yes",
    ).exit_code == 0  # fmt: skip
    result = run(
        "move", "A0001", "--from", day(3), "--to", day(3), "--to-house", "h2",
        "--today", day(0), "--db", url, "--yes",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = run(
        "move", "B0002", "--from", day(3), "--to", day(3), "--to-house", "h2",
        "--today", day(0), "--db", url, "--yes",
    )  # fmt: skip
    assert result.exit_code == 1 and "R2_HOUSE_CAPACITY" in result.output
    assert _versions(url) == [1, 2, 3, 4]


def test_export_of_an_inline_acute_child_passes_the_checker(tmp_path: Path) -> None:
    # Before added_children.csv, `allocator check` called AK001 an unknown child.
    url, input_dir = _published(tmp_path)
    result = run(
        "acute", "AK001", "--category", "3", "--age", "14", "--from", day(1), "--to", day(2),
        "--today", day(0), "--db", url, "--yes",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    _export_and_check(url, input_dir, tmp_path / "with-input")
    # Without the round's input the added child is still known (from the store).
    result = run("export", "--out", tmp_path / "plain", "--db", url, "--input", input_dir)
    assert result.exit_code == 0
    assert "added_children.csv" in result.output


def test_bad_input_exits_2_with_one_line_each_and_writes_nothing(tmp_path: Path) -> None:
    url, _ = _published(tmp_path)
    today = ("--today", day(0))
    cases = [
        (("acute", "AK001", "--category", "2", "--age", "12", "--from", day(3), "--to", day(2),
          *today), "--to: 2027-01-06 is before --from 2027-01-07"),
        (("acute", "AK001", "--category", "2", "--age", "-3", "--from", day(2), "--to", day(3),
          *today), "column age: --age -3"),
        (("acute", "AK001", "--from", day(2), "--to", day(3), *today),
         "AK001 is not in the round: give --category and --age"),
        (("cancel", "ZZ999", "--from", day(2), "--to", day(3), *today),
         "ZZ999 is not a child of the round"),
        (("cancel", "A0001", "--from", day(3), "--to", day(2), *today), "is before --from"),
        (("free-nights", "--from", day(3), "--to", day(2)), "is before --from"),
        (("acute", "A0001", "--from", "2027-02-30", "--to", day(2), *today),
         "--from: not a date: '2027-02-30' (use YYYY-MM-DD)"),
        (("cancel", "A0001", "--from", day(1), "--to", day(2), "--today", "next week"),
         "--today: not a date: 'next week'"),
        (("move", "A0001", "--from", day(2), "--to", day(3), "--to-house", "h9", *today),
         "unknown house 'h9'"),
        (("pin", "ZZ999", "--from", day(2), "--to", day(3)), "ZZ999 is not a child"),
        (("offer", tmp_path / "missing.csv", "--from", day(0), "--to", day(6), *today),
         "missing.csv: file not found"),
    ]  # fmt: skip
    for args, message in cases:
        extra = () if args[0] == "free-nights" else ("--yes",)
        result = run(*args, "--db", url, *extra)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    waiting = tmp_path / "waiting.csv"
    waiting.write_text(
        "child_id,applied,category,level,nights_wanted\nW0001,2027-01-01,4,2,3\n"
        "W0002,2026-11-31,2,1,2\n",
        encoding="utf-8",
    )
    result = run("offer", waiting, "--from", day(0), "--to", day(6), "--db", url, "--yes")
    assert result.exit_code == 2
    assert "waiting.csv, row 3, column applied" in result.output
    assert _versions(url) == [1]


def test_a_changed_input_is_named_in_a_warning(tmp_path: Path) -> None:
    url, input_dir = _published(tmp_path)
    result = run("free-nights", "--from", day(0), "--to", day(6), "--db", url)
    assert result.exit_code == 0 and "warning" not in result.output
    closures = input_dir / "closures.csv"
    closures.write_text(closures.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    result = run("free-nights", "--from", day(0), "--to", day(6), "--db", url)
    assert result.exit_code == 0
    assert "differ from those published with version 1" in result.output
