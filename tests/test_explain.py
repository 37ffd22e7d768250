"""`allocator explain`: each hand-made plan names the true blocking cause of a missing night.

Every round is one week, Monday 2027-01-04 .. Sunday 2027-01-10 (night 2027-01-08 is Friday),
built with the factories; plans are written by hand as `Booking` lists. Children are pseudonyms.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))

from factories import child, closure, house, round_input, unavailable, wish

from allocator.commands.explain_cmd import EXIT_BAD_INPUT, explain
from allocator.explain import (
    Cause,
    ChildExplanation,
    UnknownChildError,
    explain_child,
    explain_children,
    explain_wishes,
    format_explanation,
    format_range,
)
from allocator.io.write_input import write_round
from models.outputs import Booking
from models.round_input import RoundInput

MON, TUE, WED, THU, FRI, SAT, SUN = (dt.date(2027, 1, d) for d in range(4, 11))
WEEK = (MON, TUE, WED, THU, FRI, SAT, SUN)


def book(child_id: str, house_id: str, nights: Iterable[dt.date]) -> list[Booking]:
    return [Booking(child_id, house_id, n) for n in nights]


def causes_by_night(e: ChildExplanation) -> dict[dt.date, Cause]:
    """Night → primary cause, from the explanation's ranges."""
    out: dict[dt.date, Cause] = {}
    for r in e.ranges:
        for i in range(r.nights):
            out[r.first + dt.timedelta(days=i)] = r.cause
    return out


def details(e: ChildExplanation, cause: Cause) -> str:
    return " | ".join(r.detail for r in e.ranges if r.cause is cause)


def suggestion(e: ChildExplanation, kind: str) -> str:
    found = [s for s in e.suggestions if s.kind == kind]
    assert found, f"no {kind!r} suggestion in {[s.text for s in e.suggestions]}"
    return found[0].text


# ---------------------------------------------------------------------------------------------
# The blocking causes
# ---------------------------------------------------------------------------------------------


def test_house_full_with_other_children() -> None:
    inp = round_input(
        [house("h1", places=1)],
        [child("B0001", 4), child("B0002", 4)],
    )
    plan = book("B0002", "h1", [MON, TUE, WED, THU]) + book("B0001", "h1", [FRI, SAT])
    e = explain_child(inp, plan, "B0001")
    assert (e.granted, e.available, e.allocated, e.shortfall) == (4, 7, 2, 2)
    by_night = causes_by_night(e)
    assert [by_night[n] for n in (MON, TUE, WED, THU)] == [Cause.HOUSES_FULL] * 4
    assert by_night[SUN] is Cause.FREE_NOT_USED
    assert set(by_night) == {MON, TUE, WED, THU, SUN}  # every night not booked, once
    assert "full with other children: Hus h1" in details(e, Cause.HOUSES_FULL)
    place = [s for s in e.suggestions if s.kind == "place"]
    assert place[0].nights == 2  # capped at the shortfall
    assert "1 more place in Hus h1 on Mon 4 – Thu 7 Jan 2027 would give 2 nights" in place[0].text


def test_acute_reserve_held_the_only_free_place() -> None:
    inp = round_input(
        [house("h1", places=2)],
        [child("B0001", 2), child("B0002", 7)],
        acute_reserve={"h1": 1},
    )
    e = explain_child(inp, book("B0002", "h1", WEEK), "B0001")
    assert e.allocated == 0
    assert set(causes_by_night(e).values()) == {Cause.ACUTE_RESERVE}
    assert "acute reserve in Hus h1 held the only free place" in details(e, Cause.ACUTE_RESERVE)
    assert "lifting the acute reserve in Hus h1 would free 2 nights for this child" in suggestion(
        e, "acute_reserve"
    )


def test_closure_leaves_no_usable_place() -> None:
    inp = round_input(
        [house("h1", places=1)],
        [child("B0001", 7)],
        closures=[closure("h1", WED, FRI, 1)],
    )
    plan = book("B0001", "h1", [MON, TUE, SAT, SUN])
    e = explain_child(inp, plan, "B0001")
    by_night = causes_by_night(e)
    assert by_night == {WED: Cause.NO_PLACE, THU: Cause.NO_PLACE, FRI: Cause.NO_PLACE}
    assert len(e.ranges) == 1 and e.ranges[0].nights == 3
    assert "Hus h1 closed" in e.ranges[0].detail
    assert "keeping 1 closed place in Hus h1 open" in suggestion(e, "closure")


