"""The decomposed method: houses first, then the nights house by house, a mop-up and polish.

Each child gets a house (`allocator.assign`); the nights are laid house by house with the
round's own model on a sub-instance (everyone else's nights fixed and taken out of capacity);
the children still short get a second chance over all their candidate houses (the mop-up);
the night moves and swaps (`allocator.swaps`) shape the stays; time left over goes to a large
neighbourhood search (`allocator.lns`) that re-solves a few children of one house at a time
for stays, patterns, wishes and fair shares (weighed at a quarter, `search_weights`), and the
last fifth of the time to the moves and swaps again at the round's own weights, pass after
pass at the plan's own fair-share level. Every step keeps every hard rule, so the plan is
valid at every moment. `polish_plan` runs the search and the last moves again from a finished
plan (``plan --improve``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from allocator.assign import assign_houses
from allocator.cpsat.variables import Key
from allocator.diagnose import diagnose
from allocator.evaluate import evaluate_terms
from allocator.hint import fill_shortfall, greedy_plan
from allocator.instance import (
    ChildIdx,
    HouseIdx,
    Instance,
    NightIdx,
    SubInstance,
    sub_instance,
    with_demand_scale,
)
from allocator.lns import improve
from allocator.result import ProgressPoint, Result, SolveStatus, StageReport
from allocator.solve import (
    MIN_STAGE_SECONDS,
    Interrupt,
    ProgressFn,
    SolveParams,
    bookings_of,
    catch_ctrl_c,
    solve_monolithic,
)
from allocator.swaps import swap_nights
from models.config import ObjectiveWeights

#: Share of the time limit for the first pass over the houses; the rest is for the mop-up
#: and the polish. On a region five times Bergen (300 s) the house pass left 4.9-5.8%
#: single nights and the night moves and swaps after it took them to 2.3-2.5% in all the
#: time they had; with the pass at 55% instead of 70%: 1.8%, want-wishes 553 (513) of
#: 1,141, families within +-1 of every share 37.6% (31.6%).
HOUSE_PASS_SHARE = 0.55

#: A neighbourhood-search step is small: it may run on a fraction of a second.
LNS_MIN_STAGE_SECONDS = 0.05


def assignment_seconds(inst: Instance, time_limit: float) -> float:
    """The house assignment's share of the time: 8% of the round's, at most 5 s plus a second
    per hundred children (a region five times Bergen needs about 20 s to spread its load)."""
    return min(0.08 * time_limit, 5.0 + len(inst.children) / 100)


@dataclass(frozen=True)
class Group:
    """Children solved together: one house's children, or all barnebolig residents."""

    name: str
    children: list[ChildIdx]
    candidates: dict[ChildIdx, tuple[HouseIdx, ...]]
    """Houses each child may use in this group; empty for residents (all barnebolig houses)."""


def house_groups(inst: Instance, assignment: dict[ChildIdx, HouseIdx]) -> list[Group]:
    """Barnebolig residents together; every other child with the house it was assigned (and
    any house it is pinned to)."""
    groups: list[Group] = []
    residents = [c.idx for c in inst.children if c.is_resident and c.candidates]
    if residents:
        groups.append(Group("barnebolig", residents, {}))
    by_house: dict[HouseIdx, list[ChildIdx]] = {}
    for c, h in assignment.items():
        by_house.setdefault(h, []).append(c)
    for h, members in sorted(by_house.items(), key=lambda kv: -len(kv[1])):
        candidates = {
            c: (h, *sorted({p for p, _ in inst.children[c].pinned} - {h})) for c in members
        }
        groups.append(Group(f"house {inst.houses[h].house_id}", members, candidates))
    return groups


