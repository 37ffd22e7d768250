"""The peers the planner is measured against (issue 8, "Peers to beat").

* `lp_plan`: the round as a min-cost-flow linear programme solved with HiGHS. One variable
  ``x[c, h, n]`` in [0, 1] per child, eligible house and available night (the nights the
  instance offers; blocked house-nights and nights without a place get none; pinned ones are
  fixed at 1), with

  - one place a night: ``Σ_h x[c, h, n] ≤ 1`` (``= 1`` on a barnebolig resident's nights),
  - the house's places that night: ``Σ_c x[c, h, n] ≤ nightly_capacity[h][n]``,
  - the house's round budget: ``Σ_{c, n} x[c, h, n] ≤ budget[h]``,
  - the child's grant: ``Σ_{h, n} x[c, h, n] ≤ target[c]``,
  - incompatible pairs: ``x[a, h, n] + x[b, h, n] ≤ 1`` on every shared house-night,

  maximising the nights given minus a tiny cost for conditional-category and away-from-home
  nights. Every eligible house is too many columns at region scale (5.5 million at five times
  Bergen), and the instance's 3 candidate houses fall 12-16% short of the max-flow bound there,
  so the LP is solved by column generation: it starts from the candidate houses and the houses
  the FCFS pass below uses (a crash start), then adds, per child, the houses whose nights have a
  negative reduced cost until none has (``lp_priced_out``): the optimum of the LP over every
  eligible house. Without the pair rows it is a network flow, whose LP optimum is integral;
  the pair rows can make it fractional, so the solution is rounded (``x > 0.5``) and repaired
  greedily (a booking that would break a hard rule is dropped); both counts are reported.
  The LP knows nothing of stay shapes, patterns (beyond the nights the instance offers), wishes
  or fair shares: that is the point of the comparison.

* `fcfs_plan`: first come, first served, the way a round is laid by hand. Children in id order
  (as applications arrive); each gets its grant as a regular rhythm of stays in its pattern
  (weekend families Friday–Saturday, weekday families Monday–Thursday, ...), each stay in the
  first house with room (home house first, then full-fit houses before conditional ones, in
  input order), then, if still short, the first stays that fit anywhere in the round, until
  its grant is reached or nothing fits. Barnebolig residents take every available night. Later
  children get what is left.

Both work on an `allocator.instance.Instance` (`build_instance`) and return plans as
``(child, house, night)`` index triples, like the planner's own greedy plan.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocator.instance import ChildData, HouseIdx, Instance, NightIdx
from models.inputs import Pattern

Key = tuple[int, int, NightIdx]

log = logging.getLogger(__name__)

#: Tiny costs (a night is worth 1) so that among plans with the most nights the LP prefers
#: full-fit houses and the home house, as a coordinator would.
CONDITIONAL_COST = 0.01
AWAY_COST = 0.001

MONDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = 0, 3, 4, 5, 6


@dataclass
class PeerPlan:
    """A peer's plan and what it reports about itself."""

    plan: set[Key]
    info: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- shared helpers


def _houses_of(child: ChildData, use_eligible: bool) -> list[HouseIdx]:
    houses = list(child.eligible if use_eligible else child.candidates)
    for h, _n in sorted(child.pinned):
        if h not in houses:
            houses.append(h)
    return houses


def _partners(inst: Instance) -> dict[int, set[int]]:
    partners: dict[int, set[int]] = defaultdict(set)
    for a, b in inst.incompatible:
        partners[a].add(b)
        partners[b].add(a)
    return partners