def test_house_budget_used_up() -> None:
    # Budget 2 × 110 × 7 / 365 = 4 nights, all used by B0002; the house has a free place nightly.
    inp = round_input(
        [house("h1", places=2, nights_per_place_year=110)],
        [child("B0001", 2), child("B0002", 4)],
    )
    e = explain_child(inp, book("B0002", "h1", [MON, TUE, WED, THU]), "B0001")
    assert set(causes_by_night(e).values()) == {Cause.BUDGET}
    assert "used up in Hus h1 (4 of 4 nights)" in details(e, Cause.BUDGET)
    assert "raising Hus h1's budget" in suggestion(e, "budget")


def test_incompatible_child_in_the_only_free_place() -> None:
    inp = round_input(
        [house("h1", places=2), house("h2", places=1)],
        [child("B0001", 2), child("B0002", 7), child("B0003", 7)],
        incompatible=[("B0001", "B0002")],
    )
    plan = book("B0002", "h1", WEEK) + book("B0003", "h2", WEEK)
    e = explain_child(inp, plan, "B0001")
    assert set(causes_by_night(e).values()) == {Cause.INCOMPATIBLE}
    text = details(e, Cause.INCOMPATIBLE)
    assert "the only free place is in Hus h1, where incompatible B0002 sleeps" in text
    assert "Hus h2 full" in text
    assert "moving B0002" in suggestion(e, "incompatible")


def test_summer_camp() -> None:
    inp = round_input(
        [house("h1", places=2)],
        [child("B0001", 5)],
        unavailable=[unavailable("B0001", WED, SUN, "sommerleir")],
    )
    e = explain_child(inp, book("B0001", "h1", [MON, TUE]), "B0001")
    assert (e.available, e.reachable, e.allocated) == (2, 2, 2)
    assert set(causes_by_night(e).values()) == {Cause.UNAVAILABLE}
    assert "summer camp (sommerleir)" in details(e, Cause.UNAVAILABLE)
    text = suggestion(e, "unavailable")
    assert "5 nights fell on summer camp" in text and "moved to other dates" in text


def test_pattern_limit_before_free_places() -> None:
    inp = round_input(
        [house("h1", places=2)],
        [child("B0001", 5, pattern="weekend")],
    )
    e = explain_child(inp, book("B0001", "h1", [THU, FRI, SAT]), "B0001")
    by_night = causes_by_night(e)
    assert by_night[WED] is Cause.PATTERN_LIMIT
    assert by_night[SUN] is Cause.PATTERN_LIMIT
    assert by_night[MON] is Cause.FREE_NOT_USED and by_night[TUE] is Cause.FREE_NOT_USED
    text = details(e, Cause.PATTERN_LIMIT)
    assert (
        "a 4-night stay, longer than the 3 nights in a row the family's pattern (weekend)" in text
    )
    assert "not a Friday or Saturday night" in details(e, Cause.FREE_NOT_USED)
    assert "stays longer than 3 nights (the longest the family's pattern, weekend" in suggestion(
        e, "pattern"
    )


def test_pattern_limit_comes_before_a_full_house() -> None:
    inp = round_input(
        [house("h1", places=1)],
        [child("B0001", 4, pattern="weekend"), child("B0002", 1)],
    )
    plan = book("B0001", "h1", [THU, FRI, SAT]) + book("B0002", "h1", [WED])
    by_night = causes_by_night(explain_child(inp, plan, "B0001"))
    assert by_night[WED] is Cause.PATTERN_LIMIT


def test_one_house_stay_between_two_houses() -> None:
    inp = round_input([house("h1"), house("h2")], [child("B0001", 4)])
    plan = book("B0001", "h1", [MON]) + book("B0001", "h2", [WED])
    by_night = causes_by_night(explain_child(inp, plan, "B0001"))
    assert by_night[TUE] is Cause.ONE_HOUSE_STAY


