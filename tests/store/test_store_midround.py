"""The mid-round commands on both backends (SQLite and the PostgreSQL server of conftest.py):
acute with moves, pin, move, cancel, offer, then export and `allocator check` on the result.

The round: h1 (categories 2 and 3, 2 places, no reserve), h2 (category 3, 1 place); A0001 and
B0002 (category 3) in h1 every night of the week from Monday 2027-01-04.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from factories import MONDAY, child, house, round_input
from typer.testing import CliRunner, Result

from allocator.cli import app
from allocator.io.write_input import write_round
from allocator.store import open_store


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "300"})


def day(i: int) -> str:
    return (MONDAY + dt.timedelta(days=i)).isoformat()


def test_every_change_on_this_backend(store_url: str, tmp_path: Path) -> None:
    inp = round_input(
        [house("h1", places=2), house("h2", places=1, categories="3")],
        [child("A0001", 7, category="3"), child("B0002", 7, category="3")],
    )
    input_dir = tmp_path / "input"
    write_round(inp, input_dir)
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    rows = ["child_id,house_id,night"]
    rows += [f"{c},h1,{day(i)}" for c in ("A0001", "B0002") for i in range(7)]
    (plan_dir / "bookings.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    db = ("--db", store_url)
    today = ("--today", day(0))
    waiting = tmp_path / "waiting.csv"
    waiting.write_text(
        f"child_id,applied,category,level,nights_wanted\nW0001,{day(-40)},3,2,1\n",
        encoding="utf-8",
    )
    steps = [
        ("publish", input_dir, plan_dir, "--who", "kari"),
        ("pin", "A0001", "--from", day(0), "--to", day(6), "--who", "kari", "--yes"),
        ("acute", "AK001", "--category", "2", "--age", "11", "--from", day(2), "--to", day(3),
         *today, "--who", "ola", "--yes"),
        ("move", "B0002", "--from", day(5), "--to", day(5), "--to-house", "h2", *today,
         "--who", "per", "--yes"),
        ("cancel", "B0002", "--from", day(6), "--to", day(6), *today, "--who", "kari", "--yes"),
        ("offer", waiting, "--from", day(0), "--to", day(6), *today, "--out", tmp_path / "n",
         "--who", "kari", "--yes"),
    ]  # fmt: skip
    for step in steps:
        result = run(*step, *db)
        assert result.exit_code == 0, (step, result.output)
    with open_store(store_url) as store:
        history = store.history()
        plan = {(b.child_id, b.night): (b.house_id, b.kind) for b in store.bookings()}
        pinned = store.pinned_nights()
    assert [(v.kind, v.who) for v in history] == [
        ("round", "kari"),
        ("pin", "kari"),
        ("acute", "ola"),
        ("move", "per"),
        ("cancel", "kari"),
        ("offer", "kari"),
    ]
    # The pinned family never moved; B0002 made room for the acute stay in h2.
    assert len(pinned) == 7
    assert all(
        plan[("A0001", MONDAY + dt.timedelta(days=i))] == ("h1", "planned") for i in range(7)
    )
    assert plan[("AK001", MONDAY + dt.timedelta(days=2))] == ("h1", "acute")
    assert plan[("B0002", MONDAY + dt.timedelta(days=2))] == ("h2", "planned")
    # h2 has the most free nights for W0001 (Monday, Tuesday, Friday, Sunday): its first.
    assert plan[("W0001", MONDAY)] == ("h2", "offered")
    assert sum(1 for c, _ in plan if c == "W0001") == 1
    assert (tmp_path / "n" / "melding_W0001.txt").is_file()
    out = tmp_path / "export"
    assert run("export", "--out", out, *db).exit_code == 0
    result = run("check", input_dir, out)
    assert result.exit_code == 0, result.output
