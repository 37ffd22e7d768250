"""Choose one house for each child before the nights are laid: a small CP-SAT model.

Each child's reachable nights (its grant, or fewer when it is away) are spread over the houses
so that every house's load matches its usable nights (rules R2 and R3) and its Friday and
Saturday nights, children stay in their home house where there is room, and conditional
categories are used only when needed. The nights themselves are then laid house by house.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ortools.linear_solver.python import model_builder as mb
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


Choice = tuple[ChildIdx, HouseIdx]


@dataclass
class _Limit:
    """A soft upper bound on a load ``Σ weight · choose[c, h]``: each (cap, cost) tier costs
    ``cost`` per unit of load above ``cap``."""

    weighted: list[tuple[int, Choice]]
    tiers: list[tuple[int, int]]

    def cost(self, load: int) -> int:
        """The penalty of ``load``: each tier's cost per unit above its cap."""
        return sum(cost * max(0, load - cap) for cap, cost in self.tiers)


@dataclass
class _AssignmentModel:
    """The assignment as data: the choices with their costs (exactly one per child) and the
    limits on loads."""

    choices: dict[Choice, int] = field(default_factory=dict)
    limits: list[_Limit] = field(default_factory=list)


#: Seconds for the moves and swaps after CP-SAT (`_LocalSearch`).
LOCAL_SEARCH_SECONDS = 10.0

#: Nights in a period whose load is matched to the house's places in that period.
PERIOD_NIGHTS = 28

#: Cost of a night of expected load above a house's places in one period (below the whole-round
#: tiers: a period's overload may be absorbed by moving stays within the round).
PERIOD_OVERLOAD_COST = 300


def _period_limits(inst: Instance, choices: dict[Choice, int]) -> list[_Limit]:
    """Rule R2 over time: a house's places must cover its children's nights period by period,
    not only over the round. A child's expected nights in a period are its reachable grant
    spread over its available nights, so a vedtak that covers half the round, a summer camp or
    a closure put the load where it falls."""
    periods = [
        range(first, min(first + PERIOD_NIGHTS, inst.n_nights))
        for first in range(0, inst.n_nights, PERIOD_NIGHTS)
    ]
    expected: dict[ChildIdx, list[int]] = {}
    by_house: dict[HouseIdx, list[ChildIdx]] = {}
    for c, h in choices:
        by_house.setdefault(h, []).append(c)
        if c in expected:
            continue
        child = inst.children[c]
        available = set(child.available)
        per_period = [len(available.intersection(p)) for p in periods]
        total = max(1, sum(per_period))
        expected[c] = [round(child.target * k / total) for k in per_period]
    limits = []
    for h, members in by_house.items():
        caps = inst.houses[h].nightly_capacity
        for i, period in enumerate(periods):
            load = [(expected[c][i], (c, h)) for c in members if expected[c][i]]
            if load:
                room = int(LOAD_TIERS[0][0] * sum(caps[n] for n in period))
                limits.append(_Limit(load, [(room, PERIOD_OVERLOAD_COST)]))
    return limits


#: Cost of a night by which a house's Friday and Saturday demand strays from its share of the
#: round's, beyond `WEEKEND_BALANCE_SLACK` of its weekend places (`_weekend_balance`). As
#: high as a night away from the home house (20): at 5 the home houses won, one Bergen house
#: had 59 more expected Friday and Saturday nights than its share and its other families got
#: 43 weekend nights fewer than theirs; at 20 (Bergen, 300 s) families within ±1 of every
#: share rose from 55% to 61%, with 28 children of 243 away from their home house (18 at 5).
WEEKEND_BALANCE_COST = 20
WEEKEND_BALANCE_SLACK = 0.02


def _weekend_wants(inst: Instance, children: list[ChildData], supply: int) -> dict[ChildIdx, float]:
    """Each child's expected Friday and Saturday nights when the round's ``supply`` of them
    is shared as the plan shares it: weekend families take theirs first (their pattern), the
    rest is spread over "week" and "any" families by their grants and the weekend share of
    their available nights, and weekday families take none."""
    weekend = inst.weekend_night
    wants: dict[ChildIdx, float] = {}
    calendar: dict[ChildIdx, float] = {}
    for child in children:
        on_weekend = sum(1 for n in child.available if weekend[n])
        if child.pattern is Pattern.WEEKEND:
            wants[child.idx] = float(min(child.target, on_weekend))
        elif child.pattern is Pattern.WEEKDAYS:
            wants[child.idx] = 0.0
        else:
            calendar[child.idx] = child.target * on_weekend / max(1, len(child.available))
    taken = sum(wants.values())
    rest = max(0.0, supply - taken)
    if taken > supply > 0:
        wants = {c: v * supply / taken for c, v in wants.items()}
    spread = min(1.0, rest / sum(calendar.values())) if calendar and sum(calendar.values()) else 0
    wants.update({c: v * spread for c, v in calendar.items()})
    return wants


