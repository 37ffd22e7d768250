"""Night moves and swaps: a fast local search between the CP-SAT steps.

A family's part of the objective (stays, single nights, pattern, rhythm, wishes, fair shares,
houses) depends on its own nights alone, and the worst child's share never falls when a child
loses a night only to a child that stays below it (a transfer to a child below its fair floor,
`_take_from_better_off`; no other move takes a night from a child). Moving one of a child's
nights to another night in the same house, or swapping two nights with another child of that
house, keeps the nights each child is given and each house's nights (its budget); a night moved
into a free place is checked against that night's places, and a night or a stay moved into
another of the child's houses (a child the mop-up gave a few nights in a second house), or a
night added for a child short of its grant, against that house's budget. Such a move is
therefore judged exactly by the families' own terms (`allocator.evaluate.ChildCosts`), thousands
of moves a second where one CP-SAT neighbourhood takes a third of a second.

The search looks where the objective is worst: a child short of its grant, a child with a stay
in a second house, a child's single-night stays (and, to join one, the last night of a longer
stay), nights outside its pattern and nights beyond its fair share of a high-demand kind,
moved next to its other stays or onto its wishes or the kinds it is short of. The move goes
into a free place; or the child holding the night takes the moved night in exchange, or moves
to a free place next to its own stays (a chain of two). Whole stays are exchanged between two
children, or shifted up to a week into free places; two nights of a family's stays move, as a
pair, into two nights in a row of a kind it is short of or, for a weekend family, into a
Friday and Saturday. A move is kept only if it lowers the objective and keeps every hard
rule the model enforces; and, when the fair-share level must stay (``keep_level``), only if
each child keeps its number of nights and each pattern's families their nights of each kind.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations

from allocator.cpsat.variables import Key
from allocator.evaluate import ChildCosts
from allocator.instance import (
    ChildData,
    ChildIdx,
    HouseIdx,
    Instance,
    NightIdx,
    shortfall_floors,
    usable_nights,
)
from models.config import ObjectiveWeights
from models.inputs import Pattern

#: A (house, night) place a child sleeps in.
Place = tuple[HouseIdx, NightIdx]


@dataclass
class _State:
    inst: Instance
    weights: ObjectiveWeights
    nights: dict[ChildIdx, dict[NightIdx, HouseIdx]] = field(default_factory=dict)
    occupants: dict[tuple[HouseIdx, NightIdx], set[ChildIdx]] = field(default_factory=dict)
    partners: dict[ChildIdx, set[ChildIdx]] = field(default_factory=dict)
    costs: ChildCosts = field(init=False)
    cost: dict[ChildIdx, int] = field(default_factory=dict)
    available: dict[ChildIdx, frozenset[NightIdx]] = field(default_factory=dict)
    members: dict[HouseIdx, set[ChildIdx]] = field(default_factory=dict)
    """Children with a night in each house (non-residents): the partners of a stay swap."""
    house_nights: dict[HouseIdx, int] = field(default_factory=dict)
    """Nights booked in each house: a night moved into another house must keep its budget."""
    version: dict[HouseIdx, int] = field(default_factory=lambda: defaultdict(int))
    """How many times each house's bookings changed (`_rebook`): see `stamp`."""
    stays: dict[ChildIdx, dict[HouseIdx, list[tuple[NightIdx, ...]]]] = field(default_factory=dict)
    """Each child's stays per house as they are (`stays_of`), forgotten when it is rebooked."""
    pairs_by_pattern: dict[str, list[tuple[NightIdx, NightIdx]]] = field(default_factory=dict)
    """`pattern_pairs` of each pattern met so far."""
    level_kept: bool = False
    """Whether every move must keep the fair-share level (`_keeps_level`)."""

    @classmethod
    def of(cls, inst: Instance, weights: ObjectiveWeights, plan: Iterable[Key]) -> _State:
        state = cls(inst, weights)
        state.nights = {ch.idx: {} for ch in inst.children}
        state.occupants = defaultdict(set)
        state.house_nights = defaultdict(int)
        for c, h, n in plan:
            state.house_nights[h] += 1
            state.nights[c][n] = h
            state.occupants[(h, n)].add(c)
            if not inst.children[c].is_resident:
                state.members.setdefault(h, set()).add(c)
        state.partners = defaultdict(set)
        for a, b in inst.incompatible:
            state.partners[a].add(b)
            state.partners[b].add(a)
        state.costs = ChildCosts(inst, weights)
        for ch in inst.children:
            state.available[ch.idx] = frozenset(ch.available)
            state.cost[ch.idx] = state.cost_of(ch.idx, state.nights[ch.idx])
        return state

    def cost_of(self, c: ChildIdx, nights: dict[NightIdx, HouseIdx]) -> int:
        """The child's own part of the objective with these nights."""
        return self.costs.cost_by_night(c, nights)

    def has_budget_for(self, h: HouseIdx, more: int = 1) -> bool:
        """Whether house ``h`` can give ``more`` nights within its nights for the round (rules
        R2 and R3: the 350-night budget and the places of every night)."""
        return self.house_nights[h] + more <= usable_nights(self.inst.houses[h])

    def plan(self) -> set[Key]:
        return {(c, h, n) for c, mine in self.nights.items() for n, h in mine.items()}

    def stays_of(self, c: ChildIdx, h: HouseIdx) -> list[tuple[NightIdx, ...]]:
        """Child ``c``'s stays in house ``h`` now (`_stays_in`): the stay swaps ask for
        every partner's stays for each stay of the child."""
        mine = self.stays.setdefault(c, {})
        if h not in mine:
            mine[h] = _stays_in(self.nights[c], h)
        return mine[h]

    def pattern_pairs(self, child: ChildData) -> list[tuple[NightIdx, NightIdx]]:
        """The two nights in a row of the round that are both in the child's pattern (the
        same for every family of that pattern, so found once per pattern)."""
        pattern = str(child.pattern)
        if pattern not in self.pairs_by_pattern:
            inside = [self.inst.in_pattern(child, n) for n in range(len(self.inst.nights))]
            self.pairs_by_pattern[pattern] = [
                (m, m + 1) for m in range(len(inside) - 1) if inside[m] and inside[m + 1]
            ]
        return self.pairs_by_pattern[pattern]

    def stamp(self, child: ChildData) -> tuple[tuple[HouseIdx, int], ...]:
        """The versions of the houses the child has nights in. Every move of a child stays in
        those houses and depends only on its own nights and on who sleeps where there, so a
        move that found nothing finds nothing again while the stamp is the same."""
        return tuple((h, self.version[h]) for h in sorted(set(self.nights[child.idx].values())))


