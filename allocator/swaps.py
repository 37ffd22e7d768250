"""Night moves and swaps: a fast local search between the CP-SAT steps.

A family's part of the objective (stays, single nights, pattern, rhythm, wishes, fair shares,
houses) depends on its own nights alone. Moving one of a child's nights to another night in
the same house, or swapping two nights with another child of that house, keeps the nights each
child is given and each house's nights (its budget); a night moved into a free place is
checked against that night's places. Such a move is therefore judged exactly by the two
families' own terms (`allocator.evaluate.ChildCosts`), thousands of moves a second where one
CP-SAT neighbourhood takes a third of a second.

The search looks where the objective is worst: a child's single-night stays (and, to join
one, the last night of a longer stay), nights outside its pattern and nights beyond its fair
share of a high-demand kind, moved next to its other stays or onto its wishes or the kinds it
is short of. The move goes into a free place; or the child holding the night takes the moved
night in exchange, or moves to a free place next to its own stays (a chain of two). A move is
kept only if it lowers the objective and keeps every hard rule the model enforces.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from allocator.cpsat.variables import Key
from allocator.evaluate import ChildCosts
from allocator.instance import ChildData, ChildIdx, HouseIdx, Instance, NightIdx
from models.config import ObjectiveWeights
from models.inputs import Pattern


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

    @classmethod
    def of(cls, inst: Instance, weights: ObjectiveWeights, plan: Iterable[Key]) -> _State:
        state = cls(inst, weights)
        state.nights = {ch.idx: {} for ch in inst.children}
        state.occupants = defaultdict(set)
        for c, h, n in plan:
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

    def plan(self) -> set[Key]:
        return {(c, h, n) for c, mine in self.nights.items() for n, h in mine.items()}


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
    if n in nights or h not in child.candidates or not child.offered(n):
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
    """The child's nights worth moving: single-night stays, nights outside its pattern and
    nights of a kind it has beyond its fair share (never a pinned night)."""
    mine = state.nights[child.idx]
    pinned = {n for _h, n in child.pinned}
    found: set[NightIdx] = set()
    for n in mine:
        if n - 1 not in mine and n + 1 not in mine:
            found.add(n)
        patterned = child.pattern in (Pattern.WEEKEND, Pattern.WEEKDAYS)
        if patterned and state.inst.weekend_night[n] != (child.pattern is Pattern.WEEKEND):
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
    if state.weights.share_deviation_night > 0:
        for row in state.costs.static(child.idx).rows:
            got = sum(1 for n in row.nights if n in mine)
            short = row.gap(got, len(mine)) < 0
            if short and row.deviation(got, len(mine)) > 0:
                found.update(row.nights)
    return sorted(found - set(mine))


def _improve_child(state: _State, child: ChildData) -> bool:
    """The first move or swap of one of the child's nights that lowers the objective; made.
    Returns whether one was found."""
    c = child.idx
    mine = state.nights[c]
    children = state.inst.children
    targets = _targets(state, child)
    ends, beside = _joiners(state, child)
    moves = [(n, targets) for n in _sources(state, child)] + [(n, beside) for n in ends]
    for n, towards in moves:
        h = mine[n]
        without = {k: v for k, v in mine.items() if k != n}
        for m in towards:
            if not 0 <= m < len(state.inst.nights):
                continue
            capacity = state.inst.houses[h].nightly_capacity[m]
            if capacity <= 0:
                continue
            here = state.occupants.get((h, m), set())
            if len(here) < capacity and _can_sleep(state, child, without, h, m, None):
                moved = {**without, m: h}
                gain = state.cost[c] - state.cost_of(c, moved)
                if gain > 0:
                    _apply(state, h, c, [n], [m], moved, None)
                    return True
                continue
            moved = {**without, m: h}
            moved_cost: int | None = None  # the same whoever c swaps with
            for d in sorted(here):
                other = children[d]
                theirs = state.nights[d]
                if other.is_resident or n in theirs or (h, m) in other.pinned:
                    continue
                if not _can_sleep(state, child, without, h, m, d):
                    continue
                rest = {k: v for k, v in theirs.items() if k != m}
                if moved_cost is None:
                    moved_cost = state.cost_of(c, moved)
                before = state.cost[c] + state.cost[d] - moved_cost
                if _can_sleep(state, other, rest, h, n, c):
                    swapped = {**rest, n: h}
                    if before - state.cost_of(d, swapped) > 0:
                        _apply(state, h, c, [n], [m], moved, (d, swapped))
                        return True
                for free in _free_beside(state, other, rest, h, m):
                    relocated = {**rest, free: h}
                    if before - state.cost_of(d, relocated) > 0:
                        _rebook(state, h, c, [n], [m], moved)
                        _rebook(state, h, d, [m], [free], relocated)
                        return True
    return False


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
    for k in sorted({x + side for x, house in nights.items() if house == h for side in (-1, 1)}):
        if k == leaving or k in nights or not 0 <= k < len(capacity):
            continue
        if len(state.occupants.get((h, k), ())) >= capacity[k]:
            continue
        if _can_sleep(state, child, nights, h, k, None):
            found.append(k)
    return found


def _apply(
    state: _State,
    h: HouseIdx,
    c: ChildIdx,
    given: Iterable[NightIdx],
    taken: Iterable[NightIdx],
    moved: dict[NightIdx, HouseIdx],
    swap: tuple[ChildIdx, dict[NightIdx, HouseIdx]] | None,
) -> None:
    """Child ``c`` gives up ``given`` and takes ``taken`` in house ``h``; with ``swap`` the
    other child takes ``given`` and gives up ``taken``."""
    given, taken = list(given), list(taken)
    _rebook(state, h, c, given, taken, moved)
    if swap is not None:
        d, swapped = swap
        _rebook(state, h, d, taken, given, swapped)


def _rebook(
    state: _State,
    h: HouseIdx,
    c: ChildIdx,
    leaves: list[NightIdx],
    arrives: list[NightIdx],
    nights: dict[NightIdx, HouseIdx],
) -> None:
    """Child ``c`` leaves house ``h`` on ``leaves``, arrives on ``arrives``: now ``nights``."""
    for n in leaves:
        state.occupants[(h, n)].discard(c)
    for n in arrives:
        state.occupants[(h, n)].add(c)
    state.nights[c] = nights
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


def _takes(
    state: _State,
    child: ChildData,
    nights: dict[NightIdx, HouseIdx],
    h: HouseIdx,
    block: tuple[NightIdx, ...],
    leaving: ChildIdx,
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
    """The first exchange of a whole stay of the child for a whole stay of the same length of
    another child in the same house that lowers the objective; made. Exchanging whole stays
    keeps both families' stays whole, where a single night's swap would break them: it moves
    a holiday, a wished week or a weekend from one family to another."""
    c = child.idx
    mine = state.nights[c]
    pinned = {n for _h, n in child.pinned}
    children = state.inst.children
    worth_leaving = set(_sources(state, child))
    worth_taking = set(_targets(state, child)) - {n + 1 for n in mine} - {n - 1 for n in mine}
    for h in sorted(set(mine.values())):
        for stay in _stays_in(mine, h):
            if pinned.intersection(stay):
                continue
            leaves_bad = bool(worth_leaving.intersection(stay))
            without = {k: v for k, v in mine.items() if k not in stay}
            for d in sorted(state.members.get(h, set()) - {c}):
                other = children[d]
                theirs = state.nights[d]
                their_pins = {n for _h, n in other.pinned}
                for block in _stays_in(theirs, h):
                    if len(block) != len(stay) or their_pins.intersection(block):
                        continue
                    if not leaves_bad and not worth_taking.intersection(block):
                        continue
                    if set(block) & set(mine) or set(stay) & set(theirs):
                        continue
                    moved = _takes(state, child, without, h, block, d)
                    if moved is None:
                        continue
                    rest = {k: v for k, v in theirs.items() if k not in block}
                    swapped = _takes(state, other, rest, h, stay, c)
                    if swapped is None:
                        continue
                    gain = state.cost[c] + state.cost[d] - state.cost_of(c, moved)
                    gain -= state.cost_of(d, swapped)
                    if gain > 0:
                        _apply(state, h, c, stay, block, moved, (d, swapped))
                        return True
    return False


def swap_nights(
    inst: Instance,
    weights: ObjectiveWeights,
    plan: Iterable[Key],
    time_limit: float,
    stop: Callable[[], bool] = lambda: False,
) -> set[Key]:
    """``plan`` improved by night moves, two-child swaps and chains of two inside a house
    until no move helps, ``time_limit`` seconds have passed or ``stop()`` (CTRL-C). Every
    child keeps its number of nights and every house its number of nights, so budgets and
    the nights given hold; a night taken in a free place is checked against its places."""
    deadline = time.monotonic() + time_limit

    def out_of_time() -> bool:
        return time.monotonic() >= deadline or stop()

    state = _State.of(inst, weights, plan)
    todo = [ch for ch in inst.children if not ch.is_resident and state.nights[ch.idx]]
    # Night moves first: they are cheap and settle most single nights before the stay
    # exchanges, which try many more pairs, look at what is left.
    for step in (_improve_child, _improve_or_exchange):
        improved = True
        while improved and not out_of_time():
            improved = False
            for child in sorted(todo, key=lambda ch: -state.cost[ch.idx]):
                if out_of_time():
                    break
                while step(state, child):
                    improved = True
                    if out_of_time():
                        break
    return state.plan()


def _improve_or_exchange(state: _State, child: ChildData) -> bool:
    return _improve_child(state, child) or _swap_stays(state, child)
