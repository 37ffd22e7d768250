"""Large neighbourhood search over a complete plan: free a few children of one house, re-solve
them with everyone else fixed, keep the result when the round's objective is no worse.

A whole house's stage 2 is too large for CP-SAT to close in the seconds a round has (it stops
with a 3–8 % gap); five or six children of one house are small enough to solve to optimality
in well under a second, and a swap of nights between two families (one has the other's wished
weekend) needs exactly those two in the same neighbourhood. Neighbourhoods are therefore built
around a *seed* child that has something to gain (nights off its pattern, single nights, unmet
wishes, an unfair share) together with the children booked on the nights it would want.
Every step keeps every hard rule, the nights given and the worst child's share.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from allocator.cpsat.variables import Key
from allocator.evaluate import ChildCosts, evaluate_terms
from allocator.instance import ChildData, ChildIdx, HouseIdx, Instance, NightIdx, share_rows
from allocator.result import ProgressPoint, SolveStatus, StageReport
from models.inputs import Pattern

if TYPE_CHECKING:
    from allocator.decompose import DecomposedRun, Group

#: Children freed together over the whole round in a "children" neighbourhood: where it
#: starts, and the range it adapts in (one more after a sub-problem solved to optimality, one
#: fewer after one that ran out of time).
CHILDREN_FREED = 5
CHILDREN_FREED_RANGE = (3, 12)

#: Nights in a "window" neighbourhood, where every child of the house is free inside it; it
#: adapts like the children's count, a week at a time.
WINDOW_NIGHTS = 21
WINDOW_NIGHTS_RANGE = (14, 42)

#: Share of the window neighbourhoods of a seed holding nights off its pattern that are
#: centred on one of those nights (`window_around`).
OFF_PATTERN_WINDOWS = 0.5

#: Nights either side of a holiday in a holiday window (a stay may reach into it).
HOLIDAY_MARGIN = 3

#: Seconds one neighbourhood may take: CP-SAT finds nearly all it will find in a quarter of a
#: second and then spends its time on the bound, which the search does not need (and a stage
#: given under `MIN_STAGE_SECONDS` is skipped).
STEP_SECONDS = 0.3

#: Stop after this many neighbourhoods in a row without improvement per house (the house is
#: then as good as this search makes it).
PATIENCE_PER_HOUSE = 40


@dataclass
class LnsStats:
    neighbourhoods: int = 0
    improved: int = 0
    gain: int = 0
    children_freed: int = CHILDREN_FREED
    window_nights: int = WINDOW_NIGHTS

    def adapt(self, optimal: bool, window: bool) -> None:
        """Grow the neighbourhood after a sub-problem CP-SAT closed in time, shrink it after
        one it did not: the search stays where sub-problems are as large as the step allows."""
        if window:
            lo, hi = WINDOW_NIGHTS_RANGE
            step = 7 if optimal else -7
            self.window_nights = max(lo, min(hi, self.window_nights + step))
        else:
            lo, hi = CHILDREN_FREED_RANGE
            self.children_freed = max(lo, min(hi, self.children_freed + (1 if optimal else -1)))


def _nights_of(plan: set[Key]) -> dict[ChildIdx, set[NightIdx]]:
    nights: dict[ChildIdx, set[NightIdx]] = defaultdict(set)
    for c, _h, n in plan:
        nights[c].add(n)
    return nights


def wanted_nights(
    inst: Instance, child: ChildData, mine: set[NightIdx], fair: bool = False
) -> set[NightIdx]:
    """Nights the child would rather have: every free night it is offered while it is below
    its reachable grant, its wished-for nights it lacks, for weekend and weekday families the
    nights of its pattern it lacks and, when fair shares are weighed (``fair``), the nights of
    each high-demand kind it is short of."""
    wanted = {n for n in child.want_weight if n not in mine}
    if len(mine) < child.target:
        wanted |= {n for n in child.available if n not in mine and child.offered(n)}
    if child.pattern in (Pattern.WEEKEND, Pattern.WEEKDAYS):
        wanted |= {
            n
            for n in child.available
            if n not in mine and inst.in_pattern(child, n) and child.offered(n)
        }
    if fair:
        for row in share_rows(inst, child):
            got = sum(1 for n in row.nights if n in mine)
            if row.per_got * got - row.per_night * len(mine) + row.offset < -row.slack:
                wanted |= {n for n in row.nights if n not in mine and child.offered(n)}
    return wanted


def fair_share_shortfall(inst: Instance, child: ChildData, mine: set[NightIdx]) -> int:
    """Nights beyond the tolerance by which the family strays from its fair shares."""
    return sum(
        row.deviation(sum(1 for n in row.nights if n in mine), len(mine))
        for row in share_rows(inst, child)
    )


def room_to_gain(inst: Instance, child: ChildData, mine: set[NightIdx], fair: bool = False) -> int:
    """A rough count of what the child could gain from a re-solve: nights short of its
    reachable grant (they weigh most), nights off its pattern, single nights, want-nights it
    lacks and (``fair``) nights off its fair shares. Seeds are drawn in proportion to it (plus
    one)."""
    if child.is_resident:
        return 0
    short = max(0, child.target - len(mine))
    singles = sum(1 for n in mine if n - 1 not in mine and n + 1 not in mine)
    lacking_wish = sum(1 for n in child.want_weight if n not in mine)
    off = sum(1 for n in mine if inst.off_pattern(child, n))
    unfair = 2 * fair_share_shortfall(inst, child, mine) if fair else 0
    return 10 * short + off + 3 * singles + 2 * lacking_wish + unfair


def holds_loosely(inst: Instance, child: ChildData, nights: set[NightIdx]) -> int:
    """How many of ``nights`` the child holds but could give up at little cost: nights it did
    not wish for and that are not its pattern's (a Friday of a family with no weekend pattern)."""
    loose = 0
    patterned = child.pattern in (Pattern.WEEKEND, Pattern.WEEKDAYS)
    for n in nights:
        if n in child.want_weight or (patterned and inst.in_pattern(child, n)):
            continue
        loose += 1
    return loose