def _can_sleep(
    state: _State,
    child: ChildData,
    nights: dict[NightIdx, HouseIdx],
    h: HouseIdx,
    n: NightIdx,
    leaving: ChildIdx | None,
) -> bool:
    """Whether ``child`` may sleep in house ``h`` on night ``n`` given its other ``nights``
    (rules R1, R2 by its places, R4, R5 incompatible pairs, S1 max stay, S2 one house per
    stay, R7 forbidden nights); ``leaving`` is the child it swaps with, who frees the place."""
    inst = state.inst
    if n in nights or h not in child.eligible or not child.offered(n):
        return False
    if inst.houses[h].nightly_capacity[n] <= 0 or (h, n) in child.blocked:
        return False
    if n not in state.available[child.idx]:
        return False
    others = state.occupants.get((h, n), set()) - {leaving}
    if others & state.partners.get(child.idx, set()):
        return False
    for side in (n - 1, n + 1):
        if side in nights and nights[side] != h:
            return False
    run = 1
    i = n - 1
    while i in nights:
        run += 1
        i -= 1
    i = n + 1
    while i in nights:
        run += 1
        i += 1
    return run <= child.max_stay


def _sources(state: _State, child: ChildData) -> list[NightIdx]:
    """The child's nights worth moving: single-night stays, nights outside its pattern,
    nights of a kind it has beyond its fair share and nights outside the house it has most
    nights in (never a pinned night)."""
    mine = state.nights[child.idx]
    pinned = {n for _h, n in child.pinned}
    main_house = _houses_by_nights(mine)[0] if mine else None
    found: set[NightIdx] = {n for n, h in mine.items() if h != main_house}
    for n in mine:
        if n - 1 not in mine and n + 1 not in mine:
            found.add(n)
        if not state.inst.in_pattern(child, n):
            found.add(n)
    if state.weights.share_deviation_night > 0:
        for row in state.costs.static(child.idx).rows:
            got = [n for n in row.nights if n in mine]
            over = row.gap(len(got), len(mine)) > 0
            if over and row.deviation(len(got), len(mine)) > 0:
                found.update(got)
    return sorted(found - pinned)


def _joiners(state: _State, child: ChildData) -> tuple[list[NightIdx], list[NightIdx]]:
    """The last (or first) nights of the child's stays of three nights or more, and the nights
    next to its single-night stays: moved there, such a night makes a single night a stay of
    two and leaves the longer stay whole (never a pinned night)."""
    mine = state.nights[child.idx]
    beside = sorted(
        {n + side for n in mine if n - 1 not in mine and n + 1 not in mine for side in (-1, 1)}
    )
    if not beside:
        return [], []
    pinned = {n for _h, n in child.pinned}
    ends = [
        n
        for n in sorted(mine)
        if n not in pinned
        and (
            (n - 1 not in mine and n + 1 in mine and n + 2 in mine)
            or (n + 1 not in mine and n - 1 in mine and n - 2 in mine)
        )
    ]
    return ends, beside


def _targets(state: _State, child: ChildData) -> list[NightIdx]:
    """Nights worth moving to: next to the child's stays, its wishes, and the nights of a kind
    it is short of."""
    mine = state.nights[child.idx]
    found: set[NightIdx] = set()
    for n in mine:
        found.update((n - 1, n + 1))
    found.update(child.want_weight)
    found.update(_short_kind_nights(state, child))
    return sorted(found - set(mine))


def _short_kind_nights(state: _State, child: ChildData) -> set[NightIdx]:
    """The nights in the child's pattern of each kind it is more than its tolerance short of
    (a weekend family short of Easter wants an Easter Friday or Saturday, not its Thursday)."""
    if state.weights.share_deviation_night <= 0:
        return set()
    mine = state.nights[child.idx]
    found: set[NightIdx] = set()
    for row in state.costs.static(child.idx).rows:
        got = sum(1 for n in row.nights if n in mine)
        short = row.gap(got, len(mine)) < 0
        if short and row.deviation(got, len(mine)) > 0:
            found.update(n for n in row.nights if state.inst.in_pattern(child, n))
    return found


