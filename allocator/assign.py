"""Choose one house for each child before the nights are laid: a small CP-SAT model.

Each child's reachable nights (its grant, or fewer when it is away) are spread over the houses
so that every house's load matches its usable nights (rules R2 and R3) and its Friday and
Saturday nights, children stay in their home house where there is room, and conditional
categories are used only when needed. The nights themselves are then laid house by house.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from allocator.instance import ChildData, ChildIdx, HouseIdx, Instance
from models.inputs import Pattern

#: Load tiers (share of a house's usable nights) and the cost per night above each: convex, so
#: when demand exceeds capacity the shortfall is spread over houses in proportion to their size
#: instead of heaped on one house's children. The first tier is below 1: stays never pack a
#: house perfectly.
LOAD_TIERS: tuple[tuple[float, int], ...] = (
    (0.99, 1000),
    *((1.0 + step / 50, 500) for step in range(1, 16)),
    (1.40, 2000),
    (1.60, 4000),
)


def _weekend_capacity(inst: Instance, h: HouseIdx) -> int:
    caps = inst.houses[h].nightly_capacity
    return sum(cap for n, cap in enumerate(caps) if inst.weekend_night[n])


def pinned_house(child: ChildData) -> tuple[HouseIdx, ...]:
    """The house holding most of the child's pinned nights: the child is assigned there."""
    if not child.pinned:
        return ()
    counts: dict[HouseIdx, int] = {}
    for h, _ in child.pinned:
        counts[h] = counts.get(h, 0) + 1
    return (max(counts, key=lambda h: counts[h]),)


def greedy_assignment(inst: Instance) -> dict[ChildIdx, HouseIdx]:
    """Largest grants first, each to its home house while that has room, else to the eligible
    house (full fit before conditional) with the lowest load after adding the child."""
    load = dict.fromkeys(range(len(inst.houses)), 0)
    assignment: dict[ChildIdx, HouseIdx] = {}
    children = [ch for ch in inst.children if not ch.is_resident and ch.eligible and ch.target > 0]
    for child in sorted(children, key=lambda ch: (len(ch.eligible), -ch.target)):

        def ratio(h: HouseIdx, child=child) -> float:  # type: ignore[no-untyped-def]
            return (load[h] + child.target) / max(1, inst.usable_nights(h))

        home = child.home_house
        if child.pinned:
            best = pinned_house(child)[0]
        elif home is not None and ratio(home) <= LOAD_TIERS[0][0]:
            best = home
        else:
            best = min(
                child.eligible, key=lambda h: (h in child.conditional and ratio(h) > 0.9, ratio(h))
            )
        assignment[child.idx] = best
        load[best] += child.target
    return assignment


def assign_houses(
    inst: Instance, *, time_limit: float = 5.0, seed: int = 1, workers: int = 2
) -> dict[ChildIdx, HouseIdx]:
    """A house for every child that has a candidate house (barnebolig residents excluded)."""
    model = cp_model.CpModel()
    choose: dict[tuple[ChildIdx, HouseIdx], cp_model.IntVar] = {}
    penalties = []
    for child in inst.children:
        if child.is_resident or not child.eligible or child.target == 0:
            continue
        options = []
        for h in pinned_house(child) or child.eligible:
            var = model.new_bool_var(f"a_{child.idx}_{h}")
            choose[(child.idx, h)] = var
            options.append(var)
            if child.home_house is not None and h != child.home_house:
                penalties.append(20 * child.target * var)
            if h in child.conditional:
                penalties.append(10 * child.target * var)
        model.add_exactly_one(options)

    load_terms: dict[HouseIdx, list] = {}
    weekend_terms: dict[HouseIdx, list] = {}
    for (c, h), var in choose.items():
        child = inst.children[c]
        load_terms.setdefault(h, []).append(child.target * var)
        if child.pattern is Pattern.WEEKEND:
            weekend_terms.setdefault(h, []).append(child.target * var)

    for h, terms in load_terms.items():
        usable = inst.usable_nights(h)
        most = sum(inst.children[c].target for c, hh in choose if hh == h)
        for tier, (share, cost) in enumerate(LOAD_TIERS):
            over = model.new_int_var(0, most, f"over_{h}_{tier}")
            model.add(sum(terms) <= int(usable * share) + over)
            # Overload costs more than any home-house preference: a night lost is a night lost.
            penalties.append(cost * over)
        weekend_cap = int(_weekend_capacity(inst, h) * 0.9)
        if h in weekend_terms:
            over_weekend = model.new_int_var(0, 10_000_000, f"over_weekend_{h}")
            model.add(sum(weekend_terms[h]) <= weekend_cap + over_weekend)
            penalties.append(200 * over_weekend)

    if not choose:
        return {}
    start = greedy_assignment(inst)
    for (c, h), var in choose.items():
        model.add_hint(var, int(start.get(c) == h))
    model.minimize(sum(penalties))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = workers
    solver.parameters.catch_sigint_signal = False
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return start
    return {c: h for (c, h), var in choose.items() if solver.value(var)}