def _weekend_balance(inst: Instance, choices: dict[Choice, int]) -> list[_Limit]:
    """Fair weekends need the same Friday and Saturday pressure in every house: "Each family's
    share of each kind should follow its grant" (issue 5), and in a house with few weekend
    families the others get all the Fridays and Saturdays left over, in one with many they get
    none. Each house's expected Friday and Saturday demand (`_weekend_wants`) is held near its
    weekend places times the round's demand per place, from both sides."""
    places = {h.idx: _weekend_capacity(inst, h.idx) for h in inst.houses}
    supply = sum(places[h.idx] for h in inst.houses if not h.is_barnebolig)
    children = sorted({c for c, _h in choices})
    wants = _weekend_wants(inst, [inst.children[c] for c in children], supply)
    pressure = sum(wants.values()) / supply if supply else 0.0
    by_house: dict[HouseIdx, list[tuple[int, Choice]]] = {}
    for c, h in choices:
        units = round(wants.get(c, 0.0))
        if units:
            by_house.setdefault(h, []).append((units, (c, h)))
    limits = []
    for h, terms in by_house.items():
        share = pressure * places[h]
        slack = WEEKEND_BALANCE_SLACK * places[h]
        cost = WEEKEND_BALANCE_COST
        limits.append(_Limit(terms, [(round(share + slack), cost)]))
        limits.append(_Limit([(-w, key) for w, key in terms], [(-round(share - slack), cost)]))
    return limits


def _describe(inst: Instance) -> _AssignmentModel:
    """Home house first (20 a night elsewhere), conditional categories last (10 a night), each
    house's load within its usable nights (convex tiers), Friday/Saturday load within 90% of
    its weekend places (200 a night), period loads (`_period_limits`) and the same Friday and
    Saturday pressure in every house (`_weekend_balance`)."""
    m = _AssignmentModel()
    for child in inst.children:
        if child.is_resident or not child.eligible or child.target == 0:
            continue
        for h in pinned_house(child) or child.eligible:
            cost = 0
            if child.home_house is not None and h != child.home_house:
                cost += 20 * child.target
            if h in child.conditional:
                cost += 10 * child.target
            m.choices[(child.idx, h)] = cost
    load_terms: dict[HouseIdx, list[tuple[int, Choice]]] = {}
    weekend_terms: dict[HouseIdx, list[tuple[int, Choice]]] = {}
    for c, h in m.choices:
        child = inst.children[c]
        load_terms.setdefault(h, []).append((child.target, (c, h)))
        if child.pattern is Pattern.WEEKEND:
            weekend_terms.setdefault(h, []).append((child.target, (c, h)))
    for h, terms in load_terms.items():
        usable = inst.usable_nights(h)
        # Overload costs more than any home-house preference: a night lost is a night lost.
        m.limits.append(_Limit(terms, [(int(usable * share), cost) for share, cost in LOAD_TIERS]))
        if h in weekend_terms:
            weekend_cap = int(_weekend_capacity(inst, h) * 0.9)
            m.limits.append(_Limit(weekend_terms[h], [(weekend_cap, 200)]))
    m.limits += _period_limits(inst, m.choices)
    m.limits += _weekend_balance(inst, m.choices)
    return m