def _houses_by_nights(nights: dict[NightIdx, HouseIdx]) -> list[HouseIdx]:
    """The houses of the child's nights, the one with most nights first."""
    count: dict[HouseIdx, int] = defaultdict(int)
    for h in nights.values():
        count[h] += 1
    return sorted(count, key=lambda h: (-count[h], h))


def _improve_child(state: _State, child: ChildData) -> bool:
    """The first move or swap of one of the child's nights that lowers the objective; made.
    A child with nights in two houses may also move a night into another of its houses, where
    that house's budget allows (one house fewer when it was the last night there). Returns
    whether one was found."""
    mine = state.nights[child.idx]
    targets = _targets(state, child)
    ends, beside = _joiners(state, child)
    moves = [(n, targets) for n in _sources(state, child)] + [(n, beside) for n in ends]
    houses = _houses_by_nights(mine)
    for n, towards in moves:
        for to in houses:
            if to != mine[n] and not state.has_budget_for(to):
                continue
            if _move_night(state, child, n, to, towards):
                return True
    return False


def _move_night(
    state: _State, child: ChildData, n: NightIdx, to: HouseIdx, towards: list[NightIdx]
) -> bool:
    """The first night of ``towards`` in house ``to`` that child takes instead of ``n`` and
    lowers the objective: in a free place, in exchange with the child holding it, or that
    child moving on to a free place beside its stays; made."""
    c = child.idx
    mine = state.nights[c]
    children = state.inst.children
    h = mine[n]
    without = {k: v for k, v in mine.items() if k != n}
    for m in towards:
        if not 0 <= m < len(state.inst.nights):
            continue
        capacity = state.inst.houses[to].nightly_capacity[m]
        if capacity <= 0:
            continue
        here = state.occupants.get((to, m), set())
        moved = {**without, m: to}
        if len(here) < capacity and _can_sleep(state, child, without, to, m, None):
            gain = state.cost[c] - state.cost_of(c, moved)
            if gain > 0 and _make(state, (c, [(h, n)], [(to, m)], moved)):
                return True
            continue
        moved_cost: int | None = None  # the same whoever c swaps with
        for d in sorted(here):
            other = children[d]
            theirs = state.nights[d]
            if other.is_resident or n in theirs or (to, m) in other.pinned:
                continue
            if not _can_sleep(state, child, without, to, m, d):
                continue
            rest = {k: v for k, v in theirs.items() if k != m}
            if moved_cost is None:
                moved_cost = state.cost_of(c, moved)
            before = state.cost[c] + state.cost[d] - moved_cost
            # An exchange across houses must not give the other child a house it was not in.
            joins_a_house = to != h and h not in theirs.values()
            if not joins_a_house and _can_sleep(state, other, rest, h, n, c):
                swapped = {**rest, n: h}
                if before - state.cost_of(d, swapped) > 0 and _make(
                    state, (c, [(h, n)], [(to, m)], moved), (d, [(to, m)], [(h, n)], swapped)
                ):
                    return True
            for free in _free_beside(state, other, rest, to, m):
                relocated = {**rest, free: to}
                if before - state.cost_of(d, relocated) > 0 and _make(
                    state, (c, [(h, n)], [(to, m)], moved), (d, [(to, m)], [(to, free)], relocated)
                ):
                    return True
    return False


def _move_stay_home(state: _State, child: ChildData) -> bool:
    """The first stay of a child in a house other than its main one (the house it has most
    nights in) whose nights move into the main house, within its budget, and lower the
    objective; made. A stay of two nights elsewhere cannot come home a night at a time: the
    first night moved leaves a single night behind, which costs more than it saves. A child
    with many nights rarely finds a free place that fits between its stays at home, so a night
    there may be taken from another child of the house, who moves to a free place beside its
    own stays (`_cheapest_home_night`)."""
    mine = state.nights[child.idx]
    houses = _houses_by_nights(mine)
    if len(houses) < 2:
        return False
    home = houses[0]
    pinned = {n for _h, n in child.pinned}
    for h in houses[1:]:
        for stay in state.stays_of(child.idx, h):
            if pinned.intersection(stay):
                continue
            if not state.has_budget_for(home, len(stay)):
                continue
            if _bring_home(state, child, h, stay, home):
                return True
    return False


def _add_night(state: _State, child: ChildData) -> bool:
    """One more night for a child below its reachable grant, in the house it has most nights
    in, within that house's budget: a free place, or a night another child of the house gives
    up for a free place beside its own stays; made if it lowers the objective. The mop-up
    re-solves only the children furthest below their grant and the fill only finds free
    places, so on a large region a child may be left short in a house with nights to spare
    (ten times Bergen: a "week" family at 117 of 127 nights with 28 of its house's nights
    unused)."""
    mine = state.nights[child.idx]
    if not mine or len(mine) >= child.target or child.is_resident:
        return False
    home = _houses_by_nights(mine)[0]
    if not state.has_budget_for(home):
        return False
    trial = _Tentative(state)
    return _take_home_night(trial, child, home) and trial.keep_if_better()