class _Ledger:
    """Capacity, budget and occupants while a plan is built; `fits` checks every hard rule."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.capacity = np.array([h.nightly_capacity for h in inst.houses], dtype=np.int64)
        self.budget = [math.inf if h.budget is None else h.budget for h in inst.houses]
        self.booked: dict[int, dict[NightIdx, HouseIdx]] = defaultdict(dict)
        self.occupants: dict[tuple[HouseIdx, NightIdx], set[int]] = defaultdict(set)
        self.partners = _partners(inst)

    def fits(self, c: int, h: HouseIdx, n: NightIdx) -> bool:
        child = self.inst.children[c]
        return (
            n not in self.booked[c]
            and self.capacity[h, n] > 0
            and self.budget[h] >= 1
            and len(self.booked[c]) < max(child.target, len(child.pinned))
            and (h, n) not in child.blocked
            and not (self.occupants[(h, n)] & self.partners[c])
        )

    def book(self, c: int, h: HouseIdx, n: NightIdx) -> None:
        self.capacity[h, n] -= 1
        self.budget[h] -= 1
        self.booked[c][n] = h
        self.occupants[(h, n)].add(c)

    def plan(self) -> set[Key]:
        return {(c, h, n) for c, nights in self.booked.items() for n, h in nights.items()}


# --------------------------------------------------------------------------- the LP peer

#: A column whose reduced cost is below this is worth adding.
PRICING_TOLERANCE = 1e-7
#: Per child and pricing round, at most this many houses' columns are added.
BLOCKS_PER_CHILD = 2


class _FlowLp:
    """The round's flow LP in HiGHS over blocks of columns, one block per (child, house): all
    the child's nights in that house. It starts from the instance's candidate houses and grows
    by pricing (column generation) until no eligible house's night has a negative reduced cost,
    so its optimum is that of the LP over every eligible house without building it whole."""

    def __init__(
        self,
        inst: Instance,
        *,
        pattern_nights: bool,
        incompatible: bool,
        threads: int | None,
        solver: str,
    ) -> None:
        import highspy

        self.highspy = highspy
        self.inst = inst
        self.incompatible = incompatible
        n = inst.n_nights
        self.capacity = np.array([h.nightly_capacity for h in inst.houses], dtype=np.int64)
        self.nights: dict[int, np.ndarray] = {}
        self.cn_base: dict[int, int] = {}
        self.child_row: dict[int, int] = {}
        cn_lower: list[np.ndarray] = []
        rows = 0
        for child in inst.children:
            limit = max(child.target, len(child.pinned))
            nights = np.array(
                sorted(
                    {m for m in child.available if child.offered(m) or not pattern_nights}
                    | {m for _, m in child.pinned}
                ),
                dtype=np.int64,
            )
            houses = _houses_of(child, use_eligible=True)
            if limit <= 0 or nights.size == 0 or not houses:
                continue
            self.nights[child.idx] = nights
            self.cn_base[child.idx] = rows
            rows += nights.size
            lower = np.zeros(nights.size)
            if child.is_resident:
                open_ = (self.capacity[houses][:, nights] > 0).any(axis=0)
                lower[open_] = 1.0
            cn_lower.append(lower)
        self.hn_base = rows
        rows += len(inst.houses) * n
        self.budget_base = rows
        rows += len(inst.houses)
        for c in self.nights:
            self.child_row[c] = rows
            rows += 1
        lower_all = np.concatenate([*cn_lower, np.zeros(rows - self.hn_base)])
        upper_all = np.concatenate(
            [
                np.ones(self.hn_base),
                self.capacity.ravel().astype(float),
                np.array(
                    [
                        highspy.kHighsInf if h.budget is None else float(h.budget)
                        for h in inst.houses
                    ]
                ),
                np.array(
                    [
                        float(max(inst.children[c].target, len(inst.children[c].pinned)))
                        for c in self.nights
                    ]
                ),
            ]
        )
        self.n_rows = rows
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("solver", solver)
        if threads is not None:
            self.h.setOptionValue("threads", int(threads))
        self.h.addRows(
            rows,
            lower_all,
            upper_all,
            0,
            np.zeros(rows, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros(0),
        )
        self.col_c: list[np.ndarray] = []
        self.col_h: list[np.ndarray] = []
        self.col_n: list[np.ndarray] = []
        self.n_cols = 0
        self.blocks: dict[tuple[int, HouseIdx], tuple[int, np.ndarray]] = {}
        self.pairs_done: set[tuple[int, int, HouseIdx]] = set()
        self.partners = _partners(inst)
        self.pair_rows = 0

    def block_nights(self, child: ChildData, h: HouseIdx) -> np.ndarray:
        nights = self.nights[child.idx]
        open_ = self.capacity[h, nights] > 0
        if child.blocked:
            open_ &= np.array([(h, int(m)) not in child.blocked for m in nights], dtype=bool)
        return nights[open_]

    def cost(self, child: ChildData, h: HouseIdx) -> float:
        cost = -1.0
        if h in child.conditional:
            cost += CONDITIONAL_COST
        if child.home_house is not None and h != child.home_house:
            cost += AWAY_COST
        return cost

    def add_blocks(self, blocks: list[tuple[int, HouseIdx]]) -> int:
        """Add the blocks' columns (and the pair rows they need); returns columns added."""
        n = self.inst.n_nights
        costs, lowers, indices = [], [], []
        start = self.n_cols
        added = []
        for c, h in blocks:
            if (c, h) in self.blocks:
                continue
            child = self.inst.children[c]
            nights = self.block_nights(child, h)
            if nights.size == 0:
                self.blocks[(c, h)] = (start, nights)
                continue
            k = nights.size
            cn = self.cn_base[c] + np.searchsorted(self.nights[c], nights)
            entries = np.stack(
                [
                    cn,
                    self.hn_base + h * n + nights,
                    np.full(k, self.budget_base + h),
                    np.full(k, self.child_row[c]),
                ],
                axis=1,
            )
            indices.append(entries.ravel())
            costs.append(np.full(k, self.cost(child, h)))
            lower = np.zeros(k)
            if child.pinned:
                lower[[i for i, m in enumerate(nights) if (h, int(m)) in child.pinned]] = 1.0
            lowers.append(lower)
            self.col_c.append(np.full(k, c, dtype=np.int64))
            self.col_h.append(np.full(k, h, dtype=np.int64))
            self.col_n.append(nights)
            self.blocks[(c, h)] = (start, nights)
            added.append((c, h))
            start += k
        count = start - self.n_cols
        if count:
            index = np.concatenate(indices).astype(np.int32)
            self.h.addCols(
                count,
                np.concatenate(costs),
                np.concatenate(lowers),
                np.ones(count),
                index.size,
                (4 * np.arange(count)).astype(np.int32),
                index,
                np.ones(index.size),
            )
            self.n_cols = start
        if self.incompatible:
            self.add_pair_rows(added)
        return count

    def add_pair_rows(self, added: list[tuple[int, HouseIdx]]) -> None:
        firsts: list[np.ndarray] = []
        seconds: list[np.ndarray] = []
        for c, h in added:
            for p in self.partners[c]:
                key = (min(c, p), max(c, p), h)
                if key in self.pairs_done or (p, h) not in self.blocks:
                    continue
                self.pairs_done.add(key)
                sc, nc = self.blocks[(c, h)]
                sp, np_ = self.blocks[(p, h)]
                _, ic, ip = np.intersect1d(nc, np_, assume_unique=True, return_indices=True)
                firsts.append(sc + ic)
                seconds.append(sp + ip)
        if not firsts:
            return
        a, b = np.concatenate(firsts), np.concatenate(seconds)
        m = a.size
        self.h.addRows(
            m,
            np.zeros(m),
            np.ones(m),
            2 * m,
            (2 * np.arange(m)).astype(np.int32),
            np.stack([a, b], axis=1).ravel().astype(np.int32),
            np.ones(2 * m),
        )
        self.pair_rows += m

    def price(self) -> list[tuple[int, HouseIdx]]:
        """Blocks with a night of negative reduced cost (at most `BLOCKS_PER_CHILD` a child)."""
        y = np.asarray(self.h.getSolution().row_dual, dtype=float)
        n = self.inst.n_nights
        y_hn = y[self.hn_base : self.hn_base + len(self.inst.houses) * n].reshape(-1, n)
        y_budget = y[self.budget_base : self.budget_base + len(self.inst.houses)]
        found: list[tuple[int, HouseIdx]] = []
        for c, nights in self.nights.items():
            child = self.inst.children[c]
            outside = [h for h in child.eligible if (c, h) not in self.blocks]
            if not outside:
                continue
            houses = np.array(outside, dtype=np.int64)
            y_cn = y[self.cn_base[c] : self.cn_base[c] + nights.size]
            costs = np.array([self.cost(child, h) for h in outside])
            reduced = (
                costs[:, None]
                - y_cn[None, :]
                - y_hn[houses][:, nights]
                - y_budget[houses][:, None]
                - y[self.child_row[c]]
            )
            reduced[self.capacity[houses][:, nights] <= 0] = np.inf
            for h, m in child.blocked:
                if h in outside:
                    pos = np.searchsorted(nights, m)
                    if pos < nights.size and nights[pos] == m:
                        reduced[outside.index(h), pos] = np.inf
            best = reduced.min(axis=1)
            order = np.argsort(best)[:BLOCKS_PER_CHILD]
            found.extend((c, int(houses[i])) for i in order if best[i] < -PRICING_TOLERANCE)
        return found

    def run(self, time_limit: float | None) -> str:
        if time_limit is not None:
            # HiGHS's run clock keeps counting over the object's runs.
            limit = self.h.getRunTime() + max(1.0, float(time_limit))
            self.h.setOptionValue("time_limit", limit)
        self.h.run()
        return str(self.h.modelStatusToString(self.h.getModelStatus()))