class _LocalSearch:
    """Moves and swaps of children between houses against the assignment model's penalty.

    CP-SAT spends its seconds on a region five times Bergen (44,000 choices) lowering the
    penalty from 2.6 to about 1.1 million and leaves a dozen houses 1–5% over their usable
    nights; a house over its places makes its stays a jigsaw of single nights. A move or a
    swap changes a handful of loads, so its effect is computed in microseconds."""

    def __init__(self, m: _AssignmentModel, assignment: dict[ChildIdx, HouseIdx]) -> None:
        self.m = m
        self.assignment = dict(assignment)
        self.limits_of: dict[Choice, list[tuple[int, int]]] = {}
        self.load = [0] * len(m.limits)
        for i, limit in enumerate(m.limits):
            for weight, key in limit.weighted:
                self.limits_of.setdefault(key, []).append((i, weight))
                if self.assignment.get(key[0]) == key[1]:
                    self.load[i] += weight
        self.houses_of: dict[ChildIdx, list[HouseIdx]] = {}
        self.members: dict[HouseIdx, set[ChildIdx]] = {}
        for c, h in m.choices:
            self.houses_of.setdefault(c, []).append(h)
        for c, h in self.assignment.items():
            self.members.setdefault(h, set()).add(c)

    def _shift(self, key: Choice, sign: int) -> int:
        """Add (+1) or take away (−1) choice ``key`` and return the change in penalty."""
        delta = sign * self.m.choices[key]
        for i, weight in self.limits_of.get(key, ()):
            limit = self.m.limits[i]
            before = limit.cost(self.load[i])
            self.load[i] += sign * weight
            delta += limit.cost(self.load[i]) - before
        return delta

    def _move(self, c: ChildIdx, h: HouseIdx) -> int:
        old = self.assignment[c]
        delta = self._shift((c, old), -1) + self._shift((c, h), +1)
        self.assignment[c] = h
        self.members[old].discard(c)
        self.members.setdefault(h, set()).add(c)
        return delta

    def _over(self) -> list[HouseIdx]:
        """Houses in a limit with a cost, fullest first."""
        houses: dict[HouseIdx, int] = {}
        for i, limit in enumerate(self.m.limits):
            cost = limit.cost(self.load[i])
            if cost:
                for _w, (c, h) in limit.weighted:
                    if self.assignment.get(c) == h:
                        houses[h] = houses.get(h, 0) + cost
                        break
        return sorted(houses, key=lambda h: -houses[h])

    def _try_moves(self, h: HouseIdx) -> bool:
        for c in sorted(self.members.get(h, ())):
            for other in self.houses_of[c]:
                if other == h:
                    continue
                if self._move(c, other) < 0:
                    return True
                self._move(c, h)
        return False

    def _try_swaps(self, h: HouseIdx) -> bool:
        for c in sorted(self.members.get(h, ())):
            for other in self.houses_of[c]:
                if other == h:
                    continue
                for d in sorted(self.members.get(other, ())):
                    if (d, h) not in self.m.choices:
                        continue
                    if self._move(c, other) + self._move(d, h) < 0:
                        return True
                    self._move(d, other)
                    self._move(c, h)
        return False

    def place_split(self, split: dict[ChildIdx, list[HouseIdx]]) -> None:
        """Each child the relaxation split over several houses goes, in turn, to the one of
        them where it costs least given everyone placed so far."""
        for c in sorted(split):
            home = self.assignment[c]
            best, best_delta = home, 0
            for h in split[c]:
                if h == home:
                    continue
                delta = self._move(c, h)
                if delta < best_delta:
                    best, best_delta = h, delta
                self._move(c, home)
            if best != home:
                self._move(c, best)

    def run(self, deadline: float) -> dict[ChildIdx, HouseIdx]:
        """Improve until no move or swap out of a penalised house helps, or ``deadline``."""
        improved = True
        while improved and time.monotonic() < deadline:
            improved = False
            for h in self._over():
                if time.monotonic() >= deadline:
                    break
                if self._try_moves(h) or self._try_swaps(h):
                    improved = True
                    break
        return self.assignment


def penalty(m: _AssignmentModel, assignment: dict[ChildIdx, HouseIdx]) -> int:
    """The assignment model's objective for ``assignment``."""
    total = sum(cost for (c, h), cost in m.choices.items() if assignment.get(c) == h)
    for limit in m.limits:
        total += limit.cost(sum(w for w, (c, h) in limit.weighted if assignment.get(c) == h))
    return total


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


#: Share of the assignment's seconds the linear relaxation may take; the moves and swaps
#: that make its rounding whole get the rest.
RELAXATION_SHARE = 0.6

#: A child's share of a house in the relaxation counts as a split above this.
_SPLIT = 1e-6


