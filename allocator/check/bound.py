"""An upper bound on the nights any valid plan can allocate, from a max-flow relaxation.

Written from the rules and the `RoundInput` only (never from ``allocator.cpsat`` or
``allocator.instance``), so it can judge the solver's own bound and plans.

The network, with its arc capacities::

    source ──granted_nights──▶ child ──1──▶ (class, night) ──▶ (house, night)
           ──R2 capacity of that night──▶ house ──R3 budget──▶ sink

* A class is the children with one set of eligible houses (R4: category fit incl. conditional
  categories, night watch for 3–5, barnebolig if and only if level 6); (class, night) →
  (house, night) exists for each of them, unbounded.
* child → (class, night) exists only for the child's available nights: in the round, inside
  its vedtak and in no unavailable range (rules R1_INSIDE_VEDTAK, R1_UNAVAILABLE). Capacity 1
  because a child sleeps in one place a night (R1_ONE_PLACE). Every child of a class may use
  every house of it, so the flow through a class-night splits into one unit per child and
  night whichever houses it goes on to: the bound is the one a (child, night) node per child
  gives, with far fewer arcs (ten times Bergen: 18 s → 6 s).
* (house, night) → house carries the nightly capacity of R2 (places − closed − acute reserve).
* house → sink carries the round budget of R3 for an avlastningsbolig; a barnebolig is not
  budget-limited, so its arc carries the sum of its nightly capacities.

Every valid plan is a feasible integral flow of the same value (one unit per booking along
source → child → (class, night) → (house, night) → house → sink), so the maximum flow is an upper
bound on the nights of every valid plan. It is only a relaxation: it ignores incompatible pairs
(R6), the barnebolig every-night rule (R4_BARNEBOLIG_EVERY_NIGHT) and everything about stay
shapes and wishes, each of which can only lower the optimum, never raise it.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python.max_flow import SimpleMaxFlow

from allocator.check.rules import (
    available_nights,
    house_budget,
    is_eligible,
    nightly_capacities,
    unavailable_ranges,
)
from models.inputs import House
from models.round_input import RoundInput

_SOURCE = 0
_SINK = 1


def max_flow_bound(inp: RoundInput) -> int:
    """Return an upper bound on the total nights any valid plan of the round can allocate.

    Parameters
    ----------
    inp
        The round's input.

    Returns
    -------
    int
        The maximum flow of the network described in the module docstring; 0 when no child can
        be placed anywhere.

    Raises
    ------
    RuntimeError
        If OR-Tools' max-flow does not report an optimal flow.

    Notes
    -----
    Valid upper bound, not a tight one: incompatible pairs, the barnebolig every-night rule,
    stay shapes and wishes are left out. Arcs are added per child with NumPy, one per available
    night (ten times Bergen: 3,400 children, about 0.6 million arcs).
    """
    nights = inp.nights
    n = len(nights)
    night_index = {night: i for i, night in enumerate(nights)}

    # Houses with some capacity; house h has nodes house_night_base + h * n + i and house_base + h.
    houses: list[House] = []
    caps: list[list[int]] = []
    for house in inp.houses:
        house_caps = nightly_capacities(inp, house)
        budget = house_budget(inp, house)
        if sum(house_caps) > 0 and (budget is None or budget > 0):
            houses.append(house)
            caps.append(house_caps)
    if not houses:
        return 0

    house_night_base = 2
    house_base = house_night_base + len(houses) * n
    next_node = house_base + len(houses)

    tails: list[np.ndarray] = []
    heads: list[np.ndarray] = []
    capacities: list[np.ndarray] = []

    def add(tail: np.ndarray, head: np.ndarray, cap: np.ndarray) -> None:
        tails.append(np.asarray(tail, dtype=np.int32))
        heads.append(np.asarray(head, dtype=np.int32))
        capacities.append(np.asarray(cap, dtype=np.int64))

    # House side: (house, night) → house with the nightly capacity, house → sink with the budget.
    for h, (house, house_caps) in enumerate(zip(houses, caps, strict=True)):
        add(
            house_night_base + h * n + np.arange(n),
            np.full(n, house_base + h),
            np.array(house_caps),
        )
        budget = house_budget(inp, house)
        add(
            np.array([house_base + h]),
            np.array([_SINK]),
            np.array([sum(house_caps) if budget is None else budget]),
        )

    # Child side: source → child → (class, night) → (house, night), where a class is the
    # children with one set of eligible houses.
    unavailable = unavailable_ranges(inp)
    placeable: list[tuple[int, tuple[int, ...], np.ndarray]] = []
    for child in inp.children:
        if child.granted_nights <= 0:
            continue
        eligible = tuple(h for h, house in enumerate(houses) if is_eligible(child, house))
        avail = np.array(
            [night_index[night] for night in available_nights(inp, child, unavailable)],
            dtype=np.int64,
        )
        if eligible and avail.size:
            placeable.append((child.granted_nights, eligible, avail))
    if not placeable:
        return 0
    classes = list(dict.fromkeys(eligible for _granted, eligible, _avail in placeable))
    class_index = {eligible: k for k, eligible in enumerate(classes)}
    class_night_base = next_node + len(placeable)
    for i, (granted, eligible, avail) in enumerate(placeable):
        child_node = next_node + i
        class_nights = class_night_base + class_index[eligible] * n
        add(np.array([_SOURCE]), np.array([child_node]), np.array([granted]))
        add(np.full(avail.size, child_node), class_nights + avail, np.ones(avail.size))
    # A class-night passes on whatever its children bring; each child's arc holds it to one
    # place a night, so the flow's value is the one of a (child, night) node per child.
    unbounded = sum(granted for granted, _eligible, _avail in placeable)
    for k, eligible in enumerate(classes):
        for h in eligible:
            add(
                class_night_base + k * n + np.arange(n),
                house_night_base + h * n + np.arange(n),
                np.full(n, unbounded),
            )
    flow = SimpleMaxFlow()
    flow.add_arcs_with_capacity(
        np.concatenate(tails), np.concatenate(heads), np.concatenate(capacities)
    )
    status = flow.solve(_SOURCE, _SINK)
    if status != SimpleMaxFlow.OPTIMAL:
        raise RuntimeError(f"max-flow bound failed with status {status}")
    return int(flow.optimal_flow())