@dataclass
class DecomposedRun:
    """The state of one decomposed solve: the current plan and the reports so far."""

    inst: Instance
    weights: ObjectiveWeights
    params: SolveParams
    on_progress: ProgressFn | None
    interrupt: Interrupt
    started: float = field(default_factory=time.monotonic)
    plan: set[Key] = field(default_factory=set)
    stages: list[StageReport] = field(default_factory=list)
    trace: list[ProgressPoint] = field(default_factory=list)

    def left(self, until_share: float = 1.0) -> float:
        return self.started + until_share * self.params.time_limit - time.monotonic()

    def solve(
        self,
        children: list[ChildIdx],
        candidates: dict[ChildIdx, tuple[HouseIdx, ...]] | None,
        time_limit: float,
        label: str,
        *,
        from_current: bool = False,
        stage2_only: bool = False,
        quiet: bool = False,
        window: tuple[NightIdx, NightIdx] | None = None,
        start_plan: set[Key] | None = None,
        filled: bool = False,
        full_house: bool = False,
        sub: SubInstance | None = None,
    ) -> tuple[SubInstance, Result, set[Key] | None]:
        """Re-solve ``children`` with everyone else's nights fixed, from their current nights
        (``from_current``; ``filled``: with stays added where there is room, see
        `allocator.hint.fill_shortfall`) or from ``start_plan`` (in the sub-problem's
        indices). ``quiet`` (a neighbourhood search step) keeps the step's solutions out of
        the progress lines and the trace. ``full_house``: a whole house's model, where stage 1
        breaks ties towards the greedy plan and stage 2 runs CP-SAT's neighbourhood workers
        only (`SolveParams.stage1_near_start`, `SolveParams.stage2_lns_only`). ``sub``: the
        sub-instance of these children, when the caller has it already."""
        if sub is None:
            sub = sub_instance(self.inst, children, self.plan, candidates or None, window)
        start = start_plan
        if from_current:
            current = self.current_of(sub)
            start = fill_shortfall(sub.instance, current) if filled else current
        result = solve_monolithic(
            sub.instance,
            self.weights,
            replace(
                self.params,
                time_limit=time_limit,
                stage1_near_start=full_house,
                stage2_lns_only=full_house,
            ),
            None if quiet else self.on_progress,
            start_plan=start,
            label=label,
            interrupt=self.interrupt,
            started=self.started,
            stage2_only=stage2_only,
            min_stage_seconds=LNS_MIN_STAGE_SECONDS if quiet else MIN_STAGE_SECONDS,
        )
        if not quiet:
            self.stages.extend(result.stages)
            self.trace.extend(result.trace)
        return sub, result, start

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def current_of(self, sub: SubInstance) -> set[Key]:
        """The sub-problem's children's current nights, in the sub-problem's indices."""
        local = {g: i for i, g in enumerate(sub.to_global)}
        return {(local[c], h, n) for c, h, n in self.plan if c in local}

    def take_result(self, sub: SubInstance, result: Result) -> None:
        """Replace the sub-problem's children's nights by those of ``result``."""
        self.take(sub, _local_plan(self.inst, sub, result))

    def take(self, sub: SubInstance, local_plan: set[Key]) -> None:
        """Replace the sub-problem's children's nights by ``local_plan``."""
        freed = set(sub.to_global)
        kept = {k for k in self.plan if k[0] not in freed}
        self.plan = kept | {(sub.to_global[c], h, n) for c, h, n in local_plan}


def _local_plan(inst: Instance, sub: SubInstance, result: Result) -> set[Key]:
    child_of = {inst.children[g].child_id: i for i, g in enumerate(sub.to_global)}
    house_of = {h.house_id: h.idx for h in inst.houses}
    return {
        (child_of[b.child_id], house_of[b.house_id], inst.night_index(b.night))
        for b in result.bookings
    }


def _house_weights(
    run: DecomposedRun, groups: list[Group]
) -> tuple[dict[str, float], dict[str, tuple[SubInstance, set[Key]]]]:
    """Each group's claim on the house pass's time: its nights, more when its greedy plan falls
    short of them. A house whose children's stays fill it to the last place needs stage 1 to
    find the nights and stage 2 to shape them again; in a region five times Bergen such a
    house had half its stays as single nights after 2 s and 11% after 12 s, where a house
    with room was done in 2 s. Also returns each group's sub-instance and greedy plan, for
    the pass to reuse while no one else has a night in the group's houses."""
    weights = {}
    prepared = {}
    for group in groups:
        sub = sub_instance(run.inst, group.children, run.plan, group.candidates or None)
        greedy = greedy_plan(sub.instance)
        target = sum(c.target for c in sub.instance.children)
        short = max(0, target - len(greedy)) / max(1, target)
        weights[group.name] = target * min(TIGHT_HOUSE_MAX_WEIGHT, 1 + TIGHT_HOUSE_WEIGHT * short)
        prepared[group.name] = (sub, greedy)
    return weights, prepared


