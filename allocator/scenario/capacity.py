"""How many places, of which kind, would give every child at least a target share of its grant.

Houses are grouped by what they take (kind, categories, conditional categories, night watch):
Bergen has the groups ``5``, ``2;3 (4)``, ``4``, ``P``, ``2;3`` , ``2;3;4;5`` and the barnebolig
group ``barnebolig 5``. A group grows by adding places to its largest house (``mode="add"``) or
by a new house like it (``mode="new"``).

The search, per group:

1. **Necessary condition, by max-flow** (`allocator.check.bound.max_flow_bound`, cheap): with each
   child's grant lowered to ``ceil(target × reachable)`` (reachable = min(granted, available
   nights), as the model's fairness measures it), a plan meeting the target exists only if the
   max-flow relaxation can carry every one of those nights. Starting from no added places, the
   group whose extra place carries the most more nights gets it, until the condition holds;
   then each group gives back places while it still holds. Counts below these are hopeless and
   are never solved.
2. **Confirmation, by the round's own model** (`allocator.pipeline.plan_round` at a short time
   limit, checked by the independent checker): if some child stays below the target, one place
   goes to the group most of those children can use, and the round is solved again.

With one group, or groups that serve different children, the answer is the fewest places the
model finds a plan for within the time limit; with shared children (category 4 in the 2/3
houses) it is minimal group by group, not proved minimal in total. A short time limit can only
overstate the places needed, never understate them: every answer comes with a checked plan.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from allocator.check.bound import max_flow_bound
from allocator.check.rules import available_nights, is_eligible, unavailable_ranges
from allocator.pipeline import plan_round
from allocator.scenario.apply import round_with
from allocator.solve import SolveParams
from models.inputs import House, HouseKind
from models.outputs import Booking
from models.round_input import RoundInput
from models.rules import budget_nights

__all__ = [
    "CapacityResult",
    "HouseGroup",
    "SolveStep",
    "find_capacity",
    "house_groups",
    "reachable",
    "resolve_groups",
    "with_added",
]

_EPS = 1e-9


@dataclass(frozen=True)
class HouseGroup:
    """Houses that take the same children: same kind, categories and night watch."""

    key: str
    houses: tuple[str, ...]
    representative: str
    """The house that grows (the group's largest; the first of equals)."""
    places: int


def _group_key(h: House) -> str:
    cats = ";".join(sorted(h.categories))
    if h.conditional_categories:
        cats += f" ({';'.join(sorted(h.conditional_categories))})"
    if h.kind is HouseKind.BARNEBOLIG:
        cats = f"barnebolig {cats}"
    if not h.night_watch:
        cats += " no night watch"
    return cats


def house_groups(inp: RoundInput) -> list[HouseGroup]:
    """The round's houses grouped by what they take, in the order of their first house.

    Houses that take no category (places 0 and no categories, as Vevlestova) form no group.
    """
    members: dict[str, list[House]] = {}
    for h in inp.houses:
        if not h.categories and not h.conditional_categories:
            continue
        members.setdefault(_group_key(h), []).append(h)
    out = []
    for key, houses in members.items():
        rep = max(houses, key=lambda h: h.places)  # max keeps the first of equals
        out.append(
            HouseGroup(
                key=key,
                houses=tuple(h.house_id for h in houses),
                representative=rep.house_id,
                places=sum(h.places for h in houses),
            )
        )
    return out


def resolve_groups(inp: RoundInput, names: Sequence[str]) -> list[str]:
    """Group keys for ``names``: a group's key (``"2;3 (4)"``) or any of its houses' ids.

    Raises
    ------
    ValueError
        Naming what is unknown and listing the groups.
    """
    groups = house_groups(inp)
    by_house = {hid: g.key for g in groups for hid in g.houses}
    keys = [g.key for g in groups]
    out: list[str] = []
    unknown: list[str] = []
    for name in names:
        key = name if name in keys else by_house.get(name)
        if key is None:
            unknown.append(name)
        elif key not in out:
            out.append(key)
    if unknown:
        shown = "; ".join(f"{g.key!r} ({', '.join(g.houses)})" for g in groups)
        raise ValueError(f"unknown group {', '.join(map(repr, unknown))}; groups: {shown}")
    return out


def with_added(
    inp: RoundInput, groups: Sequence[HouseGroup], added: dict[str, int], mode: str = "add"
) -> RoundInput:
    """The round with ``added[group.key]`` more places in each group.

    ``mode="add"``: the group's representative house gets the places (its budget grows with
    them). ``mode="new"``: a new house ``extra-<representative>`` like the representative
    (same kind, categories, night watch, price) with those places and no acute reserve.
    """
    by_key = {g.key: g for g in groups}
    houses = list(inp.houses)
    for key, n in added.items():
        if n <= 0:
            continue
        rep_id = by_key[key].representative
        index = next(i for i, h in enumerate(houses) if h.house_id == rep_id)
        rep = houses[index]
        if mode == "add":
            houses[index] = rep.model_copy(update={"places": rep.places + n})
        else:
            houses.append(
                rep.model_copy(
                    update={
                        "house_id": f"extra-{rep_id}"[:40],
                        "name": f"New house like {rep.name}",
                        "places": n,
                    }
                )
            )
    return round_with(inp, houses=tuple(houses))


def reachable(inp: RoundInput) -> dict[str, int]:
    """Per child: ``min(granted, available nights)`` (the model's measure of fairness)."""
    unavailable = unavailable_ranges(inp)
    return {
        c.child_id: min(c.granted_nights, len(available_nights(inp, c, unavailable)))
        for c in inp.children
    }


def _needed(share: float, nights: int) -> int:
    return math.ceil(share * nights - _EPS)


def _flow_gap(inp: RoundInput, target: float, reach: dict[str, int]) -> int:
    """Nights of the target the max-flow relaxation cannot carry (0: necessary condition met)."""
    lowered = tuple(
        c.model_copy(update={"granted_nights": _needed(target, reach[c.child_id])})
        for c in inp.children
    )
    wanted = sum(c.granted_nights for c in lowered)
    probe = RoundInput(
        config=inp.config,
        houses=inp.houses,
        children=lowered,
        unavailable=inp.unavailable,
        closures=inp.closures,
    )
    return wanted - max_flow_bound(probe)


def _short_children(
    inp: RoundInput, bookings: Sequence[Booking], target: float, reach: dict[str, int]
) -> list[str]:
    got = Counter(b.child_id for b in set(bookings))
    return [
        c.child_id
        for c in inp.children
        if reach[c.child_id] > 0 and got[c.child_id] < _needed(target, reach[c.child_id])
    ]


@dataclass(frozen=True)
class SolveStep:
    """One confirmation solve: the places added, its status and the children below target."""

    added: dict[str, int]
    status: str
    lowest_share: float | None
    short: int
    wall_time: float


@dataclass
class CapacityResult:
    """The answer: places to add per group, and how it was found."""

    target: float
    mode: str
    groups: list[HouseGroup]
    added: dict[str, int]
    found: bool
    """True when a checked plan meets the target with ``added``."""
    flow_added: dict[str, int] = field(default_factory=dict)
    """The counts the max-flow condition asks for (a lower bound group by group)."""
    steps: list[SolveStep] = field(default_factory=list)
    message: str = ""
    round: RoundInput | None = None
    """The round with the places added, when ``found``."""
    bookings: list[Booking] = field(default_factory=list)
    """The checked plan that meets the target, when ``found``."""

    @property
    def total(self) -> int:
        return sum(self.added.values())

    def to_dict(self) -> dict[str, object]:
        """The answer as plain JSON types (without the round and its plan)."""
        return {
            "target": self.target,
            "mode": self.mode,
            "found": self.found,
            "message": self.message,
            "total": self.total,
            "groups": [
                {
                    "group": g.key,
                    "houses": list(g.houses),
                    "grows": g.representative,
                    "places": g.places,
                    "max_flow_needs": self.flow_added.get(g.key),
                    "add": self.added.get(g.key),
                }
                for g in self.groups
            ],
            "solves": [
                {
                    "added": s.added,
                    "status": s.status,
                    "lowest_share": s.lowest_share,
                    "children_below_target": s.short,
                    "wall_time": round(s.wall_time, 3),
                }
                for s in self.steps
            ],
        }


def _lowest_share(
    inp: RoundInput, bookings: Sequence[Booking], reach: dict[str, int]
) -> float | None:
    got = Counter(b.child_id for b in set(bookings))
    shares = [got[c] / n for c, n in reach.items() if n > 0]
    return min(shares) if shares else None


def find_capacity(
    inp: RoundInput,
    target: float = 0.95,
    *,
    groups: Sequence[str] | None = None,
    mode: str = "add",
    params: SolveParams | None = None,
    max_add: int = 30,
    max_solves: int = 12,
    on_step: Callable[[str], None] | None = None,
) -> CapacityResult:
    """Find the fewest added places per group that give every child ``target`` of its grant.

    Parameters
    ----------
    inp
        The round (a base or an applied scenario).
    target
        Share of each child's reachable grant, in (0, 1].
    groups
        Groups that may grow, by key or by a house of the group (`resolve_groups`); all when
        ``None``.
    mode
        ``"add"`` (places to the group's largest house) or ``"new"`` (a new house like it).
    params
        Time limit, seed and workers of each confirmation solve (default 10 s, seed 1, 2).
    max_add
        Most places added to one group.
    max_solves
        Most confirmation solves.
    on_step
        Called with a line of progress.

    Returns
    -------
    CapacityResult
        ``found`` tells whether a checked plan met the target.

    Raises
    ------
    ValueError
        An unknown group key, a bad mode or a target outside (0, 1].
    """
    if not 0 < target <= 1:
        raise ValueError(f"target must be in (0, 1], got {target}")
    if mode not in ("add", "new"):
        raise ValueError(f"mode must be 'add' or 'new', got {mode!r}")
    say = on_step or (lambda _line: None)
    params = params or SolveParams(time_limit=10.0, seed=1, workers=2)
    all_groups = house_groups(inp)
    keys = [g.key for g in all_groups]
    if groups:
        chosen = resolve_groups(inp, groups)
        keys = [k for k in keys if k in chosen]
    reach = reachable(inp)
    result = CapacityResult(target, mode, all_groups, dict.fromkeys(keys, 0), False)

    def gap(added: dict[str, int]) -> int:
        return _flow_gap(with_added(inp, all_groups, added, mode), target, reach)

    # 1. Max-flow: hopeless counts are never solved.
    added = dict.fromkeys(keys, 0)
    current = gap(added)
    if current > 0 and gap(dict.fromkeys(keys, max_add)) > 0:
        result.message = (
            f"not reachable by adding up to {max_add} places to"
            f" {', '.join(keys) or 'no group'}: even then the max-flow bound cannot give every"
            " child the target (children no group takes, or nights no place can serve)"
        )
        return result
    while current > 0:
        best_key, best_gap = None, current
        for key in keys:
            if added[key] >= max_add:
                continue
            trial_gap = gap({**added, key: added[key] + 1})
            if trial_gap < best_gap:
                best_key, best_gap = key, trial_gap
        if best_key is None:
            # No single place helps (two groups must grow together): grow every group a step.
            for key in keys:
                added[key] = min(max_add, added[key] + 1)
            current = gap(added)
        else:
            added[best_key] += 1
            current = best_gap
        say(f"max-flow: {_show(added)} leaves {current} nights of the target uncarried")
    for key in keys:  # give back places the condition does not need
        while added[key] > 0 and gap({**added, key: added[key] - 1}) == 0:
            added[key] -= 1
    result.flow_added = dict(added)
    say(f"max-flow lower bound: {_show(added)}")

    # 2. Confirm with the round's model; grow where children stay short, then give back.
    floor = min(100, math.ceil(target * 100 - _EPS))
    best: _Trial | None = None
    solves = 0
    while solves < max_solves:
        trial = _solve(inp, all_groups, added, mode, params, target, reach, floor)
        solves += 1
        result.steps.append(trial.step)
        say(trial.line(target))
        if trial.meets:
            best = trial
            break
        grow = _growth(trial, all_groups, added, max_add, target, reach)
        if not grow:
            break
        for key, n in grow.items():
            added[key] += n
    if best is None:
        result.added = dict(added)
        result.message = (
            f"no plan met the target within {solves} solves of {params.time_limit:g}s;"
            " more time per solve may need fewer places"
        )
        return result
    # Give back places the solves added beyond the max-flow bound, one at a time.
    for key in keys:
        while solves < max_solves and added[key] > result.flow_added[key]:
            fewer = {**added, key: added[key] - 1}
            trial = _solve(inp, all_groups, fewer, mode, params, target, reach, floor)
            solves += 1
            result.steps.append(trial.step)
            say(trial.line(target))
            if not trial.meets:
                break
            added, best = fewer, trial
    result.added = dict(added)
    result.found = True
    result.round = best.inp
    result.bookings = best.bookings
    result.message = "a checked plan meets the target"
    return result


@dataclass
class _Trial:
    """One confirmation solve with its round, plan and the children below target."""

    inp: RoundInput
    bookings: list[Booking]
    short: list[str]
    step: SolveStep
    meets: bool

    def line(self, target: float) -> str:
        s = self.step
        shown = "-" if s.lowest_share is None else f"{s.lowest_share:.1%}"
        return (
            f"solve {_show(s.added)}: {s.status}, lowest share {shown},"
            f" {s.short} children below {target:.0%} ({s.wall_time:.1f}s)"
        )


def _solve(
    inp: RoundInput,
    groups: Sequence[HouseGroup],
    added: dict[str, int],
    mode: str,
    params: SolveParams,
    target: float,
    reach: dict[str, int],
    floor: int,
) -> _Trial:
    """Plan the round with ``added`` places. The model's fair floor (``deep_shortfall`` counts
    nights below ``fair_floor_percent`` of a grant) is set to the target, so the solver aims
    at the question asked."""
    grown = with_added(inp, groups, added, mode)
    weights = grown.config.weights.model_copy(update={"fair_floor_percent": floor})
    trial_inp = round_with(grown, config=grown.config.model_copy(update={"weights": weights}))
    started = time.monotonic()
    outcome = plan_round(trial_inp, params)
    wall = time.monotonic() - started
    has_plan = outcome.result.status.has_plan and not outcome.violations
    bookings = list(outcome.result.bookings) if has_plan else []
    short = (
        _short_children(trial_inp, bookings, target, reach)
        if has_plan
        else [c for c, n in reach.items() if n > 0]
    )
    status = "CHECK_FAILED" if outcome.violations else str(outcome.result.status)
    lowest = _lowest_share(trial_inp, bookings, reach) if has_plan else None
    step = SolveStep(dict(added), status, lowest, len(short), wall)
    # The plan is returned with the round as given (weights are not part of the answer).
    return _Trial(grown, bookings, short, step, has_plan and not short)


def _place_nights(inp: RoundInput, house: House) -> int:
    """Nights one more place gives in the round (rule R3's budget; every night in a
    barnebolig)."""
    if house.kind is HouseKind.BARNEBOLIG:
        return inp.config.n_nights
    return max(1, budget_nights(1, house.nights_per_place_year, inp.config.n_nights))


def _growth(
    trial: _Trial,
    groups: Sequence[HouseGroup],
    added: dict[str, int],
    max_add: int,
    target: float,
    reach: dict[str, int],
) -> dict[str, int]:
    """Places to add after a solve that left children short: their missing nights are shared
    among the groups that take them; a group gets a place for every two places' worth of
    nights (solver noise makes a full step overshoot), and the group missing most at least
    one."""
    got = Counter(b.child_id for b in set(trial.bookings))
    houses = {h.house_id: h for h in trial.inp.houses}
    missing: dict[str, float] = {}
    for child_id in trial.short:
        child = trial.inp.child(child_id)
        lack = _needed(target, reach[child_id]) - got[child_id]
        takers = [
            g.key
            for g in groups
            if g.key in added
            and added[g.key] < max_add
            and any(is_eligible(child, houses[h]) for h in g.houses)
        ]
        for key in takers:
            missing[key] = missing.get(key, 0.0) + lack / len(takers)
    if not missing:
        return {}
    rep = {g.key: houses[g.representative] for g in groups}
    grow = {
        key: min(max_add - added[key], int(nights / _place_nights(trial.inp, rep[key]) / 2))
        for key, nights in missing.items()
    }
    top = max(missing, key=lambda k: missing[k])
    grow[top] = max(grow[top], 1)
    return {k: n for k, n in grow.items() if n > 0}


def _show(added: dict[str, int]) -> str:
    return ", ".join(f"{k} +{v}" for k, v in added.items() if v) or "nothing added"