@dataclass
class _Tentative:
    """Rebookings made on trial: kept if together they lower the objective, else undone."""

    state: _State
    undo: list[tuple[ChildIdx, list[Place], list[Place], dict[NightIdx, HouseIdx]]] = field(
        default_factory=list
    )
    cost_before: dict[ChildIdx, int] = field(default_factory=dict)
    versions_before: dict[HouseIdx, int] = field(default_factory=dict)

    def rebook(
        self,
        c: ChildIdx,
        leaves: list[Place],
        arrives: list[Place],
        nights: dict[NightIdx, HouseIdx],
    ) -> None:
        self.cost_before.setdefault(c, self.state.cost[c])
        for h, _n in (*leaves, *arrives):
            self.versions_before.setdefault(h, self.state.version[h])
        self.undo.append((c, arrives, leaves, self.state.nights[c]))
        _rebook(self.state, c, leaves, arrives, nights)

    def gain(self) -> int:
        return sum(before - self.state.cost[c] for c, before in self.cost_before.items())

    def keep_if_better(self) -> bool:
        """Keep the rebookings if together they lower the objective (and keep the fair-share
        level where it must stay, `_keeps_level`), else undo them."""
        changes = ((c, leaves, arrives) for c, arrives, leaves, _nights in self.undo)
        if self.gain() > 0 and _keeps_level(self.state, changes):
            return True
        self.roll_back()
        return False

    def roll_back(self) -> None:
        for c, leaves, arrives, nights in reversed(self.undo):
            _rebook(self.state, c, leaves, arrives, nights)
        # Undone, the houses are as they were: moves that found nothing still find nothing.
        self.state.version.update(self.versions_before)


def _bring_home(
    state: _State, child: ChildData, h: HouseIdx, stay: tuple[NightIdx, ...], home: HouseIdx
) -> bool:
    """Child's ``stay`` in house ``h`` moved night by night into house ``home``, each night
    the cheapest way (`_cheapest_home_night`); kept if the objective is lower, else undone."""
    c = child.idx
    trial = _Tentative(state)
    without = {k: v for k, v in state.nights[c].items() if k not in stay}
    trial.rebook(c, [(h, n) for n in stay], [], without)
    for _ in stay:
        if not _take_home_night(trial, child, home):
            trial.roll_back()
            return False
    return trial.keep_if_better()


def _take_home_night(trial: _Tentative, child: ChildData, home: HouseIdx) -> bool:
    """The child takes its cheapest night in house ``home`` (`_cheapest_home_night`) on
    ``trial``; False if there is none."""
    state = trial.state
    step = _cheapest_home_night(state, child, home)
    if step is None:
        return False
    n, ejected = step
    if ejected is not None:
        d, free = ejected
        theirs = {k: v for k, v in state.nights[d].items() if k != n}
        trial.rebook(d, [(home, n)], [(home, free)], {**theirs, free: home})
    trial.rebook(child.idx, [], [(home, n)], {**state.nights[child.idx], n: home})
    return True


def _cheapest_home_night(
    state: _State, child: ChildData, home: HouseIdx
) -> tuple[NightIdx, tuple[ChildIdx, NightIdx] | None] | None:
    """The night of house ``home`` the child takes most cheaply: a free place, or (next to
    its stays) a night another child gives up for a free place beside its own stays."""
    c = child.idx
    mine = state.nights[c]
    capacity = state.inst.houses[home].nightly_capacity
    children = state.inst.children
    beside = {n + side for n in mine for side in (-1, 1)}
    best: tuple[int, NightIdx, tuple[ChildIdx, NightIdx] | None] | None = None
    for n in range(len(capacity)):
        if n in mine or capacity[n] <= 0:
            continue
        here = state.occupants.get((home, n), set())
        if len(here) < capacity[n]:
            if _can_sleep(state, child, mine, home, n, None):
                delta = state.cost_of(c, {**mine, n: home}) - state.cost[c]
                if best is None or delta < best[0]:
                    best = (delta, n, None)
            continue
        if n not in beside:
            continue
        mine_delta: int | None = None
        for d in sorted(here):
            other = children[d]
            if other.is_resident or (home, n) in other.pinned:
                continue
            if not _can_sleep(state, child, mine, home, n, d):
                continue
            if mine_delta is None:
                mine_delta = state.cost_of(c, {**mine, n: home}) - state.cost[c]
            rest = {k: v for k, v in state.nights[d].items() if k != n}
            for free in _free_beside(state, other, rest, home, n):
                delta = mine_delta + state.cost_of(d, {**rest, free: home}) - state.cost[d]
                if best is None or delta < best[0]:
                    best = (delta, n, (d, free))
    return None if best is None else (best[1], best[2])


def _free_beside(
    state: _State,
    child: ChildData,
    nights: dict[NightIdx, HouseIdx],
    h: HouseIdx,
    leaving: NightIdx,
) -> list[NightIdx]:
    """Nights with a free place in house ``h`` next to the child's stays there (other than
    ``leaving``, the night it gives up), where it may sleep: where a child that gives up its
    night to another can go instead of taking the other's night (an ejection chain of two)."""
    capacity = state.inst.houses[h].nightly_capacity
    found = []
    # ``nights`` is the child's nights without ``leaving``, so the nights beside them that
    # are not its own are among the nights beside its stays as they are (`stays_of`).
    ends = {n for stay in state.stays_of(child.idx, h) for n in (stay[0] - 1, stay[-1] + 1)}
    for k in sorted(ends):
        if k == leaving or k in nights or not 0 <= k < len(capacity):
            continue
        if nights.get(k - 1) != h and nights.get(k + 1) != h:
            continue
        if len(state.occupants.get((h, k), ())) >= capacity[k]:
            continue
        if _can_sleep(state, child, nights, h, k, None):
            found.append(k)
    return found


