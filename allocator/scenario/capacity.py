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
from allocator.solve import SolveParams
from models.inputs import House, HouseKind
from models.outputs import Booking
from models.round_input import RoundInput

__all__ = [
    "CapacityResult",
    "HouseGroup",
    "SolveStep",
    "find_capacity",
    "house_groups",
    "reachable",
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
    return RoundInput(
        config=inp.config,
        houses=tuple(houses),
        children=inp.children,
        unavailable=inp.unavailable,
        wishes=inp.wishes,
        incompatible=inp.incompatible,
        closures=inp.closures,
        calendar=inp.calendar,
        pins=inp.pins,
        source=inp.source,
    )


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
        Keys of the groups that may grow (`house_groups`); all when ``None``.
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
        unknown = [g for g in groups if g not in keys]
        if unknown:
            raise ValueError(
                f"unknown group {', '.join(map(repr, unknown))}; groups: {', '.join(keys)}"
            )
        keys = [k for k in keys if k in groups]
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
            trial = gap({**added, key: added[key] + 1})
            if trial < best_gap:
                best_key, best_gap = key, trial
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

    # 2. Confirm with the round's model; grow where children stay short.
    for _ in range(max_solves):
        trial_inp = with_added(inp, all_groups, added, mode)
        started = time.monotonic()
        outcome = plan_round(trial_inp, params)
        wall = time.monotonic() - started
        has_plan = outcome.result.status.has_plan and not outcome.violations
        bookings = outcome.result.bookings if has_plan else []
        short = (
            _short_children(trial_inp, bookings, target, reach)
            if has_plan
            else [c for c, n in reach.items() if n > 0]
        )
        status = str(outcome.result.status) if not outcome.violations else "CHECK_FAILED"
        lowest = _lowest_share(trial_inp, bookings, reach) if has_plan else None
        result.steps.append(SolveStep(dict(added), status, lowest, len(short), wall))
        shown = "-" if lowest is None else f"{lowest:.1%}"
        say(
            f"solve {_show(added)}: {status}, lowest share {shown},"
            f" {len(short)} children below {target:.0%} ({wall:.1f}s)"
        )
        if has_plan and not short:
            result.added = dict(added)
            result.found = True
            result.round = trial_inp
            result.bookings = list(bookings)
            result.message = "a checked plan meets the target"
            return result
        votes: Counter[str] = Counter()
        houses = {h.house_id: h for h in trial_inp.houses}
        group_of = {hid: g.key for g in all_groups for hid in g.houses}
        for child_id in short:
            child = trial_inp.child(child_id)
            for hid, h in houses.items():
                grp = group_of.get(hid)
                if grp is not None and grp in added and added[grp] < max_add:
                    votes[grp] += int(is_eligible(child, h))
        if not votes:
            break
        added[votes.most_common(1)[0][0]] += 1
    result.added = dict(added)
    result.message = (
        f"no plan met the target within {len(result.steps)} solves of"
        f" {params.time_limit:g}s; more time per solve may need fewer places"
    )
    return result


def _show(added: dict[str, int]) -> str:
    return ", ".join(f"{k} +{v}" for k, v in added.items() if v) or "nothing added"