def test_continuing_stay_is_judged_in_its_own_house() -> None:
    # h1 is full on Tuesday and h2 is free, but Monday's stay in h1 can only go on in h1.
    inp = round_input(
        [house("h1", places=1), house("h2", places=1)],
        [child("B0001", 3), child("B0002", 1)],
    )
    plan = book("B0001", "h1", [MON]) + book("B0002", "h1", [TUE])
    e = explain_child(inp, plan, "B0001")
    assert causes_by_night(e)[TUE] is Cause.HOUSES_FULL
    assert "a stay is in one house" in e.ranges[0].detail


def test_no_house_accepts_the_category() -> None:
    inp = round_input([house("h1")], [child("B0001", 2, category="5", level=4)])
    e = explain_child(inp, [], "B0001")
    assert set(causes_by_night(e).values()) == {Cause.NO_PLACE}
    assert "no respite house accepts category 5 with night watch" in e.ranges[0].detail


def test_outside_the_vedtak() -> None:
    inp = round_input([house("h1")], [child("B0001", 5, vedtak_to=WED)])
    e = explain_child(inp, book("B0001", "h1", [MON, TUE, WED]), "B0001")
    assert set(causes_by_night(e).values()) == {Cause.OUTSIDE_VEDTAK}
    assert "after it ends" in e.ranges[0].detail


def test_conditional_house_not_offered() -> None:
    houses = [house(f"h{i}", places=1, categories="4") for i in (1, 2, 3)]
    houses.append(house("h4", places=1, categories="2;3", conditional_categories="4"))
    kids = [child(f"B000{i}", 7, category="4", level=4) for i in (1, 2, 3, 4)]
    inp = round_input(houses, kids)
    plan = [b for i in (2, 3, 4) for b in book(f"B000{i}", f"h{i - 1}", WEEK)]
    e = explain_child(inp, plan, "B0001")
    assert set(causes_by_night(e).values()) == {Cause.FREE_NOT_USED}
    assert "takes category 4 only conditionally" in e.ranges[0].detail
    assert "allowing a conditional house (Hus h4, category (4)) would add 7 candidate nights" in (
        suggestion(e, "conditional_house")
    )


def test_fully_served_child() -> None:
    inp = round_input([house("h1")], [child("B0001", 2)])
    e = explain_child(inp, book("B0001", "h1", [FRI, SAT]), "B0001")
    assert e.fully_served and e.shortfall == 0
    assert e.ranges == () and e.suggestions == ()
    text = format_explanation(e)
    assert "B0001 got all 2 granted nights (Hus h1 2)." in text
    assert "Why" not in text


def test_unknown_child() -> None:
    inp = round_input([house("h1")], [child("B0001", 2)])
    with pytest.raises(UnknownChildError):
        explain_child(inp, [], "B9999")


def test_explain_children_defaults_to_short_children() -> None:
    inp = round_input([house("h1", places=2)], [child("B0001", 2), child("B0002", 2)])
    found = explain_children(inp, book("B0001", "h1", [MON, TUE]))
    assert [e.child_id for e in found] == ["B0002"]


def test_format_explanation_reads_well() -> None:
    inp = round_input(
        [house("h1", places=1)],
        [child("B0001", 4), child("B0002", 4)],
        wishes=[wish("B0001", MON, TUE)],
    )
    plan = book("B0002", "h1", [MON, TUE, WED, THU]) + book("B0001", "h1", [FRI, SAT])
    text = format_explanation(explain_child(inp, plan, "B0001"))
    assert "B0001: granted 4 nights, 7 available, booked 2 (Hus h1 2): 2 short" in text
    assert "every eligible house full" in text
    assert "What would help:" in text
    assert "Wishes: 0 of 1 met." in text


