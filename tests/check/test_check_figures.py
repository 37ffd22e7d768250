"""Key figures of a tiny plan, every number counted by hand.

Round: Monday 2027-01-04 .. Sunday 2027-01-10 (7 nights; 8 = Friday, 9 = Saturday).

Houses
    H1 avlastningsbolig, 2 places, categories 2;3, conditional 4: capacity 14, budget 13.
    H2 avlastningsbolig, 2 places, categories 2;3;4, acute reserve 1: capacity 7, budget 13.
    H3 barnebolig, 1 place, category 5, 0 nights/place/year (no budget): capacity 7.
Children and plan
    B0001 cat 2, granted 6, pattern weekend, unavailable night 4: H1 nights 6, 8, 9.
        stays [6], [8-9] -> 2 stays, 1 single; Fri+Sat 2 of 3 nights; fulfilment 3/6 = 0.5.
    B0002 cat 4, granted 4, vedtak 4..9: H1 nights 4, 5 (conditional), H2 nights 6, 7.
        stays [H1 4-5], [H2 6-7] -> 2 stays, 0 singles; two houses; fulfilment 4/4 = 1.0.
    B0003 cat 2, granted 5: H2 night 10 -> 1 stay, 1 single; fulfilment 1/5 = 0.2.
    B0004 cat 2, granted 0: nothing (left out of the per-child figures).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from allocator.check import Figures, check_plan, compute_figures, format_figures, max_flow_bound
from models.outputs import Booking
from models.round_input import RoundInput

if TYPE_CHECKING:
    from conftest import Tiny


def _round(tiny: type[Tiny]) -> tuple[RoundInput, list[Booking]]:
    inp = tiny.round(
        houses=[
            tiny.house("H1", conditional_categories="4"),
            tiny.house("H2", categories="2;3;4"),
            tiny.house("H3", kind="barnebolig", places=1, categories="5", nights_per_place_year=0),
        ],
        children=[
            tiny.child("B0001", granted_nights=6, pattern="weekend"),
            tiny.child("B0002", category="4", granted_nights=4, vedtak_to=tiny.night(9)),
            tiny.child("B0003", granted_nights=5),
            tiny.child("B0004", granted_nights=0),
        ],
        unavailable=[tiny.unavailable("B0001", 4, 4)],
        wishes=[
            tiny.wish("B0001", 8, 9),  # both nights booked: met, 2 of 2
            tiny.wish("B0001", 4, 5),  # night 4 unavailable, so only 5 counts: not met, 0 of 1
            tiny.wish("B0002", 10, 10),  # outside the vedtak: no available night, not counted
            tiny.wish("B0003", 9, 10),  # 10 booked, 9 not: not met, 1 of 2
            tiny.wish("B0099", 4, 10),  # unknown child: ignored
            tiny.wish("B0001", 6, 7, "avoid"),  # night 6 booked: 1 broken
            tiny.wish("B0003", 4, 5, "avoid"),  # nothing booked
            tiny.wish("B0003", 5, 6, "avoid"),  # nothing booked
            tiny.wish("B0002", 7, 7, "avoid"),  # overlaps the next one: nights 6, 7 count once
            tiny.wish("B0002", 6, 7, "avoid"),  # -> 2 broken for B0002
        ],
        acute_reserve={"H2": 1},
    )
    plan = (
        tiny.book("B0001", "H1", 6, 8, 9)
        + tiny.book("B0002", "H1", 4, 5)
        + tiny.book("B0002", "H2", 6, 7)
        + tiny.book("B0003", "H2", 10)
    )
    return inp, plan


def test_hand_counted_figures(tiny: type[Tiny]) -> None:
    inp, plan = _round(tiny)
    assert check_plan(inp, plan) == []
    f = compute_figures(inp, plan, bound=10)

    assert f.granted == 6 + 4 + 5 + 0
    assert f.allocated == 8
    assert f.fulfilment == pytest.approx(8 / 15)
    assert f.children == 3
    assert f.lowest_child_fulfilment == pytest.approx(0.2)
    # numpy.percentile([0.2, 0.5, 1.0], 10): position 0.1 × 2 = 0.2 -> 0.2 + 0.2 × 0.3 = 0.26.
    assert f.p10_child_fulfilment == pytest.approx(0.26)
    assert f.children_under_80 == 2  # 0.5 and 0.2
    assert f.children_under_50 == 1  # 0.2 (0.5 is not under 50 %)

    assert f.usable_capacity == 13 + 7 + 7  # H1 min(13, 14), H2 min(13, 7), H3 barnebolig 7
    assert f.utilisation == pytest.approx(8 / 27)

    assert f.stays == 5
    assert f.single_night_stays == 2
    assert f.single_night_share == pytest.approx(0.4)
    assert f.mean_stay_length == pytest.approx(8 / 5)
    assert f.house_switches == 1
    assert f.conditional_nights == 2
    assert f.weekend_family_weekend_share == pytest.approx(2 / 3)
    # B0001 asked for 8-9, so the Wednesday 6 is the one night it did not ask for.
    assert f.weekend_family_unwished_weekend_share == 0.0

    assert (f.want_wishes, f.want_wishes_met) == (3, 1)
    assert (f.want_nights, f.want_nights_met) == (5, 3)
    assert (f.avoid_wishes, f.avoid_nights_broken) == (5, 3)

    assert f.bound == 10
    assert f.gap_to_bound == pytest.approx(0.2)

    per_house = {h.house_id: h for h in f.per_house}
    assert [h.house_id for h in f.per_house] == ["H1", "H2", "H3"]
    assert (per_house["H1"].allocated, per_house["H1"].budget, per_house["H1"].capacity) == (
        5,
        13,
        14,
    )
    assert per_house["H1"].utilisation == pytest.approx(5 / 13)
    assert (per_house["H2"].allocated, per_house["H2"].budget, per_house["H2"].capacity) == (
        3,
        13,
        7,
    )
    assert per_house["H2"].utilisation == pytest.approx(3 / 7)
    assert (per_house["H3"].allocated, per_house["H3"].budget, per_house["H3"].utilisation) == (
        0,
        7,
        0.0,
    )


def test_families_outside_their_shares_are_told_apart(tiny: type[Tiny]) -> None:
    # Three weeks, Monday 4 – Sunday 24 January 2027: Friday/Saturday nights 8-9, 15-16, 22-23.
    # A, B and C ("any", 6 nights each, free every night) get the six weekend nights together:
    # 2 each. A has 4 of them (2 over), B 2, C none (2 below). D (weekend pattern; its
    # weekends are not measured, and there is no holiday) has 6 nights: Thursday 14 which it
    # asked for, Friday/Saturday 15-16 and 22-23, and Sunday 24 which it did not ask for.
    end = tiny.night(24)
    children = [
        tiny.child(cid, granted_nights=6, vedtak_to=end) for cid in ("B0001", "B0002", "B0003")
    ]
    children.append(tiny.child("B0004", granted_nights=6, vedtak_to=end, pattern="weekend"))
    plan = (
        tiny.book("B0001", "H1", 4, 5, 8, 9, 15, 16)
        + tiny.book("B0002", "H1", 11, 12, 13, 14, 22, 23)
        + tiny.book("B0003", "H1", 5, 6, 7, 11, 12, 13)
        + tiny.book("B0004", "H1", 14, 15, 16, 22, 23, 24)
    )

    def figures(a_asked_for_the_15th: bool) -> Figures:
        wishes = [tiny.wish("B0004", 14, 14)]
        if a_asked_for_the_15th:
            wishes.append(tiny.wish("B0001", 15, 16))
        inp = tiny.round(houses=[tiny.house(places=3)], children=children, wishes=wishes, end=end)
        assert check_plan(inp, plan) == []
        return compute_figures(inp, plan, bound=0)

    asked = figures(a_asked_for_the_15th=True)
    assert asked.families_fair_share == 4
    assert asked.fair_share_within_tolerance == pytest.approx(2 / 4)  # B and D
    # A is 2 over, but the 2 nights of the weekend it asked for bring it to its share.
    assert (asked.fair_share_over_by_own_wishes, asked.fair_share_below) == (1, 1)
    assert asked.fair_share_kept == pytest.approx(3 / 4)  # A too: over only by its wish
    assert asked.weekend_family_weekend_share == pytest.approx(4 / 6)
    assert asked.weekend_family_unwished_weekend_share == pytest.approx(4 / 5)
    # The targets' figures first (a night asked for is the family's choice), the strict below.
    lines = format_figures(asked).splitlines()
    kept = next(i for i, line in enumerate(lines) if "fair shares are kept" in line)
    assert "75.0 % of 4" in lines[kept] and "within ±1 of every share" in lines[kept + 1]
    assert "50.0 %" in lines[kept + 1]
    weekend = next(i for i, line in enumerate(lines) if "Weekend families on Fri/Sat" in line)
    assert "80.0 % of the nights they did not ask for" in lines[weekend]
    assert "of all their nights" in lines[weekend + 1] and "66.7 %" in lines[weekend + 1]

    not_asked = figures(a_asked_for_the_15th=False)
    assert not_asked.fair_share_within_tolerance == pytest.approx(2 / 4)
    assert (not_asked.fair_share_over_by_own_wishes, not_asked.fair_share_below) == (0, 1)
    assert not_asked.fair_share_kept == pytest.approx(2 / 4)


def test_bound_is_computed_when_not_given(tiny: type[Tiny]) -> None:
    # By hand: B0001 6 available nights (granted 6), B0002 4 (granted 4), B0003 5: 15 in all;
    # at most 3 children a night against 2 + 1 places, budgets 13 and 7 (H2's capacity) suffice.
    inp, plan = _round(tiny)
    assert max_flow_bound(inp) == 15
    f = compute_figures(inp, plan)
    assert f.bound == 15
    assert f.gap_to_bound == pytest.approx(7 / 15)


def test_duplicate_rows_count_once(tiny: type[Tiny]) -> None:
    inp, plan = _round(tiny)
    assert compute_figures(inp, plan + plan[:2], bound=10) == compute_figures(inp, plan, bound=10)


def test_empty_round(tiny: type[Tiny]) -> None:
    inp = tiny.round(houses=[tiny.house(places=0)], children=[tiny.child(granted_nights=0)])
    f = compute_figures(inp, [])
    assert (f.granted, f.allocated, f.children, f.bound, f.usable_capacity) == (0, 0, 0, 0, 0)
    assert (f.fulfilment, f.lowest_child_fulfilment, f.p10_child_fulfilment) == (1.0, 1.0, 1.0)
    assert (f.utilisation, f.gap_to_bound, f.single_night_share, f.mean_stay_length) == (0, 0, 0, 0)
    assert f.weekend_family_weekend_share == 0.0
    format_figures(f)  # no division by zero anywhere


def test_to_dict_is_json_and_text_is_readable(tiny: type[Tiny]) -> None:
    inp, plan = _round(tiny)
    f = compute_figures(inp, plan, bound=10)
    d = f.to_dict()
    again = json.loads(json.dumps(d))
    assert again["allocated"] == 8
    assert again["per_house"][0] == {
        "house_id": "H1",
        "kind": "avlastningsbolig",
        "allocated": 5,
        "budget": 13,
        "capacity": 14,
        "utilisation": pytest.approx(5 / 13),
    }
    text = format_figures(f)
    assert "Nights allocated" in text and "8 (53.3 % of granted)" in text
    assert "Single-night stays" in text and "2 (40.0 %)" in text
    assert "Want wishes met" in text and "1 of 3 (3 of 5 nights)" in text
    assert "H3" in text.splitlines()[-1]


def test_a_wish_longer_than_the_longest_stay_is_not_counted_as_allowed(tiny: type[Tiny]) -> None:
    # A weekend family may stay at most 3 nights in a row (rule S1): its 4-night wish cannot be
    # met as asked, so it is counted apart; its 3-night wish counts (and is met).
    inp = tiny.round(
        children=[tiny.child("B0001", granted_nights=7, pattern="weekend")],
        wishes=[tiny.wish("B0001", 4, 7), tiny.wish("B0001", 7, 9)],
    )
    plan = tiny.book("B0001", "H1", 7, 8, 9)
    assert check_plan(inp, plan) == []
    figures = compute_figures(inp, plan)
    assert (figures.want_wishes_allowed, figures.want_wishes_allowed_met) == (1, 1)
    assert figures.want_wishes_longer_than_stay == 1
    assert (figures.want_wishes, figures.want_wishes_met) == (2, 1)
