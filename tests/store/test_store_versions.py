"""Issue 6, "A durable plan store": every change to a published plan becomes a new version with
an audit line (who, when, why); any version can be exported and compared.

On both backends (SQLite and PostgreSQL, see conftest.py): `Store.commit_change` round trip, a
stale parent refused, a change that fails or is killed half-way leaves the previous version,
`Store.diff` names the moved nights, `export_version` writes a plan folder the checker accepts
(and nothing half-written), and ``allocator export`` / ``allocator diff`` on the command line.

The round here: houses h1 (1 place) and h2 (2 places, 1 of them the acute reserve); B0001
granted 2, B0002 3, B0003 2; a week from Monday 2027-01-04. Pseudonymous ids only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import typer
from factories import child, house, round_input
from openpyxl import load_workbook
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from store_helpers import night
from typer.testing import CliRunner, Result

import allocator.report.workbook as workbook
import allocator.store.versions as store_versions
from allocator.check import check_plan
from allocator.commands.version_cmds import diff, export
from allocator.io.bookings import read_bookings
from allocator.io.reader import read_round
from allocator.io.write_input import write_round
from allocator.store import RoundChildInfo, StoreError, open_store
from allocator.store.diff import diff_bookings, format_diff
from allocator.store.export import ExportError, export_version
from models.outputs import Booking
from models.round_input import RoundInput

TABLES = ("plan_versions", "bookings", "round_children", "kind_balances", "audit_log")
HERE = Path(__file__).resolve().parent
ACUTE_CHILD = RoundChildInfo("B0009", granted=0, allocated=0, pattern="any", category="2", level=2)


def two_house_round() -> RoundInput:
    """h1 (1 place), h2 (2 places, 1 kept for acute stays); B0001 2, B0002 3, B0003 2 nights."""
    return round_input(
        [house("h1", places=1), house("h2", places=2)],
        [child("B0001", 2), child("B0002", 3), child("B0003", 2)],
        acute_reserve={"h2": 1},
    )


def plan_v1() -> list[Booking]:
    """B0001 the weekend in h1, B0002 Monday–Wednesday in h1, B0003 Monday–Tuesday in h2."""
    return [
        *(Booking("B0001", "h1", night(o)) for o in (4, 5)),
        *(Booking("B0002", "h1", night(o)) for o in (0, 1, 2)),
        *(Booking("B0003", "h2", night(o)) for o in (0, 1)),
    ]


def with_acute(plan: list[Booking]) -> list[Booking]:
    """`plan` and an acute stay of B0001 in h2's reserved place, Monday–Wednesday."""
    return [*plan, *(Booking("B0001", "h2", night(o), "acute") for o in (0, 1, 2))]


