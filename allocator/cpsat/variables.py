"""All decision variables of the round model, in one container.

The central variable is ``night[c, h, n]``: child ``c`` sleeps in house ``h`` on night ``n``.
Houses are capacities, not beds: beds can be numbered afterwards. Derived variables describe the
shape of each child's stays and the houses it uses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from allocator.instance import ChildIdx, HouseIdx, Instance, NightIdx

Key = tuple[ChildIdx, HouseIdx, NightIdx]


@dataclass
class Variables:
    night: dict[Key, cp_model.IntVar] = field(default_factory=dict)
    by_child: dict[ChildIdx, list[Key]] = field(default_factory=lambda: defaultdict(list))
    by_house_night: dict[tuple[HouseIdx, NightIdx], list[Key]] = field(
        default_factory=lambda: defaultdict(list)
    )
    by_child_night: dict[tuple[ChildIdx, NightIdx], list[Key]] = field(
        default_factory=lambda: defaultdict(list)
    )
    occupied_var: dict[tuple[ChildIdx, NightIdx], cp_model.IntVar] = field(default_factory=dict)
    """``occupied_var[c, n]``: child ``c`` sleeps in respite on night ``n`` (any house)."""
    allocated: dict[ChildIdx, cp_model.IntVar] = field(default_factory=dict)
    stay_start: dict[tuple[ChildIdx, NightIdx], cp_model.IntVar] = field(default_factory=dict)
    single_night: dict[tuple[ChildIdx, NightIdx], cp_model.IntVar] = field(default_factory=dict)
    house_used: dict[tuple[ChildIdx, HouseIdx], cp_model.IntVar] = field(default_factory=dict)
    deep_shortfall: dict[tuple[ChildIdx, int], cp_model.IntVar] = field(default_factory=dict)
    """Nights short of each of a child's shortfall floors, keyed (child, i-th floor)."""
    deep_floor: dict[tuple[ChildIdx, int], int] = field(default_factory=dict)
    """Each shortfall floor in nights (`allocator.instance.shortfall_floors`)."""
    worst_share: cp_model.IntVar | None = None
    """Lowest child's share of its reachable grant, in percent (0–100)."""

    def occupied(self, c: ChildIdx, n: NightIdx) -> cp_model.IntVar | None:
        """The variable "child ``c`` sleeps in respite on night ``n``"; None if it cannot."""
        return self.occupied_var.get((c, n))

    def nights_of(self, c: ChildIdx) -> cp_model.LinearExpr:
        return cp_model.LinearExpr.sum([self.night[k] for k in self.by_child[c]])


def add_variables(
    model: cp_model.CpModel,
    inst: Instance,
    *,
    fixed: Mapping[Key, int] | None = None,
    free_children: frozenset[ChildIdx] | None = None,
) -> Variables:
    """Create ``night[c, h, n]`` for every candidate house of a child and available night.

    Rule R4_CATEGORY_FIT / R4_NIGHT_WATCH / R4_BARNEBOLIG_LEVEL6 and R1_INSIDE_VEDTAK /
    R1_UNAVAILABLE are enforced here, by construction: a variable exists only for a house that
    accepts the child (`allocator.instance.house_accepts`) and a night the child is available
    ("only inside its vedtak dates and the round, never on an unavailable night"), and only
    where the house has a usable place that night.

    For a sub-problem, children outside ``free_children`` keep the values in ``fixed``.
    """
    v = Variables()
    fixed = fixed or {}
    for child in inst.children:
        c = child.idx
        is_free = free_children is None or c in free_children
        for h in child.candidates:
            capacity = inst.houses[h].nightly_capacity
            for n in child.available:
                if capacity[n] <= 0 or (h, n) in child.blocked or not child.offered(n):
                    continue
                key = (c, h, n)
                if is_free:
                    var = model.new_bool_var(f"x_{c}_{h}_{n}")
                else:
                    var = model.new_constant(fixed.get(key, 0))
                v.night[key] = var
                v.by_child[c].append(key)
                v.by_house_night[(h, n)].append(key)
                v.by_child_night[(c, n)].append(key)
        for n in child.available:
            keys = v.by_child_night.get((c, n))
            if not keys:
                continue
            if is_free:
                v.occupied_var[(c, n)] = model.new_bool_var(f"y_{c}_{n}")
            else:
                v.occupied_var[(c, n)] = model.new_constant(sum(fixed.get(k, 0) for k in keys))
        v.allocated[c] = model.new_int_var(0, child.granted, f"allocated_{c}")
        mine = [y for n in child.available if (y := v.occupied_var.get((c, n))) is not None]
        model.add(v.allocated[c] == cp_model.LinearExpr.sum(mine))
    return v