#: A child's rebooking: the places it leaves, the places it takes, its nights afterwards.
Rebooking = tuple[ChildIdx, list[Place], list[Place], dict[NightIdx, HouseIdx]]


def _make(state: _State, *rebookings: Rebooking) -> bool:
    """Make the rebookings, if they keep the fair-share level where it must stay
    (`_keeps_level`); whether they were made."""
    if not _keeps_level(state, [(c, leaves, arrives) for c, leaves, arrives, _ in rebookings]):
        return False
    for c, leaves, arrives, nights in rebookings:
        _rebook(state, c, leaves, arrives, nights)
    return True


def _keeps_level(
    state: _State, changes: Iterable[tuple[ChildIdx, list[Place], list[Place]]]
) -> bool:
    """Whether the changes (child, places left, places taken) keep every fair share's level,
    when it must stay (`_State.level_kept`): each child keeps its number of nights and the
    families of each pattern keep their nights of each kind together. A family's fair share of
    a kind is its part of what its pattern's families get of it (`with_demand_scale`), so a
    move that changes either shifts every share of that pattern; one that keeps both is
    priced exactly at the level the moves are judged at."""
    if not state.level_kept:
        return True
    nights: defaultdict[ChildIdx, int] = defaultdict(int)
    kind_nights: defaultdict[tuple[str, str], int] = defaultdict(int)
    for c, leaves, arrives in changes:
        nights[c] += len(arrives) - len(leaves)
        pattern = str(state.inst.children[c].pattern)
        # The family's share rows are the kinds and nights the level counts it by.
        static = state.costs.static(c)
        for row, row_nights in zip(static.rows, static.row_nights, strict=True):
            kind_nights[(row.kind, pattern)] += sum(n in row_nights for _h, n in arrives) - sum(
                n in row_nights for _h, n in leaves
            )
    return not any(nights.values()) and not any(kind_nights.values())


def _rebook(
    state: _State,
    c: ChildIdx,
    leaves: Iterable[Place],
    arrives: Iterable[Place],
    nights: dict[NightIdx, HouseIdx],
) -> None:
    """Child ``c`` leaves its (house, night) places ``leaves`` and arrives on ``arrives``:
    now ``nights``."""
    for h, n in leaves:
        state.occupants[(h, n)].discard(c)
        state.house_nights[h] -= 1
        state.version[h] += 1
    for h, n in arrives:
        state.occupants[(h, n)].add(c)
        state.house_nights[h] += 1
        state.members.setdefault(h, set()).add(c)
        state.version[h] += 1
    state.nights[c] = nights
    state.stays.pop(c, None)
    state.cost[c] = state.cost_of(c, nights)


def _stays_in(nights: dict[NightIdx, HouseIdx], h: HouseIdx) -> list[tuple[NightIdx, ...]]:
    """The child's stays in house ``h``, each as its nights in order."""
    stays: list[tuple[NightIdx, ...]] = []
    for n in sorted(nights):
        if nights[n] != h:
            continue
        if stays and stays[-1][-1] == n - 1:
            stays[-1] = (*stays[-1], n)
        else:
            stays.append((n,))
    return stays


def _blocks_of(stays: list[tuple[NightIdx, ...]], length: int) -> Iterable[tuple[NightIdx, ...]]:
    """The runs of ``length`` nights a stay swap may take from ``stays``: a stay of that
    length, or the first or last nights of a longer stay (the rest of it stays whole)."""
    for stay in stays:
        if len(stay) == length:
            yield stay
        elif len(stay) > length:
            yield stay[:length]
            yield stay[-length:]


def _takes(
    state: _State,
    child: ChildData,
    nights: dict[NightIdx, HouseIdx],
    h: HouseIdx,
    block: tuple[NightIdx, ...],
    leaving: ChildIdx | None,
) -> dict[NightIdx, HouseIdx] | None:
    """``nights`` with ``block`` added in house ``h`` if every night of it is allowed (see
    `_can_sleep`), else None."""
    after = dict(nights)
    for n in block:
        if not _can_sleep(state, child, after, h, n, leaving):
            return None
        after[n] = h
    return after


def _swap_stays(state: _State, child: ChildData) -> bool:
    """The first exchange of a whole stay of the child for as many nights of another child
    of the same house (a stay of the same length, or the start or end of a longer one) that
    lowers the objective; made. Exchanging whole stays keeps both families' stays whole,
    where a single night's swap would break them: it moves a holiday, a wished week or a
    weekend from one family to another. The part of a longer stay is what lets a family short
    of a holiday take two of its nights from a family with a week of it."""
    c = child.idx
    mine = state.nights[c]
    pinned = {n for _h, n in child.pinned}
    children = state.inst.children
    worth_leaving = set(_sources(state, child))
    worth_taking = set(_targets(state, child)) - {n + 1 for n in mine} - {n - 1 for n in mine}
    for h in sorted(set(mine.values())):
        for stay in state.stays_of(child.idx, h):
            if pinned.intersection(stay):
                continue
            leaves_bad = bool(worth_leaving.intersection(stay))
            without = {k: v for k, v in mine.items() if k not in stay}
            for d in sorted(state.members.get(h, set()) - {c}):
                other = children[d]
                theirs = state.nights[d]
                their_pins = {n for _h, n in other.pinned}
                for block in _blocks_of(state.stays_of(d, h), len(stay)):
                    if their_pins.intersection(block):
                        continue
                    if not leaves_bad and not worth_taking.intersection(block):
                        continue
                    if set(block) & set(mine) or set(stay) & set(theirs):
                        continue
                    if _exchange(state, child, without, stay, d, h, block):
                        return True
    return False