def table_counts(url: str) -> dict[str, int]:
    """Rows in each table of the store, read with a connection of its own."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {t: int(conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in TABLES}
    finally:
        engine.dispose()


def snapshot(url: str) -> tuple[Any, ...]:
    """Everything a reader can see of the store."""
    with open_store(url) as store:
        return (
            table_counts(url),
            store.history(),
            store.balances(),
            store.bookings(),
            store.booking_kinds(),
            store.round_children(1),
            store.family_balances(1),
        )


def publish_v1(url: str, inp: RoundInput | None = None) -> RoundInput:
    inp = inp or two_house_round()
    with open_store(url) as store:
        assert store.publish(inp, plan_v1(), who="tester", why="spring round") == 1
    return inp


# ---------------------------------------------------------------------------------------------
# commit_change
# ---------------------------------------------------------------------------------------------


def test_commit_change_round_trip(store_url: str) -> None:
    publish_v1(store_url)
    acute_stay = [Booking("B0009", "h2", night(o)) for o in (3, 4)]
    with open_store(store_url) as store:
        version = store.commit_change(
            parent=1,
            bookings=[*plan_v1(), *acute_stay],
            kinds={(b.child_id, b.night): "acute" for b in acute_stay},
            action="acute",
            who="tester",
            why="crisis in the family",
            detail="acute stay B0009 2027-01-07 – 2027-01-08 in h2",
            new_children=[ACUTE_CHILD],
        )
        assert version == 2
    with open_store(store_url) as store:  # read back through a fresh connection
        assert store.latest_version() == 2
        v1, v2 = store.history()
        assert (v2.kind, v2.parent_version, v2.who, v2.why) == (
            "acute",
            1,
            "tester",
            "crisis in the family",
        )
        assert (v2.round_start, v2.round_end) == (v1.round_start, v1.round_end)
        assert (v2.input_hash, v2.input_source) == (v1.input_hash, v1.input_source)
        assert (v2.n_bookings, v2.n_families) == (9, 4)
        assert v1.replaced_by is None  # a change is not a new publication of the round
        [line] = v2.audit
        assert (line.action, line.who, line.version) == ("acute", "tester", 2)
        assert line.detail == "acute stay B0009 2027-01-07 – 2027-01-08 in h2"
        assert line.at.tzinfo is not None

        expected = {("B0009", night(3)): "acute", ("B0009", night(4)): "acute"}
        assert store.booking_kinds(2) == expected
        assert store.booking_kinds() == expected
        assert store.booking_kinds(1) == {}
        kinds = {(b.child_id, b.night): b.kind for b in store.bookings(2)}
        assert kinds[("B0009", night(3))] == "acute" and kinds[("B0001", night(4))] == "planned"
        assert store.bookings(1) == sorted(plan_v1())  # the parent is unchanged

        children = {c.child_id: c for c in store.round_children(2)}
        assert [c.child_id for c in store.round_children(1)] == ["B0001", "B0002", "B0003"]
        assert sorted(children) == ["B0001", "B0002", "B0003", "B0009"]
        assert (children["B0002"].granted, children["B0002"].allocated) == (3, 3)
        assert (children["B0002"].pattern, children["B0002"].category) == ("any", "2")
        # The acute child is granted 0; acute nights are counted apart from the grant.
        assert (children["B0009"].granted, children["B0009"].allocated) == (0, 0)
        assert store.family_balances(2) == store.family_balances(1)
        balances_after_v2 = store.balances()

        # A second change from version 2: B0002's Wednesday is cancelled and offered to B0003
        # in h1; the acute stay is carried on by passing version 2's kinds.
        plan3 = [b for b in store.bookings(2) if (b.child_id, b.night) != ("B0002", night(2))] + [
            Booking("B0003", "h1", night(2))
        ]
        kinds3 = {**store.booking_kinds(2), ("B0003", night(2)): "offered"}
        assert (
            store.commit_change(
                parent=2,
                bookings=plan3,
                kinds=kinds3,
                action="offer",
                who="kari",
                why="free night",
                detail="",
                new_children=[ACUTE_CHILD],  # already a child of version 2: kept as it is
            )
            == 3
        )
        assert store.booking_kinds(3) == {
            ("B0003", night(2)): "offered",
            ("B0009", night(3)): "acute",
            ("B0009", night(4)): "acute",
        }
        children3 = {c.child_id: c.allocated for c in store.round_children(3)}
        assert children3 == {"B0001": 2, "B0002": 2, "B0003": 3, "B0009": 0}
        v3 = store.history()[-1]
        assert (v3.kind, v3.parent_version, v3.who) == ("offer", 2, "kari")
        assert v3.audit[0].detail == "offer: 9 bed-nights (version 2 had 9)"
        assert store.balances() == balances_after_v2  # a change copies the balances


def test_a_stale_parent_is_refused_and_nothing_is_written(store_url: str) -> None:
    publish_v1(store_url)
    with open_store(store_url) as first, open_store(store_url) as second:
        # Both coordinators read version 1; the first writes its change.
        assert first.latest_version() == second.latest_version() == 1
        first.commit_change(
            parent=1,
            bookings=plan_v1()[1:],
            kinds={},
            action="cancel",
            who="a",
            why="family cancelled",
            detail="B0001 2027-01-08 cancelled",
        )
        before = snapshot(store_url)
        with pytest.raises(StoreError) as caught:
            second.commit_change(
                parent=1,
                bookings=plan_v1()[:-1],
                kinds={},
                action="cancel",
                who="b",
                why="family cancelled",
                detail="B0003 2027-01-05 cancelled",
            )
        message = str(caught.value)
        assert "the plan changed since version 1 (now version 2): run the command again" in message
        assert "\n" not in message
        assert snapshot(store_url) == before
        # Run again from the newest version: accepted.
        assert (
            second.commit_change(
                parent=2,
                bookings=plan_v1()[1:-1],
                kinds={},
                action="cancel",
                who="b",
                why="family cancelled",
                detail="B0003 2027-01-05 cancelled",
            )
            == 3
        )


def test_bad_changes_write_nothing(store_url: str) -> None:
    publish_v1(store_url)
    before = snapshot(store_url)
    good: dict[str, Any] = {
        "parent": 1,
        "bookings": plan_v1(),
        "kinds": {},
        "action": "move",
        "who": "tester",
        "why": "x",
        "detail": "",
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({"who": "  "}, "say who"),
        ({"parent": 7}, "no version 7"),
        ({"action": "round"}, "not a change"),
        ({"action": "Two words"}, "not a change"),
        ({"why": "for 000000 00000"}, "national ID"),  # an all-zero stand-in, never a real one
        ({"detail": "00000000000"}, "national ID"),
        (
            {
                "bookings": [*plan_v1(), Booking("00000000000", "h2", night(3))],
                "new_children": [RoundChildInfo("00000000000", 0, 0, "any", "2", 2)],
            },
            "national ID",
        ),
        ({"kinds": {("B0001", night(4)): "urgent"}}, "unknown booking kind 'urgent'"),
        ({"bookings": [*plan_v1(), plan_v1()[0]]}, "booked twice"),
        ({"bookings": [*plan_v1(), Booking("B0001", "h2", night(9))]}, "outside the round"),
        ({"bookings": [*plan_v1(), Booking("B0009", "h2", night(3))]}, "not children of the round"),
        (
            {"new_children": [ACUTE_CHILD, ACUTE_CHILD]},
            "new children given twice",
        ),
    ]
    with open_store(store_url) as store:
        for change, message in cases:
            with pytest.raises(StoreError, match=message):
                store.commit_change(**{**good, **change})
    assert snapshot(store_url) == before


# ---------------------------------------------------------------------------------------------
# Failures half-way
# ---------------------------------------------------------------------------------------------


def test_a_change_that_fails_half_way_leaves_the_previous_version(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_v1(store_url)
    before = snapshot(store_url)

    def fail(*args: Any, **kwargs: Any) -> int:
        # By now version 2, its bookings and its round children are written in the transaction.
        raise RuntimeError("failed half-way")

    monkeypatch.setattr(store_versions, "copy_balances", fail)
    change: dict[str, Any] = {
        "parent": 1,
        "bookings": with_acute(plan_v1()),
        "kinds": {},
        "action": "acute",
        "who": "tester",
        "why": "acute",
        "detail": "",
    }
    with open_store(store_url) as store, pytest.raises(RuntimeError, match="half-way"):
        store.commit_change(**change)
    assert snapshot(store_url) == before
    monkeypatch.undo()
    with open_store(store_url) as store:
        assert store.commit_change(**change) == 2  # no gap, the store is usable


def test_a_killed_change_leaves_the_previous_version(store_url: str) -> None:
    publish_v1(store_url)
    before = snapshot(store_url)
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(HERE)!r})
        from test_store_versions import plan_v1, with_acute
        import allocator.store.versions as store_versions
        from allocator.store import open_store

        def die(*args, **kwargs):
            os._exit(3)  # the process dies inside the write transaction, without cleanup

        store_versions.copy_balances = die
        open_store(sys.argv[1]).commit_change(
            parent=1, bookings=with_acute(plan_v1()), kinds={{}}, action="acute",
            who="killed", why="x", detail="",
        )
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, store_url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert snapshot(store_url) == before
    with open_store(store_url, timeout=10) as store:
        version = store.commit_change(
            parent=1,
            bookings=with_acute(plan_v1()),
            kinds={},
            action="acute",
            who="tester",
            why="x",
            detail="",
        )
        assert version == 2
        assert [v.who for v in store.history()] == ["tester", "tester"]


# ---------------------------------------------------------------------------------------------
# diff
# ---------------------------------------------------------------------------------------------


def test_diff_names_the_moved_nights(store_url: str) -> None:
    publish_v1(store_url)
    # B0002's Monday and Tuesday move from h1 to h2, B0003's Tuesday is cancelled and B0001
    # gets an acute stay in h1 on Monday and Tuesday.
    plan2 = [
        Booking(b.child_id, "h2", b.night)
        if b.child_id == "B0002" and b.night in (night(0), night(1))
        else b
        for b in plan_v1()
        if (b.child_id, b.night) != ("B0003", night(1))
    ]
    plan2 += [Booking("B0001", "h1", night(o), "acute") for o in (0, 1)]
    with open_store(store_url) as store:
        store.commit_change(
            parent=1,
            bookings=plan2,
            kinds={},
            action="move",
            who="tester",
            why="house h1 short of staff",
            detail="B0002 to h2",
        )
        d = store.diff(1, 2)
        same = store.diff(2, 2)
        with pytest.raises(StoreError, match="no version 5"):
            store.diff(1, 5)
    assert (d.a, d.b, d.n_bookings_a, d.n_bookings_b) == (1, 2, 7, 8)
    assert (d.added, d.removed, d.moved, d.families) == (2, 1, 2, 3)
    by_child = {c.child_id: c for c in d.children}
    assert [(m.night, m.from_house, m.to_house) for m in by_child["B0002"].moved] == [
        (night(0), "h1", "h2"),
        (night(1), "h1", "h2"),
    ]
    assert [(x.night, x.house_id) for x in by_child["B0003"].removed] == [(night(1), "h2")]
    assert [(x.night, x.kind) for x in by_child["B0001"].added] == [
        (night(0), "acute"),
        (night(1), "acute"),
    ]
    text_ = format_diff(d)
    assert text_.splitlines()[0] == (
        "Version 2 against version 1: 2 nights added, 1 removed, 2 moved to another house,"
        " for 3 families (bed-nights 7 → 8)."
    )
    assert "  B0002 moved: 2027-01-04 – 2027-01-05 from h1 to h2" in text_
    assert "  B0003 removed: 2027-01-05 in h2" in text_
    assert "  B0001 added: 2027-01-04 – 2027-01-05 in h1 (acute)" in text_
    assert same.same and format_diff(same) == (
        "Version 2 against version 2: the same 8 bed-nights, nothing changed."
    )


def test_format_diff_groups_nights_and_names_kind_changes() -> None:
    a = [Booking("B0001", "h1", night(o)) for o in (0, 1, 2, 4)]
    b = [Booking("B0001", "h2", night(o)) for o in (0, 1, 4)] + [
        Booking("B0001", "h1", night(2), "offered")
    ]
    d = diff_bookings(3, 4, a, b)
    assert (d.moved, d.rekinded, d.added, d.removed) == (3, 1, 0, 0)
    assert format_diff(d).splitlines()[1:] == [
        "  B0001 moved: 2027-01-04 – 2027-01-05, 2027-01-08 from h1 to h2",
        "  B0001 changed kind: 2027-01-06 in h1, planned → offered",
    ]


# ---------------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------------


def published_with_acute(url: str, tmp_path: Path) -> tuple[Path, RoundInput]:
    """The round written as an input folder, read back (so its source is recorded), published
    as version 1 and changed by an acute stay as version 2."""
    input_dir = tmp_path / "round-input"
    write_round(two_house_round(), input_dir)
    inp = read_round(input_dir)
    publish_v1(url, inp)
    with open_store(url) as store:
        store.commit_change(
            parent=1,
            bookings=with_acute(plan_v1()),
            kinds={},
            action="acute",
            who="kari",
            why="crisis in the family",
            detail="acute stay B0001 in h2",
        )
    return input_dir, inp


def test_export_writes_a_plan_folder_the_checker_accepts(store_url: str, tmp_path: Path) -> None:
    input_dir, inp = published_with_acute(store_url, tmp_path)
    out = tmp_path / "export-v2"
    with open_store(store_url) as store:
        assert export_version(store, None, out, inp) == out
        assert export_version(store, 1, tmp_path / "export-v1", None) == tmp_path / "export-v1"
    assert sorted(p.name for p in out.iterdir()) == [
        "bookings.csv",
        "calendar.xlsx",
        "summary.json",
    ]
    lines = (out / "bookings.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "child_id,house_id,night,kind"
    assert "B0001,h2,2027-01-04,acute" in lines and "B0001,h1,2027-01-08,planned" in lines
    assert len(lines) == 1 + 10

    bookings = read_bookings(out)
    assert sum(b.kind == "acute" for b in bookings) == 3
    assert check_plan(inp, bookings) == []
    # Read as a plain contract-v1 plan (every night planned), the acute stay would break the
    # reserve and B0001's grant: the kind column is what the checker needs.
    as_planned = [Booking(b.child_id, b.house_id, b.night) for b in bookings]
    assert {v.rule for v in check_plan(inp, as_planned)} >= {"R2_HOUSE_CAPACITY", "R5_GRANTED"}

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["version"], summary["parent"], summary["kind"]) == (2, 1, "acute")
    assert (summary["who"], summary["why"]) == ("kari", "crisis in the family")
    assert summary["round"] == {"start": "2027-01-04", "end": "2027-01-10"}
    assert summary["counts"]["by_kind"] == {"planned": 7, "acute": 3, "offered": 0}
    assert summary["counts"]["bed_nights"] == 10
    assert summary["input"]["matches"] is True
    assert summary["input"]["source"] == str(input_dir.resolve())
    assert [a["action"] for a in summary["audit"]] == ["acute"]
    assert {c["child_id"]: c["allocated"] for c in summary["children"]} == {
        "B0001": 2,
        "B0002": 3,
        "B0003": 2,
    }
    workbook_ = load_workbook(out / "calendar.xlsx", read_only=True)
    assert len(workbook_.sheetnames) == 4
    workbook_.close()

    plain = tmp_path / "export-v1"
    assert sorted(p.name for p in plain.iterdir()) == ["bookings.csv", "summary.json"]
    assert read_bookings(plain) == sorted(plan_v1(), key=lambda b: (b.child_id, b.night))
    assert json.loads((plain / "summary.json").read_text())["input"]["matches"] is None


def test_export_writes_nothing_half_way(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    input_dir, inp = published_with_acute(store_url, tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    earlier = tmp_path / "earlier-plan"
    earlier.mkdir()
    (earlier / "summary.json").write_text("{}\n")
    (earlier / "bookings.csv").write_text("child_id,house_id,night\n")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("keep me\n")

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    with open_store(store_url) as store:
        # The folder cannot be made: its parent is a file (refused before writing).
        with pytest.raises(ExportError, match="is a file, so no folder") as caught:
            export_version(store, 2, blocker / "out", inp)
        assert "\n" not in str(caught.value)
        # Refused before writing: the input, a file, a folder that is not a plan.
        with pytest.raises(ExportError, match="the input"):
            export_version(store, 2, input_dir, None)
        with pytest.raises(ExportError, match="it is a file"):
            export_version(store, 2, blocker, None)
        with pytest.raises(ExportError, match="not empty and holds no earlier plan"):
            export_version(store, 2, notes, None)
        with pytest.raises(ExportError, match="2027-01-11"):
            other = round_input([house("h1")], [child("B0001")], start=night(7))
            export_version(store, 2, tmp_path / "other", other)
        with pytest.raises(StoreError, match="no version 9"):
            export_version(store, 9, tmp_path / "v9", None)
        # The disk fills up after bookings.csv is written: the earlier plan stays as it was.
        monkeypatch.setattr(workbook, "write_calendar_workbook", fail)
        with pytest.raises(ExportError, match="No space left on device"):
            export_version(store, 2, earlier, inp)
        with pytest.raises(ExportError, match="No space left on device"):
            export_version(store, 2, tmp_path / "new-out", inp)
    assert blocker.read_text() == "not a folder\n"
    assert (notes / "todo.txt").read_text() == "keep me\n"
    assert sorted(p.name for p in earlier.iterdir()) == ["bookings.csv", "summary.json"]
    assert (earlier / "bookings.csv").read_text() == "child_id,house_id,night\n"
    assert not (tmp_path / "new-out").exists() and not (tmp_path / "other").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp dirs
    assert read_round(input_dir) == inp  # the input untouched


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------

app = typer.Typer(pretty_exceptions_enable=False)
app.command()(export)
app.command()(diff)

# A wide console, so rich does not wrap a message.
ENV = {"COLUMNS": "300", "USER": "tester"}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def test_export_and_diff_commands(store_url: str, tmp_path: Path) -> None:
    input_dir, _ = published_with_acute(store_url, tmp_path)

    # The recorded input is used by default: calendar.xlsx is written.
    out = tmp_path / "v2"
    result = run("export", "--out", out, "--db", store_url)
    assert result.exit_code == 0, result.output
    assert "Exported version 2 (acute, round 2027-01-04 – 2027-01-10)" in result.output
    assert "10 bed-nights (7 planned, 3 acute) for 3 families" in result.output
    assert (out / "calendar.xlsx").is_file()

    # The project's own checker accepts the exported folder.
    from allocator.cli import app as allocator_app

    checked = CliRunner().invoke(allocator_app, ["check", str(input_dir), str(out)], env=ENV)
    assert checked.exit_code == 0, checked.output
    assert "Every hard rule holds." in checked.output

    result = run(
        "export",
        "--version",
        "1",
        "--out",
        tmp_path / "v1",
        "--input",
        input_dir,
        "--db",
        store_url,
    )
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "v1" / "summary.json").read_text())["version"] == 1

    result = run("diff", "1", "2", "--db", store_url)
    assert result.exit_code == 0, result.output
    assert "Version 2 against version 1: 3 nights added, 0 removed" in result.output
    assert "B0001 added: 2027-01-04 – 2027-01-06 in h2 (acute)" in result.output

    # Refusals: one line, exit 1 (an unknown version) or 2 (a bad --out), no traceback.
    for args, code in (
        (("diff", "1", "4", "--db", store_url), 1),
        (("export", "--version", "4", "--out", tmp_path / "v4", "--db", store_url), 1),
        (("export", "--out", input_dir, "--db", store_url), 2),
    ):
        result = run(*args)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output

    # Bad input: exit 2 with the problems.
    bad_input = tmp_path / "bad-input"
    bad_input.mkdir()
    result = run("export", "--out", tmp_path / "v2b", "--input", bad_input, "--db", store_url)
    assert result.exit_code == 2, result.output
    assert "Bad input" in result.output
