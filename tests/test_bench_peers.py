"""The benchmark's peers (bench/peers.py): the flow LP in HiGHS and first come, first served.

On a tiny generated round the LP's plan passes the independent checker and reaches the max-flow
bound; the FCFS plan passes the checker; incompatible children are never together in either.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from factories import child, house, round_input

from allocator.check import check_plan, compute_figures, max_flow_bound
from allocator.generate import generate_round
from allocator.instance import build_instance
from allocator.solve import bookings_of
from models.round_input import RoundInput

pytest.importorskip("highspy")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from peers import fcfs_plan, lp_plan


@pytest.fixture(scope="module")
def tiny() -> RoundInput:
    return generate_round(scale=0.25, seed=3)


def test_lp_plan_is_valid_and_reaches_the_bound(tiny: RoundInput) -> None:
    inst = build_instance(tiny)
    peer = lp_plan(inst)
    bookings = bookings_of(inst, peer.plan)
    assert check_plan(tiny, bookings) == []
    assert peer.info["lp_status"] == "Optimal"
    assert peer.info["lp_dropped"] == 0
    assert len(bookings) == max_flow_bound(tiny)


def test_lp_pricing_adds_houses_beyond_the_candidates(tiny: RoundInput) -> None:
    """With only the candidate houses (at most 3 a child) the LP falls short of the bound;
    pricing adds the eligible houses it needs and reaches it."""
    inst = build_instance(tiny)
    fixed = lp_plan(inst, pricing=False)
    priced = lp_plan(inst)
    bound = max_flow_bound(tiny)
    assert len(fixed.plan) < bound
    assert len(priced.plan) == bound
    assert priced.info["lp_columns"] > fixed.info["lp_columns"]


def test_fcfs_plan_is_valid(tiny: RoundInput) -> None:
    inst = build_instance(tiny)
    bookings = bookings_of(inst, fcfs_plan(inst).plan)
    assert check_plan(tiny, bookings) == []
    figures = compute_figures(tiny, bookings)
    assert 0 < figures.allocated <= figures.bound


def test_fcfs_serves_in_id_order() -> None:
    """One place, two children wanting the same nights: the first applicant gets them all."""
    inp = round_input(
        [house("h1", places=1)],
        [child("B0002", granted=3), child("B0001", granted=3)],
        nights=7,
    )
    inst = build_instance(inp)
    got = {b.child_id for b in bookings_of(inst, fcfs_plan(inst).plan)}
    assert "B0001" in got
    nights = bookings_of(inst, fcfs_plan(inst).plan)
    assert sum(1 for b in nights if b.child_id == "B0001") == 3
    assert check_plan(inp, nights) == []


def test_lp_keeps_incompatible_children_apart() -> None:
    """Two places, two incompatible children who want every night: the pair rows make the LP
    fractional or split them; after rounding and repair they never share a night."""
    inp = round_input(
        [house("h1", places=2)],
        [child("B0001", granted=7), child("B0002", granted=7)],
        nights=7,
        incompatible=[("B0001", "B0002")],
    )
    inst = build_instance(inp)
    peer = lp_plan(inst)
    bookings = bookings_of(inst, peer.plan)
    assert check_plan(inp, bookings) == []
    assert len(bookings) == 7
    # Without the pair rows the LP books both every night and the repair drops one of them.
    loose = lp_plan(inst, incompatible=False)
    assert check_plan(inp, bookings_of(inst, loose.plan)) == []
    assert loose.info["lp_dropped"] == 7