def _exchange(
    state: _State,
    child: ChildData,
    without: dict[NightIdx, HouseIdx],
    gives: tuple[NightIdx, ...],
    d: ChildIdx,
    h: HouseIdx,
    takes: tuple[NightIdx, ...],
) -> bool:
    """The child gives up ``gives`` (``without`` is its nights without them) and takes
    ``takes`` from child ``d``, who takes ``gives`` in exchange, all in house ``h``; made when
    every night is allowed and the two children's costs fall together."""
    c = child.idx
    moved = _takes(state, child, without, h, takes, d)
    if moved is None:
        return False
    other = state.inst.children[d]
    rest = {k: v for k, v in state.nights[d].items() if k not in takes}
    swapped = _takes(state, other, rest, h, gives, c)
    if swapped is None:
        return False
    gain = state.cost[c] + state.cost[d] - state.cost_of(c, moved) - state.cost_of(d, swapped)
    return gain > 0 and _make(
        state,
        (c, [(h, n) for n in gives], [(h, n) for n in takes], moved),
        (d, [(h, n) for n in takes], [(h, n) for n in gives], swapped),
    )


#: How far a stay may shift in one move (`_shift_stay`): up to a week either way.
SHIFT_NIGHTS = 7


#: The shifts a stay tries, nearest first.
SHIFTS: tuple[int, ...] = tuple(
    sorted((k for k in range(-SHIFT_NIGHTS, SHIFT_NIGHTS + 1) if k), key=abs)
)


def _shift_stay(state: _State, child: ChildData) -> bool:
    """The first shift of one of the child's stays to other dates in the same house, up to a
    week either way and into free places, that lowers the objective; made. Moved a night at a
    time, a stay is broken on the way, or no better until its last night has moved, so the
    night moves never carry a family's long weekend into the summer holiday it is short of,
    nor out of an Easter it has too much of. Only a stay with a night worth leaving, or whose
    shifted dates hold a night worth taking, is tried. The house keeps its nights (its
    budget); each night taken is checked against its places."""
    c = child.idx
    mine = state.nights[c]
    pinned = {n for _h, n in child.pinned}
    worth_leaving = set(_sources(state, child))
    worth_taking = set(_targets(state, child))
    last = len(state.inst.nights) - 1
    for h in sorted(set(mine.values())):
        capacity = state.inst.houses[h].nightly_capacity
        for stay in state.stays_of(child.idx, h):
            if pinned.intersection(stay):
                continue
            leaves_bad = bool(worth_leaving.intersection(stay))
            without = {k: v for k, v in mine.items() if k not in stay}
            for shift in SHIFTS:
                block = tuple(n + shift for n in stay)
                if block[0] < 0 or block[-1] > last:
                    continue
                if not leaves_bad and not worth_taking.intersection(block):
                    continue
                if any(
                    n not in stay and len(state.occupants.get((h, n), ())) >= capacity[n]
                    for n in block
                ):
                    continue
                moved = _takes(state, child, without, h, block, None)
                if moved is None or state.cost[c] - state.cost_of(c, moved) <= 0:
                    continue
                if _make(state, (c, [(h, n) for n in stay], [(h, n) for n in block], moved)):
                    return True
    return False


def swap_nights(
    inst: Instance,
    weights: ObjectiveWeights,
    plan: Iterable[Key],
    time_limit: float,
    stop: Callable[[], bool] = lambda: False,
    keep_level: bool = False,
) -> set[Key]:
    """``plan`` improved by nights added for children short of their grant, stays brought
    home from a second house, night moves, two-child swaps and chains of two inside a house
    until no move helps, ``time_limit`` seconds have passed or ``stop()`` (CTRL-C). A child
    loses a night only to a child below its fair floor that stays below the giver's share, so
    the nights given and the worst child's share never fall; a night taken
    in a free place is checked against its places, one taken in another house against that
    house's budget. With ``keep_level`` every move keeps the fair-share level
    (`_keeps_level`): no child gains or loses a night, and the moves are judged exactly at
    the level ``inst`` holds."""
    deadline = time.monotonic() + time_limit

    def out_of_time() -> bool:
        return time.monotonic() >= deadline or stop()

    state = _State.of(inst, weights, plan)
    state.level_kept = keep_level
    todo = [ch for ch in inst.children if not ch.is_resident and state.nights[ch.idx]]
    if not keep_level:
        _fill_lowest_share_first(state, todo, out_of_time)
    # Night moves first: they are cheap and settle most single nights before the stay
    # exchanges, which try many more pairs, look at what is left. A child whose step found
    # nothing is not asked again until a house it has nights in changes ("don't look bits"):
    # without them the sweep that proves no move helps repeats every failed try, and on
    # Bergen it was most of a pass.
    found_nothing: dict[tuple[int, ChildIdx], tuple[tuple[HouseIdx, int], ...]] = {}
    steps = (_move_stay_home, _improve_child, _improve_or_exchange)
    for s, step in enumerate(steps):
        improved = True
        while improved and not out_of_time():
            improved = False
            for child in sorted(todo, key=lambda ch: -state.cost[ch.idx]):
                if out_of_time():
                    break
                if found_nothing.get((s, child.idx)) == state.stamp(child):
                    continue
                moved = False
                while step(state, child):
                    moved = improved = True
                    if out_of_time():
                        break
                if not moved:
                    found_nothing[(s, child.idx)] = state.stamp(child)
    return state.plan()