def _group_houses(inst: Instance, group: Group) -> set[HouseIdx]:
    """The houses a group's children may use (every barnebolig for the residents)."""
    if not group.candidates:
        return {h.idx for h in inst.houses if h.is_barnebolig}
    return {h for houses in group.candidates.values() for h in houses}


def _prepared_or_fresh(
    run: DecomposedRun, group: Group, prepared: tuple[SubInstance, set[Key]]
) -> tuple[SubInstance, set[Key]]:
    """The group's sub-instance and greedy plan from `_house_weights` when no child outside
    the group has a night in its houses yet (they are then the same), else built anew."""
    houses = _group_houses(run.inst, group)
    members = set(group.children)
    if not any(h in houses and c not in members for c, h, _n in run.plan):
        return prepared
    sub = sub_instance(run.inst, group.children, run.plan, group.candidates or None)
    return sub, greedy_plan(sub.instance)


#: A house's weight grows by this factor times the share of its nights its greedy plan misses
#: (capped): 10% missing counts three times.
TIGHT_HOUSE_WEIGHT = 20.0
TIGHT_HOUSE_MAX_WEIGHT = 3.0


#: A house whose model has at least this many night variables is solved with stage 1 breaking
#: ties towards the greedy plan and stage 2 by CP-SAT's neighbourhood workers only. On a full
#: house of 44 children in a region five times Bergen (about 7,000 night variables), 2.5 s
#: left 46 single nights of 487 stays where the default stages left 113 of 537, and 10 s of
#: neighbourhood workers alone left 7 where the default workers left 34. A smaller model is
#: left to the default workers, which can prove it optimal.
FULL_HOUSE_MIN_VARIABLES = 3_000


#: The neighbourhood search and the moves before it weigh a night beyond a fair share at the
#: round's weight divided by this; the last moves and swaps (`_last_swaps`), at the plan's
#: own share level, weigh it in full. On Bergen (300 s, seed 1) with shares at 300 a night:
#: the whole search at 300 ended at an objective of -1,269,042 (at the 300 weight) with 86.3%
#: of families within ±1 of every share, 178 wishes met and 89.5% of weekend families'
#: nights on Fridays and Saturdays; a 300-s run at 80 followed by four passes of the moves at
#: 300 ended at -1,285,020, 89.7%, 191 and 91.5%. A share is a fixed point of what the
#: families of a pattern get together, and the search prices it at a level set before its
#: moves: weighed in full it trades wishes and weekends for shares whose level then drifts.
SEARCH_SHARE_DIVISOR = 4


