"""The max-flow bound on tiny rounds worked out by hand (see also test_check_crosscheck.py).

Round: Monday 2027-01-04 .. Sunday 2027-01-10, N = 7 nights. R3 budget = places × npy × 7 // 365.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.check import check_plan, max_flow_bound
from models.rules import budget_nights

if TYPE_CHECKING:
    from conftest import Tiny


def test_capacity_binds_and_ineligible_house(tiny: type[Tiny]) -> None:
    # H1: 1 place, 365 nights/place/year -> budget 1 × 365 × 7 // 365 = 7; capacity 1 a night.
    # H2: 3 places, category 5 only -> ineligible for both category-2 children.
    # Two children granted 7 each (14) share H1's 7 bed-nights: bound 7 (capacity binds).
    inp = tiny.round(
        houses=[
            tiny.house("H1", places=1, categories="2", nights_per_place_year=365),
            tiny.house("H2", places=3, categories="5"),
        ],
        children=[tiny.child("B0001"), tiny.child("B0002")],
    )
    assert max_flow_bound(inp) == 7


def test_budget_binds(tiny: type[Tiny]) -> None:
    # H1: 2 places -> 14 bed-nights a week, but budget 2 × 350 × 7 // 365 = 4900 // 365 = 13.
    # Two children granted 7 each could use all 14: the budget cuts it to 13.
    inp = tiny.round(children=[tiny.child("B0001"), tiny.child("B0002")])
    assert budget_nights(2, 350, 7) == 13
    assert max_flow_bound(inp) == 13


def test_grant_and_availability_bind(tiny: type[Tiny]) -> None:
    # B0001: granted 7, vedtak 6..10 (5 nights) minus unavailable night 8 -> 4 available nights.
    # B0002: granted 2 -> 2. H1 has 2 places and budget 13, so nothing else binds: 4 + 2 = 6.
    inp = tiny.round(
        children=[
            tiny.child("B0001", vedtak_from=tiny.night(6)),
            tiny.child("B0002", granted_nights=2),
        ],
        unavailable=[tiny.unavailable("B0001", 8, 8, "sommerleir")],
    )
    assert max_flow_bound(inp) == 6


def test_closures_and_acute_reserve(tiny: type[Tiny]) -> None:
    # H1: 2 places, acute reserve 1, 1 place closed on nights 4-5:
    # capacity 0 on nights 4, 5 and 1 on nights 6..10 -> 5 bed-nights (budget 13 does not bind).
    inp = tiny.round(
        children=[tiny.child("B0001"), tiny.child("B0002")],
        closures=[tiny.closure("H1", 4, 5, 1)],
        acute_reserve={"H1": 1},
    )
    assert max_flow_bound(inp) == 5


def test_mixed_capacity_budget_and_eligibility(tiny: type[Tiny]) -> None:
    # H1: 1 place, categories 2;3, night watch, 365/place/year -> 7 bed-nights, budget 7.
    # H2: 2 places, category 2, no night watch, 156/place/year -> budget 2 × 156 × 7 // 365 = 5.
    # B0001 (category 3) needs night watch: only H1.    B0002 (category 2): H1 or H2.
    # B0003 (category 4): accepted nowhere -> 0.
    # Cut: H1's 7 nights + H2's budget 5 = 12; reached by B0001 in H1 every night (7) and B0002
    # in H2 on 5 nights. So the bound is 12 (H1 capacity and H2 budget bind).
    inp = tiny.round(
        houses=[
            tiny.house("H1", places=1, nights_per_place_year=365),
            tiny.house(
                "H2", places=2, categories="2", night_watch=False, nights_per_place_year=156
            ),
        ],
        children=[
            tiny.child("B0001", category="3"),
            tiny.child("B0002"),
            tiny.child("B0003", category="4"),
        ],
    )
    assert budget_nights(2, 156, 7) == 5
    assert max_flow_bound(inp) == 12
    plan = tiny.book("B0001", "H1", *range(4, 11)) + tiny.book("B0002", "H2", 4, 5, 6, 7, 8)
    assert check_plan(inp, plan) == []


def test_barnebolig_level6_and_no_budget(tiny: type[Tiny]) -> None:
    # A barnebolig takes only level 6 and has no R3 budget (npy 0 would give budget 0):
    # the level-6 child gets all 7 nights, the level-2 child nothing (the only house is barnebolig).
    house = tiny.house(kind="barnebolig", places=2, categories="2;5", nights_per_place_year=0)
    inp = tiny.round(
        houses=[house],
        children=[tiny.child("B0001", category="5", level=6), tiny.child("B0002", level=2)],
    )
    assert max_flow_bound(inp) == 7


def test_level6_child_not_in_avlastningsbolig(tiny: type[Tiny]) -> None:
    inp = tiny.round(
        houses=[tiny.house(categories="5")], children=[tiny.child(category="5", level=6)]
    )
    assert max_flow_bound(inp) == 0


def test_nothing_to_place(tiny: type[Tiny]) -> None:
    assert max_flow_bound(tiny.round(children=[tiny.child(granted_nights=0)])) == 0
    assert max_flow_bound(tiny.round(houses=[tiny.house(places=0)])) == 0
    assert max_flow_bound(tiny.round(houses=[])) == 0


def test_incompatible_pairs_are_ignored(tiny: type[Tiny]) -> None:
    # Two incompatible children and one house with 2 places: a valid plan gives at most 7 nights
    # (never together), but the relaxation ignores R6 and says 13 (the budget). Still an upper
    # bound, just not tight.
    inp = tiny.round(
        children=[tiny.child("B0001"), tiny.child("B0002")],
        incompatible=[tiny.incompatible("B0001", "B0002")],
    )
    assert max_flow_bound(inp) == 13