def test_format_range() -> None:
    assert format_range(FRI, FRI) == "Fri 8 Jan 2027"
    assert format_range(MON, WED) == "Mon 4 – Wed 6 Jan 2027"
    assert format_range(dt.date(2027, 1, 30), dt.date(2027, 2, 2)) == "Sat 30 Jan – Tue 2 Feb 2027"
    assert format_range(dt.date(2026, 12, 30), dt.date(2027, 1, 2)) == (
        "Wed 30 Dec 2026 – Sat 2 Jan 2027"
    )


# ---------------------------------------------------------------------------------------------
# Wishes
# ---------------------------------------------------------------------------------------------


def test_want_wish_unmet_because_the_house_was_full() -> None:
    inp = round_input(
        [house("h1", places=1)],
        [child("B0001", 2), child("B0002", 2)],
        wishes=[wish("B0001", FRI, SAT, "want", 3), wish("B0001", MON, TUE, "want")],
    )
    plan = book("B0002", "h1", [FRI, SAT]) + book("B0001", "h1", [MON, TUE])
    unmet, met = explain_wishes(inp, plan)
    assert (unmet.met, unmet.nights_met, unmet.nights_total, unmet.weight) == (False, 0, 2, 3)
    assert unmet.reason is not None
    assert "full with other children: Hus h1" in unmet.reason
    assert [r.cause for r in unmet.ranges] == [Cause.HOUSES_FULL]
    assert met.met and met.reason is None and (met.nights_met, met.nights_total) == (2, 2)
    # The same statuses come with the child's explanation, and serialise to JSON.
    assert explain_child(inp, plan, "B0001").wishes == (unmet, met)
    row = json.loads(json.dumps(unmet.to_dict()))
    assert row["from"] == "2027-01-08" and row["kind"] == "want" and row["met"] is False


def test_want_wish_unmet_because_the_grant_was_booked_elsewhere() -> None:
    inp = round_input(
        [house("h1", places=2)],
        [child("B0001", 2)],
        wishes=[wish("B0001", THU, THU)],
    )
    (status,) = explain_wishes(inp, book("B0001", "h1", [MON, TUE]))
    assert not status.met
    assert status.reason is not None and "booked elsewhere in the half-year" in status.reason
    assert [r.cause for r in status.ranges] == [Cause.BOOKED_ELSEWHERE]


def test_want_wish_on_summer_camp() -> None:
    inp = round_input(
        [house("h1", places=2)],
        [child("B0001", 2)],
        unavailable=[unavailable("B0001", FRI, SUN, "sommerleir")],
        wishes=[wish("B0001", SAT, SUN)],
    )
    (status,) = explain_wishes(inp, book("B0001", "h1", [MON, TUE]))
    assert not status.met and status.nights_total == 0
    assert status.reason is not None
    assert "no night of the wish is available" in status.reason
    assert "summer camp" in status.reason


def test_avoid_night_booked_because_the_grant_needs_it() -> None:
    inp = round_input(
        [house("h1", places=1)],
        [child("B0001", 7)],
        wishes=[wish("B0001", FRI, FRI, "avoid", 2)],
    )
    (status,) = explain_wishes(inp, book("B0001", "h1", WEEK))
    assert not status.met and status.booked == (FRI,)
    assert status.reason is not None and "the grant needs them" in status.reason


def test_avoid_night_booked_although_others_were_free() -> None:
    inp = round_input(
        [house("h1", places=1)],
        [child("B0001", 2)],
        wishes=[wish("B0001", FRI, FRI, "avoid")],
    )
    (status,) = explain_wishes(inp, book("B0001", "h1", [FRI, SAT]))
    assert not status.met and (status.nights_met, status.nights_total) == (0, 1)
    assert status.reason is not None and "other nights had a free place" in status.reason


def test_avoid_wish_kept() -> None:
    inp = round_input(
        [house("h1", places=1)],
        [child("B0001", 2)],
        wishes=[wish("B0001", FRI, SUN, "avoid")],
    )
    (status,) = explain_wishes(inp, book("B0001", "h1", [MON, TUE]))
    assert status.met and (status.nights_met, status.nights_total) == (3, 3)


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("explain")(explain)

    @app.callback()
    def main() -> None:
        """Test app with the explain command."""

    return app


def _run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        _app(), ["explain", *(str(a) for a in args)], env={"COLUMNS": "200"}
    )
    return result.exit_code, result.stdout, result.stderr