def search_weights(weights: ObjectiveWeights) -> ObjectiveWeights:
    """The weights the neighbourhood search and the first moves use (`SEARCH_SHARE_DIVISOR`)."""
    return weights.model_copy(
        update={"share_deviation_night": weights.share_deviation_night // SEARCH_SHARE_DIVISOR}
    )


#: The house pass weighs a night beyond a holiday share at the search's weight divided by
#: this. On Bergen (300 s, seed 1, one run each) families within ±1 of every share were
#: 45.5% with no shares in the house pass, 60.1% at a quarter of the weight, 57.6% at half,
#: 57.9% at the full weight; want-wishes met 194, 188, 184 and 181 of 215 (the target is
#: 85%: 183). In the demand-115% round, wishes met 195, 182 and 154 (of 250) for none, a
#: quarter and half. Many wishes are holidays, and the house pass has seconds per house.
#: (Measured when the search weighed shares in full, at 80 a night.)
HOUSE_SHARE_DIVISOR = 4

#: Seconds of the round per 1,000 night variables from which the house pass weighs holiday
#: shares. Below it a house has a few seconds, and the shares cost it its stays: region5 at
#: 300 s (0.39 s per 1,000) went from 4.8% single nights to 8.2% and from 462 to 338
#: want-wishes met; Bergen at 60 s (0.39), with every kind at the full weight, from 1.5% to
#: 5.9%. Bergen at 300 s has 1.94.
HOUSE_SHARES_MIN_SECONDS = 1.0


def house_pass_weighs_shares(inst: Instance, weights: ObjectiveWeights, time_limit: float) -> bool:
    """Whether the house pass weighs each house's holiday shares (see
    `HOUSE_SHARES_MIN_SECONDS`)."""
    if weights.share_deviation_night <= 0 or not inst.demand:
        return False
    return 1000 * time_limit / max(1, inst.night_variables) >= HOUSE_SHARES_MIN_SECONDS


#: Share of a house's seconds for night moves and swaps on its greedy plan before CP-SAT.
HOUSE_SWAP_SHARE = 0.2


def shaped_greedy(
    inst: Instance,
    weights: ObjectiveWeights,
    greedy: set[Key],
    seconds: float,
    stop: Callable[[], bool] = lambda: False,
) -> set[Key]:
    """A house's greedy plan with its stays shaped by night moves and swaps
    (`allocator.swaps`; the same nights for every child). The greedy plan leaves places free
    where a house is full, so the moves can join a single night to a stay there; CP-SAT then
    adds the nights the greedy missed from a start of whole stays. On 20 houses of a region
    five times Bergen, 0.5 s each took the greedy plans from 7.7% single nights to 0.6%,
    where CP-SAT's few seconds a house leave about 10%. Fair shares are left to CP-SAT."""
    plain = replace(inst, shares_at_plan_level=False)
    no_shares = weights.model_copy(update={"share_deviation_night": 0})
    return swap_nights(plain, no_shares, greedy, seconds, stop)


def _house_pass(run: DecomposedRun, groups: list[Group]) -> Result | None:
    """Lay each group's nights in its share of the time (see `_house_weights`); a group whose
    time is gone keeps its greedy plan. Returns a failed result if a group has no plan at all."""
    weight, prepared = _house_weights(run, groups)
    weight_left = max(1.0, sum(weight.values()))
    for group in groups:
        left = run.left(HOUSE_PASS_SHARE)
        sub, greedy = _prepared_or_fresh(run, group, prepared[group.name])
        if run.interrupt.requested or left < MIN_STAGE_SECONDS:
            run.take(sub, greedy)
            continue
        limit = max(MIN_STAGE_SECONDS, left * weight[group.name] / weight_left)
        weight_left = max(1.0, weight_left - weight[group.name])
        greedy = shaped_greedy(
            sub.instance,
            run.weights,
            greedy,
            HOUSE_SWAP_SHARE * limit,
            lambda: run.interrupt.requested,
        )
        # When the greedy plan already gives every child its reachable grant, stage 1 has
        # nothing to find: all the house's time goes to shaping stays (stage 2) from it.
        complete = len(greedy) >= sum(c.target for c in sub.instance.children)
        sub, result, _ = run.solve(
            group.children,
            group.candidates,
            limit,
            group.name,
            stage2_only=complete,
            start_plan=greedy,
            full_house=sub.instance.night_variables >= FULL_HOUSE_MIN_VARIABLES,
            sub=sub,
        )
        if not result.status.has_plan:
            return result
        run.take_result(sub, result)
    return None


def children_who_can_gain(inst: Instance, plan: set[Key]) -> list[ChildIdx]:
    """Children short of their reachable grant with a free place on a night they are free."""
    used: dict[tuple[int, int], int] = {}
    budget_used: dict[int, int] = {}
    mine: dict[int, set[int]] = {}
    for c, h, n in plan:
        used[(h, n)] = used.get((h, n), 0) + 1
        budget_used[h] = budget_used.get(h, 0) + 1
        mine.setdefault(c, set()).add(n)
    gainers = []
    for ch in inst.children:
        booked = mine.get(ch.idx, set())
        if ch.is_resident or ch.target <= len(booked):
            continue
        for h in ch.candidates:
            house = inst.houses[h]
            if house.budget is not None and budget_used.get(h, 0) >= house.budget:
                continue
            if any(
                n not in booked and house.nightly_capacity[n] > used.get((h, n), 0)
                for n in ch.available
            ):
                gainers.append(ch.idx)
                break
    return gainers


def _fill_shortfall(run: DecomposedRun) -> None:
    """Children the mop-up left short (it runs out of time on a large region) get stays
    wherever a candidate house still has a place (`allocator.hint.fill_shortfall`); the search
    then reshapes them. It comes after the mop-up because the mop-up shares what is left by
    the worst child's share, the greedy fill only lowest share first: filled first, a
    demand-115% round's lowest child fell from 82% to 79%."""
    before = len(run.plan)
    run.plan = fill_shortfall(run.inst, run.plan)
    if len(run.plan) > before and run.on_progress is not None:
        objective = sum(evaluate_terms(run.inst, run.weights, run.plan).values())
        run.on_progress(ProgressPoint(1, run.elapsed(), objective, float("nan"), "fill"))


#: The mop-up re-solves at most this many children, the worst off first: it is the one
#: step that shares a shortfall across houses by the worst child's share, and a few hundred
#: children over three houses each leave its stage 2 no time to shape stays (a region five
#: times Bergen went from 12.5% single nights to 17.8% and 0 to 5.5% house switches in it).
#: The others are filled greedily and reshaped by the search.
MOP_UP_MAX_CHILDREN = 60
MOP_UP_MAX_SECONDS = 20.0


def _mop_up(run: DecomposedRun, assignment: dict[ChildIdx, HouseIdx]) -> None:
    """The children furthest below their reachable grant, re-solved over their assigned house
    and up to two other candidate houses with the capacity left."""
    short = children_who_can_gain(run.inst, run.plan)
    left = run.left()
    if not short or left < 1.0 or run.interrupt.requested:
        return
    got = Counter(c for c, _h, _n in run.plan)
    short = sorted(short, key=lambda c: (got[c] / run.inst.children[c].target, c))
    short = short[:MOP_UP_MAX_CHILDREN]
    candidates = {
        c: (assignment[c], *[h for h in run.inst.children[c].candidates if h != assignment[c]][:2])
        for c in short
        if c in assignment
    }
    # Half of what is left, at most MOP_UP_MAX_SECONDS: the polish needs time too. The start
    # is the current plan filled greedily, so that stage 2 shapes stays from whole stays when
    # that plan holds stage 1's level.
    sub, result, _ = run.solve(
        short,
        candidates,
        min(left / 2, MOP_UP_MAX_SECONDS),
        "mop-up",
        from_current=True,
        filled=True,
    )
    if result.status.has_plan:
        run.take_result(sub, result)


#: Night moves and swaps get at most this share of the time left after the fill; they end
#: sooner when no move helps (a region five times Bergen: 28 s, single nights 9.4% -> 4.2%).
#: They join single nights many times faster than the CP-SAT neighbourhoods after them (a
#: region five times Bergen: the moves 4.9% -> 2.5% in 39 s, the neighbourhoods 2.5% ->
#: 2.48% in 22 s), so on a large region they take nearly all of it.
SWAP_SHARE = 0.9


def _swap_nights(run: DecomposedRun, seconds: float, keep_level: bool = False) -> None:
    """Single-night moves and two-child swaps inside a house (`allocator.swaps`) for at most
    ``seconds``: they take thousands of small steps a second where a CP-SAT neighbourhood takes
    a third of a second, and leave the neighbourhoods the changes that need a solver."""
    if seconds < 1.0 or run.interrupt.requested:
        return
    before = sum(evaluate_terms(run.inst, run.weights, run.plan).values())
    run.plan = swap_nights(
        run.inst, run.weights, run.plan, seconds, lambda: run.interrupt.requested, keep_level
    )
    objective = sum(evaluate_terms(run.inst, run.weights, run.plan).values())
    if objective < before and run.on_progress is not None:
        run.on_progress(ProgressPoint(2, run.elapsed(), objective, float("nan"), "swaps"))


#: Share of the round's time left for the last moves and swaps, after the neighbourhood
#: search (`_last_swaps`), and the seconds they get at least. On Bergen's 300-s plan one pass
#: of them takes 15-25 s to settle and each of the next two still gains (see `_last_swaps`).
LAST_SWAPS_SHARE = 0.2
LAST_SWAPS_MIN_SECONDS = 1.5


def last_swaps_share(time_limit: float) -> float:
    """The share of the round's time the last moves and swaps get (`_last_swaps`)."""
    return min(0.5, max(LAST_SWAPS_SHARE, LAST_SWAPS_MIN_SECONDS / max(time_limit, 1e-9)))


def _last_swaps(run: DecomposedRun) -> None:
    """The moves and swaps again, at the round's own weights (the search before weighs shares
    less, `search_weights`), each pass with every fair share at the level of the plan as it
    then is (`with_demand_scale`), until a pass changes nothing or the time is up.

    A family's fair share of a kind is its part of what the families of its pattern get of it
    together, so a share is a fixed point: moving a winter weekend from a weekend family to a
    family that comes for whole weeks lowers every weekend family's winter share. The
    neighbourhood search moves such nights, so the level the first moves began with has
    drifted; and each pass at a new level finds moves the last could not price. On Bergen's
    300-s plan (seed 1), passes of 30 s took the families within ±1 of every share from 75.4%
    to 80.1%, 81.3% and 80.7% at a share weight of 80; at 300, to 85.7%, 88.2%, 89.4% and
    89.7%, where it stayed.

    A pass gains at the level it starts from, and the level it leaves can make the plan worse
    at its own: on Bergen (300 s, seed 1, 35% of the time for passes) the round's objective
    went from -1,321,434 after the first pass to -1,316,082 after the thirteenth. So the plan
    kept is the best, each judged at its own share level (as the checker measures it), of
    those the passes made.

    The families such a plan leaves outside ±1 of a share are nearly all at the edge (on a
    Bergen plan 13 of 15 within 1.15 nights), pushed out by the level the pass left. So each
    pass is followed by one that keeps that level (`swap_nights` with ``keep_level``: no
    child gains or loses a night and each pattern's families keep their nights of each kind
    together), whose moves are therefore priced exactly at the level the plan is judged at:
    60 s of last moves from seven plans captured before them (Bergen and demand 115%), the
    round's objective better on five, families kept 98.2% -> 98.5% on average (one plan
    99.7% -> 96.0%, for a better objective)."""
    run.inst = with_demand_scale(run.inst, run.plan)
    best_plan, best = run.plan, sum(evaluate_terms(run.inst, run.weights, run.plan).values())
    while not run.interrupt.requested and run.left() >= 1.0:
        before = run.plan
        _swap_nights(run, run.left())
        # The level the plan is judged at is the one the next pass starts from.
        run.inst = with_demand_scale(run.inst, run.plan)
        _swap_nights(run, run.left(), keep_level=True)
        if run.plan == before:
            break
        objective = sum(evaluate_terms(run.inst, run.weights, run.plan).values())
        if objective < best:
            best_plan, best = run.plan, objective
    run.plan = best_plan


def solve_decomposed(
    inst: Instance,
    weights: ObjectiveWeights,
    params: SolveParams,
    on_progress: ProgressFn | None = None,
) -> Result:
    """Solve the round house by house (see the module docstring)."""
    started = time.monotonic()
    conflicts = diagnose(inst)
    if conflicts:
        return Result(SolveStatus.INFEASIBLE, 0.0, 0.0, 0.0, conflicts=conflicts)
    with catch_ctrl_c() as interrupt:
        # Fair shares are proportional among families of one pattern, at the level of
        # nights of each kind the plan gives them together (`with_demand_scale`). Before
        # there is a plan that level is unknown, and a level from a sketch pushes families:
        # on Bergen "week" families took 35% more Friday and Saturday nights from the weekend
        # families, whose weekend share fell from 91% to 84%. So each house is laid with its
        # holiday shares at its own plan's level (`Instance.shares_at_plan_level`), when it
        # has the time (`house_pass_weighs_shares`). The mop-up, across houses, leaves them
        # out; the moves, swaps and the search then share every kind at the round's level.
        first_weights = weights.model_copy(update={"share_deviation_night": 0})
        searching = search_weights(weights)
        if house_pass_weighs_shares(inst, searching, params.time_limit):
            house_weights = searching.model_copy(
                update={
                    "share_deviation_night": searching.share_deviation_night // HOUSE_SHARE_DIVISOR
                }
            )
            house_inst = replace(inst, shares_at_plan_level=True)
        else:
            house_weights, house_inst = first_weights, inst
        run = DecomposedRun(house_inst, house_weights, params, on_progress, interrupt, started)
        assignment = assign_houses(
            inst,
            time_limit=assignment_seconds(inst, params.time_limit),
            seed=params.seed,
            workers=params.workers,
        )
        groups = house_groups(inst, assignment)
        failed = _house_pass(run, groups)
        if failed is not None:
            return Result(
                failed.status,
                0.0,
                0.0,
                time.monotonic() - started,
                stages=run.stages,
                conflicts=failed.conflicts,
                method="decomposed",
            )
        run.weights = first_weights
        _mop_up(run, assignment)
        _fill_shortfall(run)
        run.weights = searching
        run.inst = with_demand_scale(replace(run.inst, shares_at_plan_level=False), run.plan)
        # The first moves leave the last ones their seconds (at 60 s on Bergen they took them).
        search_end = 1 - last_swaps_share(params.time_limit)
        _swap_nights(run, SWAP_SHARE * run.left(search_end))
        improve(run, groups, params.seed, until_share=search_end)
        run.weights = weights
        _last_swaps(run)
    return _final_result(run, inst, _own_level_terms(inst, weights, run.plan), "decomposed")


def _own_level_terms(inst: Instance, weights: ObjectiveWeights, plan: set[Key]) -> dict[str, int]:
    """The objective's terms with every fair share at the plan's own level, as the checker
    measures it."""
    return evaluate_terms(with_demand_scale(inst, plan), weights, plan)


def _final_result(run: DecomposedRun, inst: Instance, terms: dict[str, int], method: str) -> Result:
    """The result of ``run``'s plan, whose objective terms (at the plan's own share level: a
    pass cut short by the time limit leaves the level of the plan before it) are ``terms``."""
    return Result(
        # Optimal sub-problems do not prove the whole round optimal.
        status=SolveStatus.FEASIBLE,
        objective=float(sum(terms.values())),
        best_bound=float("nan"),
        wall_time=time.monotonic() - run.started,
        bookings=bookings_of(inst, run.plan),
        stages=run.stages,
        trace=run.trace,
        term_values=terms,
        interrupted=run.interrupt.requested,
        method=method,
    )


def polish_plan(
    inst: Instance,
    weights: ObjectiveWeights,
    params: SolveParams,
    plan: set[Key],
    on_progress: ProgressFn | None = None,
) -> Result:
    """More time for a plan that exists (``plan --improve``): the neighbourhood search at the
    round's own weights from the plan and its own fair-share level, each child in the house
    where it sleeps most, then the last moves and swaps (`_last_swaps`). The plan returned is
    never worse than ``plan`` by the round's objective.

    A plan is a better start than a fresh round: on Bergen's 300-s plan (seed 1), 120 s of
    the search and 40 s of the last moves took the objective from -1,329,537 to -1,337,287
    and the families within +-1 of every share from 87.5% to 90.7%, where the same seconds
    given to the round's own time limit gained nothing (README, "More time")."""
    started = time.monotonic()
    start_terms = _own_level_terms(inst, weights, plan)
    with catch_ctrl_c() as interrupt:
        run = DecomposedRun(
            with_demand_scale(inst, plan), weights, params, on_progress, interrupt, started
        )
        run.plan = set(plan)
        if on_progress is not None:
            on_progress(
                ProgressPoint(2, 0.0, float(sum(start_terms.values())), float("nan"), "start")
            )
        groups = house_groups(inst, _house_of_most_nights(inst, plan))
        improve(run, groups, params.seed, until_share=1 - last_swaps_share(params.time_limit))
        _last_swaps(run)
    terms = _own_level_terms(inst, weights, run.plan)
    if sum(terms.values()) > sum(start_terms.values()):
        run.plan, terms = set(plan), start_terms
    return _final_result(run, inst, terms, "polish")


def _house_of_most_nights(inst: Instance, plan: set[Key]) -> dict[ChildIdx, HouseIdx]:
    """Each respite child's house in ``plan``: the one it has most nights in, or its first
    candidate (home or pinned house first) when it has none, so that the search can still
    give it nights (barnebolig residents are a group of their own, `house_groups`)."""
    nights: dict[ChildIdx, Counter[HouseIdx]] = {}
    for c, h, _n in plan:
        nights.setdefault(c, Counter())[h] += 1
    return {
        child.idx: nights[child.idx].most_common(1)[0][0]
        if child.idx in nights
        else child.candidates[0]
        for child in inst.children
        if not child.is_resident and child.candidates
    }