def lp_plan(
    inst: Instance,
    *,
    pricing: bool = True,
    pattern_nights: bool = True,
    incompatible: bool = True,
    time_limit: float | None = None,
    threads: int | None = None,
    solver: str = "choose",
) -> PeerPlan:
    """Solve the round's flow LP with HiGHS, round it and repair it (see the module docstring).

    The LP starts from the instance's candidate houses; with ``pricing`` (column generation)
    it adds eligible houses whose nights have a negative reduced cost until none has, which
    solves the LP over every eligible house. ``pattern_nights`` offers only the nights the
    instance offers (`ChildData.offered`). ``incompatible`` adds the pair rows. ``solver`` is
    HiGHS's ``solver`` option. ``info`` reports the LP's status, value, size, pricing rounds
    and times, how many values were fractional and how many rounded bookings the repair dropped.
    """
    started = time.monotonic()
    lp = _FlowLp(
        inst,
        pattern_nights=pattern_nights,
        incompatible=incompatible,
        threads=threads,
        solver=solver,
    )
    # A crash start: the candidate houses and the houses first come, first served uses (it
    # looks at every eligible house), so that few houses are left to price in.
    seed_blocks = {
        (c, h) for c in lp.nights for h in _houses_of(inst.children[c], use_eligible=False)
    }
    if pricing:
        seed_blocks |= {(c, h) for c, h, _n in fcfs_plan(inst).plan if c in lp.nights}
    lp.add_blocks(sorted(seed_blocks))
    built = time.monotonic()
    rounds = 0
    best: np.ndarray | None = None  # the last optimal LP's values (a later round may time out)
    converged = False  # no eligible house's night prices out: optimal over every eligible house
    while True:
        left = None if time_limit is None else time_limit - (time.monotonic() - started)
        status = lp.run(left)
        rounds += 1
        if status != "Optimal":
            solution = lp.h.getSolution()
            if best is None and solution.value_valid:
                # Out of time in the first round: the values so far, made valid by the repair.
                best = np.asarray(solution.col_value, dtype=float)
            break
        best = np.asarray(lp.h.getSolution().col_value, dtype=float)
        log.info(
            "LP round %d: %.1f nights, %d columns, %.1f s",
            rounds,
            float(np.clip(best, 0.0, 1.0).sum()),
            lp.n_cols,
            time.monotonic() - started,
        )
        if not pricing:
            break
        blocks = lp.price()
        if not blocks or not lp.add_blocks(blocks):
            converged = True
            break
        if time_limit is not None and time.monotonic() - started >= time_limit - 1.0:
            status = "Time limit reached"
            break
    solved = time.monotonic()
    info: dict[str, Any] = {
        "lp_status": status,
        "lp_columns": int(lp.n_cols),
        "lp_rows": int(lp.n_rows + lp.pair_rows),
        "lp_pair_rows": int(lp.pair_rows),
        "lp_rounds": rounds,
        "lp_priced_out": converged,
        "lp_build_s": round(built - started, 1),
        "lp_solve_s": round(solved - built, 1),
    }
    if best is None:
        return PeerPlan(set(), info)
    x = np.zeros(lp.n_cols)
    x[: best.size] = best
    col_c = np.concatenate(lp.col_c)
    col_h = np.concatenate(lp.col_h)
    col_n = np.concatenate(lp.col_n)
    del lp, best
    info["lp_value"] = round(float(np.clip(x, 0.0, 1.0).sum()), 2)
    info["lp_fractional"] = int(((x > 1e-6) & (x < 1 - 1e-6)).sum())
    chosen = np.nonzero(x > 0.5)[0]
    # Pins first (booked below), then the most certain values.
    chosen = chosen[np.argsort(-x[chosen], kind="stable")]
    ledger = _Ledger(inst)
    for c in inst.children:
        for hp, n in sorted(c.pinned):
            ledger.book(c.idx, hp, n)
    dropped = 0
    for j in chosen:
        c, hj, n = int(col_c[j]), int(col_h[j]), int(col_n[j])
        if ledger.booked[c].get(n) == hj:
            continue
        if ledger.fits(c, hj, n):
            ledger.book(c, hj, n)
        else:
            dropped += 1
    info["lp_dropped"] = dropped
    return PeerPlan(ledger.plan(), info)