def _folder(tmp_path: Path, inp: RoundInput, plan: list[Booking]) -> tuple[Path, Path]:
    round_dir, plan_dir = tmp_path / "round", tmp_path / "plan"
    write_round(inp, round_dir)
    plan_dir.mkdir()
    rows = ["child_id,house_id,night"] + [f"{b.child_id},{b.house_id},{b.night}" for b in plan]
    (plan_dir / "bookings.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return round_dir, plan_dir


def test_command_explains_a_child(tmp_path: Path) -> None:
    inp = round_input(
        [house("h1", places=2)],
        [child("B0001", 2), child("B0002", 7)],
        acute_reserve={"h1": 1},
    )
    round_dir, plan_dir = _folder(tmp_path, inp, book("B0002", "h1", WEEK))
    code, out, _ = _run(round_dir, plan_dir, "B0001")
    assert code == 0, out
    assert "B0001: granted 2 nights, 7 available, booked 0: 2 short of the grant." in out
    assert "acute reserve in Hus h1 held the only free place" in out
    code, out, _ = _run(round_dir, plan_dir, "B0002")
    assert code == 0 and "B0002 got all 7 granted nights" in out


def test_command_unknown_child(tmp_path: Path) -> None:
    round_dir, plan_dir = _folder(tmp_path, round_input([house("h1")], [child("B0001", 2)]), [])
    code, _, err = _run(round_dir, plan_dir, "B9999")
    assert code == EXIT_BAD_INPUT
    assert len(err.strip().splitlines()) == 1 and "Unknown child 'B9999'" in err


def test_command_bad_input_lists_problems(tmp_path: Path) -> None:
    round_dir, plan_dir = _folder(tmp_path, round_input([house("h1")], [child("B0001", 2)]), [])
    (plan_dir / "bookings.csv").write_text("child_id,house_id,night\nB0001,h1,8.1.2027x\n")
    code, _, err = _run(round_dir, plan_dir, "B0001")
    assert code == EXIT_BAD_INPUT
    assert "Bad input: 1 problem(s)" in err and "bookings.csv, row 2, column night" in err
    (round_dir / "houses.csv").unlink()
    code, _, err = _run(round_dir, plan_dir, "B0001")
    assert code == EXIT_BAD_INPUT and "houses.csv" in err


# ---------------------------------------------------------------------------------------------
# Fair shares
# ---------------------------------------------------------------------------------------------


def test_the_family_s_weekends_are_set_against_its_fair_share() -> None:
    # Three weeks from Monday 4 January 2027 (Fridays/Saturdays 8-9, 15-16, 22-23). Three
    # families with no pattern, 6 nights each, get the six weekend nights together: a fair
    # share of 2 each. B0001 has 4 (two of them the weekend it asked for), B0002 2, B0003 none.
    day = {d: dt.date(2027, 1, d) for d in range(4, 25)}
    inp = round_input(
        [house("h1", places=3)],
        [child(cid, 6) for cid in ("B0001", "B0002", "B0003")],
        nights=21,
        wishes=[wish("B0001", day[15], day[16])],
    )
    plan = (
        book("B0001", "h1", [day[d] for d in (4, 5, 8, 9, 15, 16)])
        + book("B0002", "h1", [day[d] for d in (11, 12, 13, 14, 22, 23)])
        + book("B0003", "h1", [day[d] for d in (5, 6, 7, 11, 12, 13)])
    )
    over, within, below = (explain_child(inp, plan, c) for c in ("B0001", "B0002", "B0003"))

    assert [(s.kind, s.got, s.asked) for s in over.shares] == [("weekend", 4, 2)]
    assert over.shares[0].share == pytest.approx(2.0)
    assert "Friday/Saturday nights: 4 nights, fair share 2.0: 2.0 over (2 of them asked for)" in (
        format_explanation(over)
    )
    assert "fair share 2.0: within ±1" in format_explanation(within)
    assert "Friday/Saturday nights: 0 nights, fair share 2.0: 2.0 below" in (
        format_explanation(below)
    )
