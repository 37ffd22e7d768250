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
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from allocator.cpsat.variables import Key
from allocator.evaluate import evaluate_terms
from allocator.instance import ChildData, ChildIdx, HouseIdx, Instance, NightIdx
from allocator.result import ProgressPoint, SolveStatus, StageReport
from models.inputs import Pattern

if TYPE_CHECKING:
    from allocator.decompose import DecomposedRun, Group

#: Children freed together over the whole round in a "children" neighbourhood.
CHILDREN_FREED = 5

#: Nights in a "window" neighbourhood, where every child of the house is free inside it.
WINDOW_NIGHTS = 21

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


def _nights_of(plan: set[Key]) -> dict[ChildIdx, set[NightIdx]]:
    nights: dict[ChildIdx, set[NightIdx]] = defaultdict(set)
    for c, _h, n in plan:
        nights[c].add(n)
    return nights


def wanted_nights(inst: Instance, child: ChildData, mine: set[NightIdx]) -> set[NightIdx]:
    """Nights the child would rather have: its wished-for nights it lacks and, for weekend and
    weekday families, the nights of its pattern it lacks."""
    wanted = {n for n in child.want_weight if n not in mine}
    if child.pattern in (Pattern.WEEKEND, Pattern.WEEKDAYS):
        want_weekend = child.pattern is Pattern.WEEKEND
        wanted |= {
            n
            for n in child.available
            if n not in mine and inst.weekend_night[n] == want_weekend and child.offered(n)
        }
    return wanted


def room_to_gain(inst: Instance, child: ChildData, mine: set[NightIdx]) -> int:
    """A rough count of what the child could gain from a re-solve: nights off its pattern,
    single nights and want-nights it lacks. Seeds are drawn in proportion to it (plus one)."""
    if child.is_resident:
        return 0
    singles = sum(1 for n in mine if n - 1 not in mine and n + 1 not in mine)
    lacking_wish = sum(1 for n in child.want_weight if n not in mine)
    off = 0
    if child.pattern in (Pattern.WEEKEND, Pattern.WEEKDAYS):
        want_weekend = child.pattern is Pattern.WEEKEND
        off = sum(
            1 for n in mine if inst.weekend_night[n] != want_weekend and n not in child.want_weight
        )
    return off + 3 * singles + 2 * lacking_wish


def draw_seed(
    inst: Instance,
    members: Sequence[ChildIdx],
    nights: dict[ChildIdx, set[NightIdx]],
    rng: random.Random,
) -> ChildIdx:
    """A child drawn in proportion to its room to gain (plus one, so every child can be)."""
    weights = [1 + room_to_gain(inst, inst.children[c], nights[c]) for c in members]
    return rng.choices(list(members), weights=weights)[0]


def window_around(
    inst: Instance, seed: ChildIdx, nights: dict[ChildIdx, set[NightIdx]], rng: random.Random
) -> tuple[NightIdx, NightIdx]:
    """``WINDOW_NIGHTS`` nights around a night the seed child would want (or any night)."""
    wanted = sorted(wanted_nights(inst, inst.children[seed], nights[seed]))
    centre = rng.choice(wanted) if wanted else rng.randrange(len(inst.nights))
    first = max(0, min(centre - WINDOW_NIGHTS // 2, len(inst.nights) - WINDOW_NIGHTS))
    return first, min(len(inst.nights) - 1, first + WINDOW_NIGHTS - 1)


def neighbourhood(
    inst: Instance,
    members: Sequence[ChildIdx],
    nights: dict[ChildIdx, set[NightIdx]],
    seed: ChildIdx,
    size: int,
    rng: random.Random,
) -> list[ChildIdx]:
    """The seed child, then the members booked most on the nights it would want, then random
    members up to ``size``."""
    wanted = wanted_nights(inst, inst.children[seed], nights[seed])
    others = [c for c in members if c != seed]
    rng.shuffle(others)
    others.sort(key=lambda c: -len(nights[c] & wanted))
    related = [c for c in others if nights[c] & wanted][: max(1, size // 2)]
    rest = [c for c in others if c not in related]
    return [seed, *related, *rest][:size]


def improve(run: DecomposedRun, groups: Sequence[Group], seed: int) -> LnsStats:
    """Re-solve neighbourhoods of the house groups until the time is up, each house in turn
    (a house that stops improving is left alone)."""
    rng = random.Random(seed)
    stats = LnsStats()
    todo = [g for g in groups if g.candidates and len(g.children) > 1]
    stale: dict[str, int] = defaultdict(int)
    objective = sum(evaluate_terms(run.inst, run.weights, run.plan).values())
    turn = 0
    while todo and not run.interrupt.requested:
        left = run.left()
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
        seed_child = draw_seed(run.inst, members, nights, rng)
        # Alternate: a few children over the whole round, then the whole house in a window.
        if stats.neighbourhoods % 2 == 0:
            chosen = neighbourhood(run.inst, members, nights, seed_child, CHILDREN_FREED, rng)
            window = None
        else:
            chosen = members
            window = window_around(run.inst, seed_child, nights, rng)
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
        if not result.status.has_plan or start is None:
            continue
        before = sum(evaluate_terms(sub.instance, run.weights, start).values())
        after = sum(result.term_values.values())
        if after < before:
            run.take_result(sub, result)
            stats.improved += 1
            stats.gain += before - after
            objective -= before - after
            stale[group.name] = 0
            if run.on_progress is not None:
                run.on_progress(ProgressPoint(2, run.elapsed(), objective, float("nan"), "lns"))
        else:
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