def draw_seed(
    inst: Instance,
    members: Sequence[ChildIdx],
    nights: dict[ChildIdx, set[NightIdx]],
    rng: random.Random,
    fair: bool = False,
) -> ChildIdx:
    """A child drawn in proportion to its room to gain (plus one, so every child can be)."""
    weights = [1 + room_to_gain(inst, inst.children[c], nights[c], fair) for c in members]
    return rng.choices(list(members), weights=weights)[0]


def window_around(
    inst: Instance,
    seed: ChildIdx,
    nights: dict[ChildIdx, set[NightIdx]],
    rng: random.Random,
    fair: bool = False,
    length: int = WINDOW_NIGHTS,
) -> tuple[NightIdx, NightIdx]:
    """``length`` nights around a night the seed child would want (or any night), or, every
    other time, around a night it holds off its pattern: a weekend family's Sunday is traded
    for a Saturday of a family with no pattern in the weeks around it. (A short family wants
    every free night, so the wanted night alone is seldom near its off-pattern stay: at
    demand 115% weekend families had 12% of their nights off Friday and Saturday.)"""
    child = inst.children[seed]
    held_off = sorted(n for n in nights[seed] if inst.off_pattern(child, n))
    if held_off and rng.random() < OFF_PATTERN_WINDOWS:
        centre = rng.choice(held_off)
    else:
        wanted = sorted(wanted_nights(inst, child, nights[seed], fair))
        centre = rng.choice(wanted) if wanted else rng.randrange(len(inst.nights))
    first = max(0, min(centre - length // 2, len(inst.nights) - length))
    return first, min(len(inst.nights) - 1, first + length - 1)


def holiday_window(
    inst: Instance,
    members: Sequence[ChildIdx],
    nights: dict[ChildIdx, set[NightIdx]],
    rng: random.Random,
) -> tuple[NightIdx, NightIdx] | None:
    """A holiday (Easter, a school break, 17 May, Christmas) with a few nights either side,
    drawn in proportion to how far the members stray from their fair shares of it: inside it
    the whole house's families can trade holiday nights among themselves."""
    spans: dict[str, tuple[NightIdx, NightIdx]] = {}
    for kind, kind_nights in inst.demand.items():
        if kind != "weekend" and kind_nights:
            spans[kind] = (min(kind_nights), max(kind_nights))
    stray: dict[str, int] = dict.fromkeys(spans, 0)
    for c in members:
        mine = nights[c]
        for row in share_rows(inst, inst.children[c]):
            if row.kind in stray:
                stray[row.kind] += row.deviation(sum(1 for n in row.nights if n in mine), len(mine))
    kinds = [k for k in spans if stray[k] > 0]
    if not kinds:
        return None
    kind = rng.choices(kinds, weights=[stray[k] for k in kinds])[0]
    first, last = spans[kind]
    return max(0, first - HOLIDAY_MARGIN), min(len(inst.nights) - 1, last + HOLIDAY_MARGIN)


def neighbourhood(
    inst: Instance,
    members: Sequence[ChildIdx],
    nights: dict[ChildIdx, set[NightIdx]],
    seed: ChildIdx,
    size: int,
    rng: random.Random,
    fair: bool = False,
) -> list[ChildIdx]:
    """The seed child, then the members who hold the nights it would want and could give them
    up most cheaply (not their pattern's, not wished for), then random members up to
    ``size``."""
    wanted = wanted_nights(inst, inst.children[seed], nights[seed], fair)
    others = [c for c in members if c != seed]
    rng.shuffle(others)
    others.sort(
        key=lambda c: (
            -holds_loosely(inst, inst.children[c], nights[c] & wanted),
            -len(nights[c] & wanted),
        )
    )
    related = [c for c in others if nights[c] & wanted][: max(1, size // 2)]
    rest = [c for c in others if c not in related]
    return [seed, *related, *rest][:size]


def _round_part(costs: ChildCosts, children: Sequence[ChildIdx], plan: set[Key]) -> int:
    """The children's own parts of the round's objective (`ChildCosts`) in ``plan``."""
    chosen = set(children)
    nights: dict[ChildIdx, list[tuple[HouseIdx, NightIdx]]] = {c: [] for c in chosen}
    for c, h, n in plan:
        if c in chosen:
            nights[c].append((h, n))
    return sum(costs.cost(c, mine) for c, mine in nights.items())


def improve(
    run: DecomposedRun, groups: Sequence[Group], seed: int, until_share: float = 1.0
) -> LnsStats:
    """Re-solve neighbourhoods of the house groups until ``until_share`` of the round's time
    is up, each house in turn (a house that stops improving is left alone)."""
    rng = random.Random(seed)
    stats = LnsStats()
    fair = run.weights.share_deviation_night > 0
    todo = [g for g in groups if g.candidates and len(g.children) > 1]
    stale: dict[str, int] = defaultdict(int)
    objective = sum(evaluate_terms(run.inst, run.weights, run.plan).values())
    worst_share = run.inst.worst_share(Counter(c for c, _h, _n in run.plan))
    costs = ChildCosts(run.inst, run.weights)
    turn = 0
    while todo and not run.interrupt.requested:
        left = run.left(until_share)
        if left < 1.0:
            break
        group = todo[turn % len(todo)]
        turn += 1
        houses_of: dict[ChildIdx, set[HouseIdx]] = defaultdict(set)
        for c, h, _n in run.plan:
            houses_of[c].add(h)
        # Children the mop-up moved into a second house stay as they are.
        members = [c for c in group.children if houses_of[c] <= set(group.candidates[c])]
        if len(members) < 2:
            todo.remove(group)
            continue
        nights = _nights_of(run.plan)
        seed_child = draw_seed(run.inst, members, nights, rng, fair)
        # Alternate: a few children over the whole round, then the whole house in a window
        # (and, when fair shares are weighed, the whole house over a holiday).
        kind_of_step = stats.neighbourhoods % (3 if fair else 2)
        holiday = holiday_window(run.inst, members, nights, rng) if kind_of_step == 2 else None
        if holiday is not None:
            chosen = members
            window = holiday
        elif kind_of_step == 0:
            size = stats.children_freed
            chosen = neighbourhood(run.inst, members, nights, seed_child, size, rng, fair)
            window = None
        else:
            chosen = members
            length = stats.window_nights
            window = window_around(run.inst, seed_child, nights, rng, fair, length)
        sub, result, start = run.solve(
            chosen,
            {c: group.candidates[c] for c in chosen},
            min(STEP_SECONDS, left),
            f"lns {group.name}",
            from_current=True,
            stage2_only=True,
            quiet=True,
            window=window,
        )
        stats.neighbourhoods += 1
        if holiday is None:
            stats.adapt(result.status is SolveStatus.OPTIMAL, window is not None)
        if not result.status.has_plan or start is None:
            continue
        kept = set(run.plan)
        before = _round_part(costs, sub.to_global, kept) - run.weights.worst_child * worst_share
        run.take_result(sub, result)
        # A sub-problem holds its own worst share against its children's reachable nights
        # there, which can be fewer than in the round: a step must not lower the round's.
        # The step is judged by the round's objective, not the sub-problem's: the two differ
        # in the worst share (the sub-problem's own children's) and so in what they reward.
        worst = run.inst.worst_share(Counter(c for c, _h, _n in run.plan))
        after = _round_part(costs, sub.to_global, run.plan) - run.weights.worst_child * worst
        if worst >= worst_share and after < before:
            worst_share = worst
            stats.improved += 1
            stats.gain += before - after
            objective -= before - after
            stale[group.name] = 0
            if run.on_progress is not None:
                run.on_progress(ProgressPoint(2, run.elapsed(), objective, float("nan"), "lns"))
        else:
            run.plan = kept
            stale[group.name] += 1
            if stale[group.name] >= PATIENCE_PER_HOUSE:
                todo.remove(group)
    run.stages.append(
        StageReport(
            2,
            f"large neighbourhood search: {stats.improved} of {stats.neighbourhoods} "
            "neighbourhoods improved the plan",
            SolveStatus.FEASIBLE,
            float(objective),
            float("nan"),
            0.0,
        )
    )
    return stats