def _fill_lowest_share_first(
    state: _State, children: list[ChildData], out_of_time: Callable[[], bool]
) -> None:
    """Children short of their grant get nights one at a time, in rounds, the lowest share of
    its grant first in each round: a house's last nights go to the child furthest below its
    grant ("the shortfall shared fairly"), not to whichever child's nights cost most. A night
    comes from the house's budget (`_add_night`) or, when the house is at its budget, from a
    child of the house further above its own grant (`_take_from_better_off`)."""
    short = [ch for ch in children if len(state.nights[ch.idx]) < ch.target]
    while short and not out_of_time():
        short.sort(key=lambda ch: (len(state.nights[ch.idx]) / ch.target, ch.idx))
        gained = [
            ch
            for ch in short
            if not out_of_time() and (_add_night(state, ch) or _take_from_better_off(state, ch))
        ]
        short = [ch for ch in gained if len(state.nights[ch.idx]) < ch.target]


def _share(state: _State, child: ChildData, more: int = 0) -> float:
    """The child's nights (plus ``more``) over its reachable grant."""
    return (len(state.nights[child.idx]) + more) / child.target


def _take_from_better_off(state: _State, child: ChildData) -> bool:
    """A night next to the child's stays in its main house, given up by another child of the
    house that stays further above its own grant than the child will be: made if it lowers
    the objective. Only the shortfall floors (`allocator.instance.shortfall_floors`) make such
    a transfer pay; it is tried only for a child below its fair floor (a child at its grant
    never gives a night for another's stays), and the worst child's share never falls.

    Why: when demand exceeds the houses every house is at its budget, so the fill finds no
    night, and the mop-up re-solves only a few children: at 115% of Bergen's demand one
    house's lowest child sat at 83% of its grant beside children of the same house at 100%."""
    c = child.idx
    mine = state.nights[c]
    floors = shortfall_floors(child.target, state.weights)
    if not mine or not floors or len(mine) >= floors[0] or child.is_resident:
        return False
    home = _houses_by_nights(mine)[0]
    after = _share(state, child, 1)
    children = state.inst.children
    best: tuple[int, NightIdx, ChildIdx, dict[NightIdx, HouseIdx]] | None = None
    for n in sorted({k + side for k in mine for side in (-1, 1)} - set(mine)):
        if not 0 <= n < len(state.inst.nights):
            continue
        mine_delta: int | None = None
        for d in sorted(state.occupants.get((home, n), ())):
            donor = children[d]
            if donor.is_resident or donor.target <= 0 or (home, n) in donor.pinned:
                continue
            if _share(state, donor, -1) < after:
                continue
            if not _can_sleep(state, child, mine, home, n, d):
                continue
            if mine_delta is None:
                mine_delta = state.cost_of(c, {**mine, n: home}) - state.cost[c]
            theirs = {k: v for k, v in state.nights[d].items() if k != n}
            delta = mine_delta + state.cost_of(d, theirs) - state.cost[d]
            if delta < 0 and (best is None or delta < best[0]):
                best = (delta, n, d, theirs)
    if best is None:
        return False
    _delta, n, d, theirs = best
    return _make(state, (d, [(home, n)], [], theirs), (c, [], [(home, n)], {**mine, n: home}))


def _improve_or_exchange(state: _State, child: ChildData) -> bool:
    return (
        _improve_child(state, child)
        or _swap_stays(state, child)
        or _shift_stay(state, child)
        or _move_pair_into_short_kind(state, child)
        or _move_pair_onto_pattern(state, child)
    )


def _pairs_to_give(
    stays: list[tuple[NightIdx, ...]], pinned: set[NightIdx]
) -> list[tuple[NightIdx, ...]]:
    """Two nights a family can give up and keep every stay at two nights or more: a stay of
    two, the first or last two of a stay of four or more, or an end night each of two stays
    of three or more (or both ends of one of four or more). Never a pinned night."""
    pairs = _pairs_in_a_row_to_give(stays)
    ends = [(n, i) for i, stay in enumerate(stays) if len(stay) >= 3 for n in (stay[0], stay[-1])]
    for (a, i), (b, j) in combinations(ends, 2):
        if i != j or len(stays[i]) >= 4:
            pairs.append((a, b))
    return [p for p in pairs if not pinned.intersection(p)]


