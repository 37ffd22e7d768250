"""Hard rules of the round, one function each (DOMAIN.md, issue 4 "Hard rules").

Rules R1_INSIDE_VEDTAK, R1_UNAVAILABLE and R4 (category fit, night watch, barnebolig only for
level 6) hold by construction of the variables, see `allocator.cpsat.variables.add_variables`.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from allocator.cpsat.variables import Variables
from allocator.instance import Instance


def add_one_place(model: cp_model.CpModel, inst: Instance, v: Variables) -> None:
    """Rule R1_ONE_PLACE: "A child sleeps in at most one place a night." The nights in all
    houses sum to the 0/1 variable ``occupied_var[c, n]``."""
    for (c, n), keys in v.by_child_night.items():
        model.add(cp_model.LinearExpr.sum([v.night[k] for k in keys]) == v.occupied_var[(c, n)])


def add_house_capacity(model: cp_model.CpModel, inst: Instance, v: Variables) -> None:
    """Rule R2_HOUSE_CAPACITY, with the acute reserve: "A house never holds more children on a
    night than its places, minus closed places, minus the acute reserve set for that house."

    The priority committee "skal sikre en ledig kapasitet i boligene til bruk for
    akuttavlastning": the reserve is subtracted in `HouseData.nightly_capacity`.
    """
    for (h, n), keys in v.by_house_night.items():
        capacity = inst.houses[h].nightly_capacity[n]
        if len(keys) > capacity:
            model.add(sum(v.night[k] for k in keys) <= capacity)


def add_house_budget(model: cp_model.CpModel, inst: Instance, v: Variables) -> None:
    """Rule R3_HOUSE_BUDGET: "A respite house gives at most places × 350 × N / 365 nights in a
    round of N nights" ("Det regnes 350 avlastningsdøgn pr avlastningsplass pr år")."""
    per_house: dict[int, list] = {}
    for (h, _n), keys in v.by_house_night.items():
        per_house.setdefault(h, []).extend(v.night[k] for k in keys)
    for h, nights in per_house.items():
        budget = inst.houses[h].budget
        if budget is not None and len(nights) > budget:
            model.add(sum(nights) <= budget)


def add_barnebolig_every_night(model: cp_model.CpModel, inst: Instance, v: Variables) -> None:
    """Rule R4_BARNEBOLIG_EVERY_NIGHT: level-6 children live in a barnebolig every available
    night ("Barnebolig → 365 døgn pr år"). Infeasible rounds are diagnosed before solving,
    see `allocator.diagnose`."""
    for child in inst.children:
        if not child.is_resident:
            continue
        for n in child.available:
            occupied = v.occupied(child.idx, n)
            if occupied is None:
                model.add_bool_or([])  # no usable place that night: infeasible, see diagnose
            else:
                model.add(occupied == 1)


def add_granted(model: cp_model.CpModel, inst: Instance, v: Variables) -> None:
    """Rule R5_GRANTED: "Never more nights than granted." (the domain of ``allocated``)."""
    for child in inst.children:
        model.add(v.allocated[child.idx] <= child.granted)


def add_incompatible(model: cp_model.CpModel, inst: Instance, v: Variables) -> None:
    """Rule R6_INCOMPATIBLE: "Two incompatible children are never in the same house on the
    same night." """
    for a, b in inst.incompatible:
        keys_b = set(v.by_child[b])
        for c_a, h, n in v.by_child[a]:
            if (b, h, n) in keys_b:
                model.add_at_most_one(v.night[(c_a, h, n)], v.night[(b, h, n)])


def add_max_stay(model: cp_model.CpModel, inst: Instance, v: Variables) -> None:
    """Rule S1_MAX_STAY: "No stay longer than the family's pattern allows: weekend 3 nights,
    weekdays 5, week and any 7." Any ``max_stay + 1`` consecutive nights hold a night at home."""
    for child in inst.children:
        if child.is_resident:
            continue
        limit = child.max_stay
        available = set(child.available)
        for n in child.available:
            window = range(n, n + limit + 1)
            nights = [v.occupied(child.idx, i) for i in window if i in available]
            present = [y for y in nights if y is not None]
            if len(present) > limit:
                model.add(cp_model.LinearExpr.sum(present) <= limit)


def add_stay_in_one_house(model: cp_model.CpModel, inst: Instance, v: Variables) -> None:
    """Rule S2_ONE_HOUSE_PER_STAY: "A stay is in one house: a house change needs a night at
    home between." A child in house h on night n who stays on over night n + 1 sleeps in h."""
    for child in inst.children:
        if len(child.candidates) < 2:
            continue
        c = child.idx
        for c_, h, n in v.by_child[c]:
            stays_on = v.occupied(c, n + 1)
            if stays_on is None:
                continue
            same = v.night.get((c_, h, n + 1))
            here = v.night[(c_, h, n)]
            if same is None:
                model.add_implication(here, ~stays_on)
            else:
                model.add(same >= here + stays_on - 1)


def add_pins(model: cp_model.CpModel, inst: Instance, v: Variables) -> None:
    """Rule R7_PINS: "A stay the coordinator pinned is kept, and a forbidden night is never
    booked." Forbidden house-nights get no variable (`ChildData.blocked`); pinned ones are 1.
    A pin the rules cannot keep is diagnosed before solving, see `allocator.diagnose`."""
    for child in inst.children:
        for h, n in child.pinned:
            var = v.night.get((child.idx, h, n))
            if var is None:
                model.add_bool_or([])
            else:
                model.add(var == 1)


ALL_RULES = (
    add_one_place,
    add_house_capacity,
    add_house_budget,
    add_barnebolig_every_night,
    add_granted,
    add_incompatible,
    add_max_stay,
    add_stay_in_one_house,
    add_pins,
)


def add_constraints(model: cp_model.CpModel, inst: Instance, v: Variables) -> None:
    """Add every hard rule, in the order of DOMAIN.md."""
    for add_rule in ALL_RULES:
        add_rule(model, inst, v)