def relaxed_assignment(
    m: _AssignmentModel, seconds: float
) -> tuple[dict[ChildIdx, HouseIdx], dict[ChildIdx, list[HouseIdx]]] | None:
    """The assignment model's linear relaxation (GLOP: each child's choice a share in [0, 1],
    each tier's overload a continuous amount), each child rounded to the house with its
    largest share. Also returns, for each child the relaxation splits, the houses it splits
    it over. None when GLOP finds no feasible point in ``seconds``.

    Why: the relaxation balances every house's load, period loads and weekend pressure at
    once, where moves and swaps of one child (and CP-SAT in its seconds) stall. On a region
    five times Bergen the penalty after CP-SAT's 22 s and 10 s of moves and swaps was 1.0
    million and CP-SAT alone reached 0.56 million in 90 s; the relaxation's rounding after
    10 s of moves and swaps is about 0.1 million (its own bound: 25,099). Only a few hundred
    of the 44,000 shares are fractional."""
    model = mb.Model()
    share = {key: model.new_num_var(0.0, 1.0, f"x_{key[0]}_{key[1]}") for key in m.choices}
    by_child: dict[ChildIdx, list[Choice]] = {}
    for key in m.choices:
        by_child.setdefault(key[0], []).append(key)
    for keys in by_child.values():
        model.add(mb.LinearExpr.sum([share[k] for k in keys]) == 1)
    cost_vars = [share[k] for k, cost in m.choices.items() if cost]
    costs = [float(cost) for cost in m.choices.values() if cost]
    for i, limit in enumerate(m.limits):
        load = mb.LinearExpr.weighted_sum(
            [share[k] for _w, k in limit.weighted], [float(w) for w, _k in limit.weighted]
        )
        for j, (cap, cost) in enumerate(limit.tiers):
            over = model.new_num_var(
                0.0, float(sum(abs(w) for w, _ in limit.weighted)), f"o{i}_{j}"
            )
            model.add(load - over <= cap)
            cost_vars.append(over)
            costs.append(float(cost))
    model.minimize(mb.LinearExpr.weighted_sum(cost_vars, costs))
    solver = mb.Solver("glop")
    solver.set_time_limit_in_seconds(max(0.1, seconds))
    status = solver.solve(model)
    if status not in (mb.SolveStatus.OPTIMAL, mb.SolveStatus.FEASIBLE):
        return None
    values = {key: float(solver.value(var)) for key, var in share.items()}
    rounded: dict[ChildIdx, HouseIdx] = {}
    split: dict[ChildIdx, list[HouseIdx]] = {}
    for c, keys in by_child.items():
        rounded[c] = max(keys, key=lambda k: values[k])[1]
        support = [k[1] for k in keys if values[k] > _SPLIT]
        if len(support) > 1:
            split[c] = support
    return rounded, split


def assign_houses(
    inst: Instance, *, time_limit: float = 5.0, seed: int = 1, workers: int = 2
) -> dict[ChildIdx, HouseIdx]:
    """A house for every child that has a candidate house (barnebolig residents excluded): the
    linear relaxation rounded (`relaxed_assignment`), then moves and swaps. Should GLOP find
    nothing in its seconds: the greedy assignment as a complete hint (loads and overloads
    included), then CP-SAT, then moves and swaps."""
    m = _describe(inst)
    if not m.choices:
        return {}
    started = time.monotonic()
    relaxed = relaxed_assignment(m, RELAXATION_SHARE * time_limit)
    if relaxed is not None:
        rounded, split = relaxed
        search = _LocalSearch(m, rounded)
        search.place_split(split)
        return search.run(started + time_limit + LOCAL_SEARCH_SECONDS)
    time_limit = max(0.1, started + time_limit - time.monotonic())
    start = greedy_assignment(inst)
    model = cp_model.CpModel()
    choose = {key: model.new_bool_var(f"a_{key[0]}_{key[1]}") for key in m.choices}
    by_child: dict[ChildIdx, list[cp_model.IntVar]] = {}
    for (c, _h), var in choose.items():
        by_child.setdefault(c, []).append(var)
    for options in by_child.values():
        model.add_exactly_one(options)
    penalties: list[cp_model.LinearExpr] = [
        cost * choose[key] for key, cost in m.choices.items() if cost
    ]
    for i, limit in enumerate(m.limits):
        most = sum(max(0, w) for w, _ in limit.weighted)
        least = sum(min(0, w) for w, _ in limit.weighted)
        load = model.new_int_var(least, most, f"load_{i}")
        model.add(load == sum(w * choose[key] for w, key in limit.weighted))
        value = sum(w for w, (c, h) in limit.weighted if start.get(c) == h)
        model.add_hint(load, value)
        for j, (cap, cost) in enumerate(limit.tiers):
            over = model.new_int_var(0, max(0, most - cap), f"over_{i}_{j}")
            model.add(load <= cap + over)
            model.add_hint(over, max(0, value - cap))
            penalties.append(cost * over)
    for (c, h), var in choose.items():
        model.add_hint(var, int(start.get(c) == h))
    model.minimize(sum(penalties))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = workers
    solver.parameters.catch_sigint_signal = False
    # On a large region probing alone takes longer than the assignment's seconds, and CP-SAT
    # stopped in presolve returns nothing, not even the hinted start.
    solver.parameters.cp_model_probing_level = 0
    status = solver.solve(model)
    found = start
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = {c: h for (c, h), var in choose.items() if solver.value(var)}
    if status == cp_model.OPTIMAL:
        return found
    return _LocalSearch(m, found).run(time.monotonic() + LOCAL_SEARCH_SECONDS)