# --------------------------------------------------------------------------- the FCFS peer

#: Nights of a regular stay and the weekday it starts on (None: any day).
STAY_SHAPE: dict[Pattern, tuple[int, int | None]] = {
    Pattern.WEEKEND: (2, FRIDAY),
    Pattern.WEEKDAYS: (4, MONDAY),
    Pattern.WEEK: (7, MONDAY),
    Pattern.ANY: (4, None),
}


def _fits_pattern(inst: Instance, pattern: Pattern, first: int, length: int) -> bool:
    if first + length > inst.n_nights:
        return False
    weekend = [inst.weekend_night[n] for n in range(first, first + length)]
    if pattern is Pattern.WEEKEND:
        return all(weekend) or (any(weekend) and inst.nights[first].weekday() in (4, 5))
    if pattern is Pattern.WEEKDAYS:
        return not any(weekend)
    return True


class _Fcfs:
    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.ledger = _Ledger(inst)

    def house_order(self, child: ChildData) -> list[HouseIdx]:
        return sorted(
            child.eligible,
            key=lambda h: (h != child.home_house, h in child.conditional, h),
        )

    def free(self, child: ChildData, houses: list[HouseIdx]) -> np.ndarray:
        """(houses, nights): the child may sleep there that night and has no night next to it."""
        inst, ledger = self.inst, self.ledger
        n = inst.n_nights
        avail = np.zeros(n, dtype=bool)
        avail[list(child.available)] = True
        mine = ledger.booked[child.idx]
        for night in mine:
            avail[max(0, night - 1) : night + 2] = False
        mask = (ledger.capacity[houses] > 0) & avail[None, :]
        row = {h: i for i, h in enumerate(houses)}
        for h, night in child.blocked:
            if h in row:
                mask[row[h], night] = False
        for p in ledger.partners[child.idx]:
            for night, h in ledger.booked[p].items():
                if h in row:
                    mask[row[h], night] = False
        return mask

    def try_stay(
        self,
        child: ChildData,
        houses: list[HouseIdx],
        mask: np.ndarray,
        first: int,
        length: int,
    ) -> bool:
        last = first + length
        if first < 0 or last > self.inst.n_nights:
            return False
        for i, h in enumerate(houses):
            if self.ledger.budget[h] >= length and mask[i, first:last].all():
                for n in range(first, last):
                    self.ledger.book(child.idx, h, n)
                mask[:, max(0, first - 1) : last + 1] = False
                for n in range(first, last):
                    if self.ledger.capacity[h, n] <= 0:
                        mask[i, n] = False
                return True
        return False

    def need(self, child: ChildData) -> int:
        return child.target - len(self.ledger.booked[child.idx])

    def resident(self, child: ChildData) -> None:
        houses = self.house_order(child)
        previous = child.home_house
        for n in child.available:
            if n in self.ledger.booked[child.idx]:
                continue
            for h in sorted(houses, key=lambda h: h != previous):
                if self.ledger.fits(child.idx, h, n):
                    self.ledger.book(child.idx, h, n)
                    previous = h
                    break

    def starts(
        self, child: ChildData, ideal: int, window: int, weekday: int | None
    ) -> Iterator[int]:
        for s in range(ideal, min(self.inst.n_nights, ideal + window)):
            if weekday is None or self.inst.nights[s].weekday() == weekday:
                yield s

    def respite(self, child: ChildData) -> None:
        inst = self.inst
        houses = self.house_order(child)
        if not houses or self.need(child) <= 0:
            return
        mask = self.free(child, houses)
        length, weekday = STAY_SHAPE[child.pattern]
        length = min(length, child.max_stay)
        # 1. A regular rhythm: the grant's stays spread evenly over the round.
        stays = max(1, math.ceil(self.need(child) / length))
        spacing = inst.n_nights / stays
        for k in range(stays):
            ideal = int(k * spacing)
            for s in self.starts(child, ideal, max(7, int(spacing)), weekday):
                want = min(length, self.need(child))
                if want <= 0:
                    return
                if self.try_stay(child, houses, mask, s, want):
                    break
        # 2. Still short: the first stays that fit anywhere, in the pattern first, then any.
        for strict in (True, False):
            for size in range(length, 0, -1):
                for s in range(inst.n_nights):
                    want = min(size, self.need(child))
                    if want <= 0:
                        return
                    if strict and not _fits_pattern(inst, child.pattern, s, want):
                        continue
                    if mask[:, s : s + want].all(axis=1).any():
                        self.try_stay(child, houses, mask, s, want)


def fcfs_plan(inst: Instance, order: Iterable[int] | None = None) -> PeerPlan:
    """First come, first served (see the module docstring). ``order``: the children's
    indices in the order they are served (default: by child id)."""
    started = time.monotonic()
    state = _Fcfs(inst)
    for child in inst.children:
        for h, n in sorted(child.pinned):
            state.ledger.book(child.idx, h, n)
    if order is None:
        order = sorted(range(len(inst.children)), key=lambda c: inst.children[c].child_id)
    for c in order:
        child = inst.children[c]
        if child.is_resident:
            state.resident(child)
        elif child.target > 0:
            state.respite(child)
    plan = state.ledger.plan()
    return PeerPlan(plan, {"fcfs_s": round(time.monotonic() - started, 1)})