def _pairs_in_a_row_to_give(stays: list[tuple[NightIdx, ...]]) -> list[tuple[NightIdx, ...]]:
    """Of `_pairs_to_give`, the two nights in a row: a stay of two, or the first or last two
    of a stay of four or more (two stays in one house are never a night apart)."""
    pairs: list[tuple[NightIdx, ...]] = []
    for stay in stays:
        if len(stay) == 2:
            pairs.append(stay)
        elif len(stay) >= 4:
            pairs.extend((stay[:2], stay[-2:]))
    return pairs


def _move_pair_into_short_kind(state: _State, child: ChildData) -> bool:
    """A family more than its tolerance short of a kind of high-demand night ("weekends and
    holidays shared fairly") moves two nights of its stays to two nights in a row of the same
    house that hold a night of that kind, however far away: into free places, or in exchange
    with a family holding both that can give them up and keep its stays whole; made when it
    lowers the objective. Both families' stays stay whole and no single night is made, where
    a night at a time would leave one on each side; and a stay shifted whole (`_shift_stay`)
    reaches only a week: the summer break at the end of the round is further than that from
    most stays."""
    short = _short_kind_nights(state, child)
    if not short:
        return False
    mine = state.nights[child.idx]
    pinned = {n for _h, n in child.pinned}
    last = len(state.inst.nights) - 1
    take = sorted({(m, m + 1) for n in short for m in (n - 1, n) if 0 <= m < last})
    return any(
        _take_pair(state, child, h, _pairs_to_give(state.stays_of(child.idx, h), pinned), take)
        for h in sorted(set(mine.values()))
    )


def _move_pair_onto_pattern(state: _State, child: ChildData) -> bool:
    """A weekend family with nights off its pattern it did not ask for ("weekend-pattern
    families get >= 90% of their nights on Friday and Saturday nights") moves two nights of
    its stays, at least one of them off its pattern, to a Friday and Saturday night in the
    same house: into free places, or in exchange with a family holding both that keeps its
    stays whole; made when it lowers the objective. One night at a time cannot get there:
    the Fridays and Saturdays beside its stays are its own, so a night moved anywhere else is
    a single night. At demand 115% most weekend families are short of their grant and hold
    Thursday-Saturday or Friday-Sunday stays.

    Weekend families only: a weekdays family's pattern has about 130 pairs of nights in a
    row in a half-year against 26 weekends, and on the demand-115% round (60 s of last moves)
    it took 5.3 s of tries for weekdays families without one move made."""
    if child.pattern is not Pattern.WEEKEND:
        return False
    off = state.costs.static(child.idx).off_pattern
    mine = state.nights[child.idx]
    if off.isdisjoint(mine):
        return False
    pinned = {n for _h, n in child.pinned}
    take = state.pattern_pairs(child)
    for h in sorted(set(mine.values())):
        give = [
            pair
            for pair in _pairs_to_give(state.stays_of(child.idx, h), pinned)
            if not off.isdisjoint(pair)
        ]
        if give and _take_pair(state, child, h, give, take):
            return True
    return False


def _take_pair(
    state: _State,
    child: ChildData,
    h: HouseIdx,
    give: list[tuple[NightIdx, ...]],
    take: list[tuple[NightIdx, NightIdx]],
) -> bool:
    """The first pair of ``take`` (two nights in a row) in house ``h`` the child takes for
    one of the pairs ``give``, into free places or from a family holding both that keeps its
    stays whole (`_holders_of`), that lowers the objective; made."""
    mine = state.nights[child.idx]
    capacity = state.inst.houses[h].nightly_capacity
    for pair in take:
        if any(n in mine for n in pair):
            continue
        free = all(len(state.occupants.get((h, n), ())) < capacity[n] for n in pair)
        holders: list[ChildIdx | None] = [None] if free else list(_holders_of(state, h, pair))
        for d in holders:
            if _exchange_pair(state, child, d, h, give, pair):
                return True
    return False


def _holders_of(state: _State, h: HouseIdx, pair: tuple[NightIdx, ...]) -> list[ChildIdx]:
    """The children of house ``h`` holding both nights of ``pair`` who can give them up and
    keep their stays whole (never a resident's or a pinned night)."""
    both = set.intersection(*(state.occupants.get((h, n), set()) for n in pair))
    holders = []
    for d in sorted(both):
        other = state.inst.children[d]
        if other.is_resident:
            continue
        their_pins = {n for _h, n in other.pinned}
        if not their_pins.intersection(pair) and pair in _pairs_in_a_row_to_give(
            state.stays_of(d, h)
        ):
            holders.append(d)
    return holders


def _exchange_pair(
    state: _State,
    child: ChildData,
    d: ChildIdx | None,
    h: HouseIdx,
    given_pairs: list[tuple[NightIdx, ...]],
    pair: tuple[NightIdx, ...],
) -> bool:
    """The first of ``given_pairs`` the child gives up for ``pair``, into free places (``d``
    None) or in exchange with child ``d``, that lowers the objective; made."""
    c = child.idx
    mine = state.nights[c]
    for given in given_pairs:
        if d is not None and any(n in state.nights[d] for n in given):
            continue
        without = {k: v for k, v in mine.items() if k not in given}
        if d is not None:
            if _exchange(state, child, without, given, d, h, pair):
                return True
            continue
        moved = _takes(state, child, without, h, pair, None)
        if (
            moved is not None
            and state.cost[c] - state.cost_of(c, moved) > 0
            and _make(state, (c, [(h, n) for n in given], [(h, n) for n in pair], moved))
        ):
            return True
    return False
