"""Explain a plan in plain words: why a child got fewer nights than granted, and why a wish was
not met.

Everything here is computed from the round's input and the plan's bookings alone, so it works on
any plan folder (one written by ``plan``, by hand, or by an older version). The hard rules are
judged with the independent checker's helpers (`allocator.check.rules`); the model is consulted
only for two things a plan cannot show: the longest stay of a family's pattern
(`allocator.instance.MAX_STAY`) and which houses the model offers a child
(`allocator.instance.build_instance`, at most three besides pinned houses).

Each night of the round that a child did not get has exactly one primary `Cause`, the first that
applies in this order:

1. outside the vedtak;
2. unavailable (summer camp, holiday trip, family, ...);
3. forbidden by the coordinator (pins.csv, every house);
4. the pattern limit: a stay next to the night would grow longer than the pattern allows;
5. a stay is in one house: the night joins stays in two different houses;
6. no eligible house has a usable place at all (no house accepts the child, closures, 0 places);
7. every eligible house is full with other children (or the acute reserve holds the free place);
8. the eligible houses' budget of nights (places × 350 a year) is used up;
9. the only free place is in a house where an incompatible child sleeps;
10. otherwise a free place was not used (the optimiser chose so, or the house was not offered).

Nights a child is already booked in the night before or after must be in the same house (a stay
is in one house), so on such nights only that house is judged. Consecutive nights with the same
cause and wording are grouped into ranges, and "what would help" is computed from the causes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from allocator.check.rules import (
    asked_nights,
    available_nights,
    closed_places,
    house_budget,
    is_eligible,
    nightly_capacity,
    unavailable_ranges,
)
from allocator.demand import KindShare, demand_dates, fair_shares
from allocator.instance import MAX_STAY, build_instance
from models.categories import NEEDS_NIGHT_WATCH
from models.inputs import Child, House, Pattern, PinKind, UnavailableReason, Wish, WishKind
from models.outputs import Booking
from models.round_input import RoundInput

__all__ = [
    "Cause",
    "CauseRange",
    "ChildExplanation",
    "ShareLine",
    "Suggestion",
    "UnknownChildError",
    "WishStatus",
    "explain_child",
    "explain_children",
    "explain_wishes",
    "format_explanation",
    "format_range",
    "format_wish",
]

FRIDAY, SATURDAY = 4, 5
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: How many ranges a suggestion lists before "and N more".
_SHOW_RANGES = 3
#: How many ranges `format_explanation` lists per child before "... N more".
_SHOW_CAUSE_RANGES = 40

#: The high-demand kinds (`allocator.demand.DEMAND_KINDS`) as a coordinator reads them.
KIND_LABEL: dict[str, str] = {
    "weekend": "Friday/Saturday nights",
    "christmas": "Christmas",
    "easter": "Easter",
    "may17": "17 May",
    "summer": "summer break",
    "winter": "winter break",
    "autumn": "autumn break",
}
#: Nights either side of a fair share that `allocator check` counts as within it.
SHARE_TOLERANCE = 1

_REASON_TEXT: dict[str, str] = {
    UnavailableReason.SOMMERLEIR: "summer camp (sommerleir)",
    UnavailableReason.DAGSOMMERLEIR: "day summer camp (dagsommerleir)",
    UnavailableReason.FERIETILBUD: "holiday trip (ferietilbud)",
    UnavailableReason.FAMILY: "the family's own plans",
    UnavailableReason.OTHER: "another reason",
}


class UnknownChildError(LookupError):
    """The child id is not in the round's children.csv."""


class Cause(StrEnum):
    """Why a child did not get a night, in priority order (the first that applies is primary)."""

    OUTSIDE_VEDTAK = "outside_vedtak"
    UNAVAILABLE = "unavailable"
    FORBIDDEN = "forbidden"
    PATTERN_LIMIT = "pattern_limit"
    ONE_HOUSE_STAY = "one_house_stay"
    NO_PLACE = "no_place"
    HOUSES_FULL = "houses_full"
    ACUTE_RESERVE = "acute_reserve"
    BUDGET = "budget"
    INCOMPATIBLE = "incompatible"
    FREE_NOT_USED = "free_not_used"
    BOOKED_ELSEWHERE = "booked_elsewhere"
    """Wishes only: a free place, but the child's whole grant is booked on other nights."""


#: Short plain-English name of each cause, for counts ("3 nights: every eligible house full").
CAUSE_LABEL: dict[Cause, str] = {
    Cause.OUTSIDE_VEDTAK: "outside the vedtak",
    Cause.UNAVAILABLE: "unavailable",
    Cause.FORBIDDEN: "forbidden by the coordinator",
    Cause.PATTERN_LIMIT: "longest stay of the family's pattern",
    Cause.ONE_HOUSE_STAY: "a stay is in one house",
    Cause.NO_PLACE: "no usable place in any eligible house",
    Cause.HOUSES_FULL: "every eligible house full",
    Cause.ACUTE_RESERVE: "acute reserve",
    Cause.BUDGET: "house budget used up",
    Cause.INCOMPATIBLE: "incompatible child in the free place",
    Cause.FREE_NOT_USED: "free place not used",
    Cause.BOOKED_ELSEWHERE: "grant booked on other nights",
}

#: The causes where the hard rules leave the child no place at all that night.
BLOCKED: frozenset[Cause] = frozenset(
    {
        Cause.NO_PLACE,
        Cause.HOUSES_FULL,
        Cause.ACUTE_RESERVE,
        Cause.BUDGET,
        Cause.INCOMPATIBLE,
    }
)


class _Block(StrEnum):
    """Why one house cannot take the child on one night (in per-house priority order)."""

    CLOSED = "closed"
    FORBIDDEN = "forbidden"
    FULL = "full"
    RESERVE = "reserve"
    BUDGET = "budget"
    INCOMPATIBLE = "incompatible"


_BLOCK_ORDER: tuple[_Block, ...] = tuple(_Block)
#: How close a house is to taking the child: the night's cause follows the closest house.
_RANK: dict[_Block | None, int] = {
    _Block.CLOSED: 0,
    _Block.FORBIDDEN: 0,
    _Block.FULL: 1,
    _Block.RESERVE: 1,
    _Block.BUDGET: 2,
    _Block.INCOMPATIBLE: 3,
    None: 4,
}


# ---------------------------------------------------------------------------------------------
# Public results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CauseRange:
    """Consecutive nights (both ends included) a child did not get, for one cause.

    Attributes
    ----------
    first, last
        The first and last night of the range (a night is named by its evening).
    cause
        The primary cause of every night in the range.
    detail
        Plain words naming the houses, children or reason involved.
    """

    first: dt.date
    last: dt.date
    cause: Cause
    detail: str

    @property
    def nights(self) -> int:
        """Number of nights in the range."""
        return (self.last - self.first).days + 1

    def text(self) -> str:
        """Return e.g. ``"Mon 4 – Wed 6 Jan 2027 (3 nights): every eligible house full ..."``."""
        count = f" ({self.nights} nights)" if self.nights > 1 else ""
        return f"{format_range(self.first, self.last)}{count}: {self.detail}"


@dataclass(frozen=True)
class Suggestion:
    """A change that would help the child, computed from the causes.

    Attributes
    ----------
    kind
        What to change: ``place``, ``acute_reserve``, ``closure``, ``budget``, ``incompatible``,
        ``unavailable``, ``vedtak``, ``pattern``, ``conditional_house``, ``other_house`` or
        ``pin``.
    text
        The suggestion in plain words.
    nights
        Nights it would give the child at most (capped at the shortfall).
    house_id
        The house concerned, if any.
    """

    kind: str
    text: str
    nights: int
    house_id: str | None = None


@dataclass(frozen=True)
class WishStatus:
    """Whether one row of wishes.csv was met, and why not.

    For a want wish, ``nights_total`` counts the wish's nights available to the child (in the
    round, in the vedtak, not unavailable) and ``nights_met`` those booked; it is met when every
    available night is booked (as in the checker's figures). A want wish without any available
    night has ``nights_total == 0`` and is not met. For an avoid wish, ``nights_met`` counts the
    available nights left free; it is met when none of its nights is booked.

    Attributes
    ----------
    child_id, kind, from_, to, weight
        The wish row.
    met
        Whether the wish was met.
    nights_met, nights_total
        See above.
    reason
        Plain words why the wish was not met (``None`` when met).
    ranges
        Want wishes: the nights not booked, grouped by cause.
    booked
        Avoid wishes: the nights booked anyway.
    """

    child_id: str
    kind: WishKind
    from_: dt.date
    to: dt.date
    weight: int
    met: bool
    nights_met: int
    nights_total: int
    reason: str | None = None
    ranges: tuple[CauseRange, ...] = ()
    booked: tuple[dt.date, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the status as JSON-friendly plain types (for summary.json)."""
        return {
            "child_id": self.child_id,
            "kind": str(self.kind),
            "from": self.from_.isoformat(),
            "to": self.to.isoformat(),
            "weight": self.weight,
            "met": self.met,
            "nights_met": self.nights_met,
            "nights_total": self.nights_total,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ShareLine:
    """The family's nights of one high-demand kind against its fair share this round (the
    share as `allocator check` measures it: `allocator.demand.fair_shares`)."""

    kind: str
    got: int
    share: float
    asked: int
    """Of ``got``, nights inside one of the family's own want-wishes."""

    @property
    def deviation(self) -> float:
        return self.got - self.share

    def text(self) -> str:
        label = KIND_LABEL.get(self.kind, self.kind)
        head = f"{label}: {_plural(self.got, 'night')}, fair share {self.share:.1f}"
        if abs(self.deviation) <= SHARE_TOLERANCE:
            return f"{head}: within ±{SHARE_TOLERANCE}"
        if self.deviation < 0:
            return f"{head}: {-self.deviation:.1f} below"
        asked = f" ({self.asked} of them asked for)" if self.asked else ""
        return f"{head}: {self.deviation:.1f} over{asked}"


@dataclass(frozen=True)
class ChildExplanation:
    """Why a child got the nights it got.

    Attributes
    ----------
    child_id, category, level, pattern, home_house
        From children.csv.
    granted
        Nights granted for this round.
    available
        Nights the child may be in respite (in the round, in its vedtak, not unavailable).
    reachable
        ``min(granted, available)``: what the child can get at most.
    allocated
        Distinct nights booked in the plan.
    houses
        House id → nights booked there.
    ranges
        Every night of the round the child did not get, grouped by cause, in date order (empty
        when the child got its whole grant).
    cause_nights
        Cause → nights, over ``ranges``.
    suggestions
        What would help, most nights first (empty when the child got its whole grant).
    wishes
        The status of every wish of this child.
    house_names
        House id → name, for the houses named in the explanation.
    shares
        The family's nights of each high-demand kind against its fair share (none for a
        barnebolig resident or a child with no grant).
    """

    child_id: str
    category: str
    level: int
    pattern: Pattern
    home_house: str | None
    granted: int
    available: int
    reachable: int
    allocated: int
    houses: dict[str, int]
    ranges: tuple[CauseRange, ...] = ()
    cause_nights: dict[Cause, int] = field(default_factory=dict)
    suggestions: tuple[Suggestion, ...] = ()
    wishes: tuple[WishStatus, ...] = ()
    house_names: dict[str, str] = field(default_factory=dict)
    shares: tuple[ShareLine, ...] = ()

    @property
    def shortfall(self) -> int:
        """Granted nights not booked (0 when the whole grant is booked)."""
        return max(0, self.granted - self.allocated)

    @property
    def fully_served(self) -> bool:
        """Whether the child got every granted night."""
        return self.allocated >= self.granted

    @property
    def causes(self) -> set[Cause]:
        """The causes named in the explanation."""
        return {r.cause for r in self.ranges}

    def summary(self) -> str:
        """Return one plain sentence: granted, available, booked and the shortfall."""
        where = ", ".join(
            f"{self.house_names.get(h, h)} {n}" for h, n in sorted(self.houses.items())
        )
        booked = f"booked {self.allocated}" + (f" ({where})" if where else "")
        if self.fully_served:
            return (
                f"{self.child_id} got all {self.granted} granted nights"
                + (f" ({where})" if where else "")
                + "."
            )
        line = f"{self.child_id}: granted {self.granted} nights, {self.available} available"
        if self.available < self.granted:
            line += f" (so at most {self.reachable} can be booked)"
        return f"{line}, {booked}: {self.shortfall} short of the grant."


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------


def _day(d: dt.date, *, month: bool = True, year: bool = True) -> str:
    text = f"{_WEEKDAYS[d.weekday()]} {d.day}"
    if month:
        text += f" {_MONTHS[d.month - 1]}"
    if year:
        text += f" {d.year}"
    return text


def format_range(first: dt.date, last: dt.date) -> str:
    """Return a night range in plain English.

    Examples: ``Fri 8 Jan 2027``, ``Mon 4 – Wed 6 Jan 2027``, ``Sat 30 Jan – Tue 2 Feb 2027``,
    ``Wed 30 Dec 2026 – Sat 2 Jan 2027``.
    """
    if first == last:
        return _day(first)
    if first.year != last.year:
        return f"{_day(first)} – {_day(last)}"
    if first.month != last.month:
        return f"{_day(first, year=False)} – {_day(last)}"
    return f"{_day(first, month=False, year=False)} – {_day(last)}"


def _runs(nights: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Group nights into maximal runs of consecutive nights."""
    runs: list[tuple[dt.date, dt.date]] = []
    for night in sorted(set(nights)):
        if runs and night == runs[-1][1] + dt.timedelta(days=1):
            runs[-1] = (runs[-1][0], night)
        else:
            runs.append((night, night))
    return runs


def _ranges_text(nights: Iterable[dt.date]) -> str:
    runs = _runs(nights)
    shown = ", ".join(format_range(a, b) for a, b in runs[:_SHOW_RANGES])
    if len(runs) > _SHOW_RANGES:
        shown += f" and {len(runs) - _SHOW_RANGES} more"
    return shown


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _house_label(house: House) -> str:
    """The house's name, without a trailing "avlastningsbolig" (e.g. "Vestlund")."""
    name = house.name.strip()
    suffix = " avlastningsbolig"
    if name.lower().endswith(suffix) and len(name) > len(suffix):
        return name[: -len(suffix)].strip()
    return name


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------------------------
# The plan as seen from one child and night
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _HouseState:
    """One house as seen by one child on one night."""

    house: House
    blocks: frozenset[_Block]
    others: int
    """Other children in the house that night."""
    raw: int
    """Places minus closed places (before the acute reserve)."""
    cap: int
    """Rule R2's capacity: places − closed − acute reserve."""
    closed: int
    partners: tuple[str, ...]
    """Incompatible children booked in the house that night."""
    used: int
    budget: int | None

    @property
    def status(self) -> _Block | None:
        """The first block in per-house priority order, or ``None`` when the house is free."""
        return next((b for b in _BLOCK_ORDER if b in self.blocks), None)

    @property
    def label(self) -> str:
        return _house_label(self.house)

    def phrase(self) -> str:
        """A short phrase for this house's state, e.g. "Vestlund full"."""
        status = self.status
        name = self.label
        if status is _Block.CLOSED:
            if self.house.places == 0:
                return f"{name} has no places"
            return f"{name} closed (closures.csv)"
        if status is _Block.FORBIDDEN:
            return f"{name} forbidden for this child (pins.csv)"
        if status is _Block.FULL:
            closed = f", {_plural(self.closed, 'place')} closed" if self.closed else ""
            return f"{name} full ({self.others} of {self.raw} places taken{closed})"
        if status is _Block.RESERVE:
            return f"{name} full but for the acute reserve"
        if status is _Block.BUDGET:
            return f"{name}'s budget used up ({self.used} of {self.budget} nights)"
        if status is _Block.INCOMPATIBLE:
            return f"{name} has incompatible {_join(self.partners)}"
        return f"{name} has a free place"


@dataclass(frozen=True)
class _Verdict:
    """The primary cause of one night a child did not get, with the houses judged."""

    night: dt.date
    cause: Cause
    detail: str
    states: tuple[_HouseState, ...] = ()
    """The houses judged that night (after the one-house-stay restriction)."""
    reason: str | None = None
    """For unavailable nights: the reason value (sommerleir, family, ...)."""


class _PlanView:
    """Indexes of a plan for fast questions: who is where, what is used, what a child may use."""

    def __init__(self, inp: RoundInput, bookings: Sequence[Booking]) -> None:
        self.inp = inp
        start, end = inp.config.start, inp.config.end
        known = [
            b
            for b in dict.fromkeys(bookings)
            if inp.has_child(b.child_id) and inp.has_house(b.house_id) and start <= b.night <= end
        ]
        self.where: dict[str, dict[dt.date, str]] = defaultdict(dict)
        self.occupants: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
        self.used: Counter[str] = Counter()
        for b in known:
            self.where[b.child_id][b.night] = b.house_id
            self.occupants[(b.house_id, b.night)].add(b.child_id)
            self.used[b.house_id] += 1
        self.allocated: Counter[str] = Counter(b.child_id for b in known)
        self.partners: dict[str, set[str]] = defaultdict(set)
        for pair in inp.incompatible:
            self.partners[pair.child_a].add(pair.child_b)
            self.partners[pair.child_b].add(pair.child_a)
        self.unavailable = unavailable_ranges(inp)
        self.budgets = {h.house_id: house_budget(inp, h) for h in inp.houses}
        self._offered: dict[str, frozenset[str]] | None = None
        self._available: dict[str, list[dt.date]] = {}
        self._known = known
        self._shares: dict[str, dict[str, KindShare]] | None = None
        self._kind_dates: dict[str, set[dt.date]] = {}
        self._asked: dict[str, set[dt.date]] = {}

    # -- per child -----------------------------------------------------------------------------

    def available(self, child: Child) -> list[dt.date]:
        if child.child_id not in self._available:
            self._available[child.child_id] = available_nights(self.inp, child, self.unavailable)
        return self._available[child.child_id]

    def shares(self, child: Child) -> tuple[ShareLine, ...]:
        """The child's nights of each high-demand kind against its fair share."""
        if self._shares is None:
            self._shares = fair_shares(self.inp, self._known)
            self._kind_dates = demand_dates(self.inp.nights, self.inp.calendar)
            self._asked = asked_nights(self.inp)
        got_asked = self.where.get(child.child_id, {}).keys() & self._asked.get(
            child.child_id, set()
        )
        return tuple(
            ShareLine(kind, share.got, share.share, len(got_asked & self._kind_dates[kind]))
            for kind, share in self._shares.get(child.child_id, {}).items()
        )

    def eligible(self, child: Child) -> list[House]:
        return [h for h in self.inp.houses if is_eligible(child, h)]

    def offered(self, child_id: str) -> frozenset[str]:
        """The houses the model offers the child (home, pinned and best-fitting others)."""
        if self._offered is None:
            inst = build_instance(self.inp)
            self._offered = {
                c.child_id: frozenset(inst.houses[h].house_id for h in c.candidates)
                for c in inst.children
            }
        return self._offered.get(child_id, frozenset())

    def forbidden(self, child: Child, night: dt.date) -> set[str | None]:
        """House ids forbidden to the child that night (``None``: every house)."""
        found: set[str | None] = set()
        for pin in self.inp.pins:
            if (
                pin.child_id == child.child_id
                and pin.kind is PinKind.FORBID
                and pin.contains(night)
            ):
                found.add(pin.house_id)
        return found

    def run(self, child_id: str, night: dt.date, step: int) -> int:
        """Consecutive nights booked from ``night + step`` onwards in direction ``step``."""
        own = self.where.get(child_id, {})
        count = 0
        cursor = night + dt.timedelta(days=step)
        while cursor in own:
            count += 1
            cursor += dt.timedelta(days=step)
        return count

    # -- per house and night -------------------------------------------------------------------

    def state(self, child: Child, house: House, night: dt.date) -> _HouseState:
        """Judge whether ``house`` could take ``child`` on ``night`` under rules R2, R3, R6, R7."""
        blocks: set[_Block] = set()
        closed = closed_places(self.inp, house.house_id, night)
        raw = max(0, house.places - closed)
        cap = nightly_capacity(self.inp, house, night)
        occupants = self.occupants.get((house.house_id, night), set()) - {child.child_id}
        others = len(occupants)
        if raw <= 0:
            blocks.add(_Block.CLOSED)
        if house.house_id in self.forbidden(child, night):
            blocks.add(_Block.FORBIDDEN)
        if raw > 0 and others >= raw:
            blocks.add(_Block.FULL)
        elif raw > 0 and others >= cap:
            blocks.add(_Block.RESERVE)
        budget = self.budgets[house.house_id]
        used = self.used[house.house_id]
        if budget is not None and used >= budget:
            blocks.add(_Block.BUDGET)
        partners = tuple(sorted(occupants & self.partners.get(child.child_id, set())))
        if partners:
            blocks.add(_Block.INCOMPATIBLE)
        return _HouseState(
            house=house,
            blocks=frozenset(blocks),
            others=others,
            raw=raw,
            cap=cap,
            closed=closed,
            partners=partners,
            used=used,
            budget=budget,
        )

    def states(
        self, child: Child, night: dt.date, houses: Sequence[House]
    ) -> tuple[_HouseState, ...]:
        return tuple(self.state(child, h, night) for h in houses)

    # -- the classification --------------------------------------------------------------------

    def verdict(self, child: Child, night: dt.date) -> _Verdict:
        """The primary cause why ``child`` is not booked on ``night`` (see the module doc)."""
        if not child.vedtak_from <= night <= child.vedtak_to:
            span = format_range(child.vedtak_from, child.vedtak_to)
            side = "before the vedtak starts" if night < child.vedtak_from else "after it ends"
            return _Verdict(night, Cause.OUTSIDE_VEDTAK, f"outside the vedtak ({side}; {span})")
        for row in self.inp.unavailable:
            if row.child_id == child.child_id and row.contains(night):
                text = _REASON_TEXT.get(row.reason, str(row.reason))
                return _Verdict(
                    night, Cause.UNAVAILABLE, f"unavailable: {text}", reason=str(row.reason)
                )
        forbidden = self.forbidden(child, night)
        if None in forbidden:
            return _Verdict(
                night, Cause.FORBIDDEN, "forbidden by the coordinator (pins.csv, every house)"
            )
        eligible = self.eligible(child)
        own = self.where.get(child.child_id, {})
        before, after = self.run(child.child_id, night, -1), self.run(child.child_id, night, 1)
        if child.level != 6 and before + 1 + after > MAX_STAY[child.pattern]:
            limit = MAX_STAY[child.pattern]
            house_id = own.get(night - dt.timedelta(days=1)) or own[night + dt.timedelta(days=1)]
            side = (
                "between two stays"
                if before and after
                else ("right after a stay" if before else "right before a stay")
            )
            return _Verdict(
                night,
                Cause.PATTERN_LIMIT,
                f"{side} in {_house_label(self.inp.house(house_id))}: booking it would make "
                f"{_a(before + 1 + after)}-night stay, longer than the {limit} nights in a row "
                f"the family's pattern ({child.pattern}) allows",
                self.states(child, night, eligible),
            )
        neighbours = [
            h
            for h in (own.get(night - dt.timedelta(days=1)), own.get(night + dt.timedelta(days=1)))
            if h is not None
        ]
        if len(set(neighbours)) == 2:
            a, b = (_house_label(self.inp.house(h)) for h in neighbours)
            return _Verdict(
                night,
                Cause.ONE_HOUSE_STAY,
                f"between a stay in {a} and a stay in {b}: a stay is in one house, so the two "
                "cannot be joined",
                self.states(child, night, eligible),
            )
        if not eligible:
            return _Verdict(night, Cause.NO_PLACE, _no_house_text(child))
        states = self.states(child, night, eligible)
        continues = ""
        if neighbours and any(h.house_id == neighbours[0] for h in eligible):
            # A stay is in one house: only the house of the stay around the night can take it.
            # When another eligible house is no better, every house explains the night; else
            # judge the stay's house alone and say why.
            kept = tuple(s for s in states if s.house.house_id == neighbours[0])
            if max(_RANK[s.status] for s in states) > _RANK[kept[0].status]:
                continues = (
                    f" (the stay around this night is in {kept[0].label}, and a stay is in "
                    "one house)"
                )
                states = kept
        return self._by_houses(child, night, states, continues, only=len(eligible) == 1)

    def _by_houses(
        self,
        child: Child,
        night: dt.date,
        states: tuple[_HouseState, ...],
        continues: str,
        *,
        only: bool,
    ) -> _Verdict:
        best = max(_RANK[s.status] for s in states)
        if best == 0:
            if any(s.status is _Block.FORBIDDEN for s in states) and all(
                _Block.FORBIDDEN in s.blocks or s.status is _Block.CLOSED for s in states
            ):
                cause = Cause.FORBIDDEN
                head = "every eligible house is closed or forbidden"
            else:
                cause = Cause.NO_PLACE
                head = "no eligible house has a usable place"
            detail = f"{head}: {_join([s.phrase() for s in states])}"
            return _Verdict(night, cause, detail + continues, states)
        top = [s for s in states if _RANK[s.status] == best]
        rest = [s for s in states if _RANK[s.status] != best]
        others = f" ({_join([s.phrase() for s in rest])})" if rest else ""
        if best == 1:
            reserve = [s for s in top if s.status is _Block.RESERVE]
            if reserve:
                full = [s for s in top if s.status is _Block.FULL]
                rest = full + rest
                others = f" ({_join([s.phrase() for s in rest])})" if rest else ""
                return _Verdict(
                    night, Cause.ACUTE_RESERVE, _reserve_text(reserve) + others + continues, states
                )
            names = _join([s.label for s in top])
            every = (
                "every eligible house"
                if len(states) > 1
                else ("the only eligible house" if only else "the house")
            )
            closed = [s for s in top if s.closed]
            note = (
                " ("
                + _join([f"{_plural(s.closed, 'place')} closed in {s.label}" for s in closed])
                + ")"
                if closed
                else ""
            )
            return _Verdict(
                night,
                Cause.HOUSES_FULL,
                f"{every} full with other children: {names}{note}{others}{continues}",
                states,
            )
        if best == 2:
            parts = [f"{s.label} ({s.used} of {s.budget} nights)" for s in top]
            npy = sorted({s.house.nights_per_place_year for s in top})
            budget = f"{'/'.join(str(n) for n in npy)}-night budget"
            return _Verdict(
                night,
                Cause.BUDGET,
                f"the {budget} (places × {npy[0]} × nights / 365) is used up in "
                f"{_join(parts)}{others}{continues}",
                states,
            )
        if best == 3:
            parts = [f"{s.label}, where incompatible {_join(s.partners)} sleeps" for s in top]
            lead = "the only free place is in" if len(top) == 1 else "the only free places are in"
            return _Verdict(
                night, Cause.INCOMPATIBLE, f"{lead} {'; '.join(parts)}{others}{continues}", states
            )
        return self._free(child, night, states, top, continues)

    def _free(
        self,
        child: Child,
        night: dt.date,
        states: tuple[_HouseState, ...],
        free: list[_HouseState],
        continues: str,
    ) -> _Verdict:
        names = _join([s.label for s in free])
        if self.allocated[child.child_id] >= child.granted_nights:
            return _Verdict(
                night,
                Cause.BOOKED_ELSEWHERE,
                f"a place was free in {names}, but all {child.granted_nights} granted nights are "
                "booked elsewhere in the half-year to keep stays in the family's pattern",
                states,
            )
        offered = self.offered(child.child_id)
        if not any(s.house.house_id in offered for s in free):
            why = []
            for s in free:
                if child.category in s.house.conditional_categories:
                    why.append(f"{s.label} takes category {child.category} only conditionally")
                else:
                    why.append(f"{s.label} is not among this child's best-fitting houses")
            hint = (
                f" ({_join(why)}, and the model offers each child its home house and the "
                "best-fitting others, at most 3)"
            )
        elif child.pattern is Pattern.WEEKEND and night.weekday() not in (FRIDAY, SATURDAY):
            hint = " (not a Friday or Saturday night, and the family's pattern is weekend)"
        elif child.pattern is Pattern.WEEKDAYS and night.weekday() in (FRIDAY, SATURDAY):
            hint = " (a weekend night, and the family's pattern is weekdays)"
        else:
            hint = " (the optimiser chose so: stay shape, the family's rhythm or fairness)"
        return _Verdict(
            night, Cause.FREE_NOT_USED, f"free place in {names} not used{hint}{continues}", states
        )


def _a(n: int) -> str:
    """The article and number: "a 3", "an 8", "an 11", "an 18", "an 80"."""
    return f"an {n}" if str(n).startswith("8") or n in (11, 18) else f"a {n}"


def _reserve_text(reserve: Sequence[_HouseState]) -> str:
    """E.g. "acute reserve in Vadmyra and Vestlund held the only free place in each"."""
    frees = {s.raw - s.others for s in reserve}
    names = _join([s.label for s in reserve])
    if frees == {1}:
        each = "" if len(reserve) == 1 else " in each"
        return f"acute reserve in {names} held the only free place{each}"
    parts = [
        f"acute reserve in {s.label} held "
        + (
            "the only free place"
            if s.raw - s.others == 1
            else f"the {s.raw - s.others} free places"
        )
        for s in reserve
    ]
    return _join(parts)


def _no_house_text(child: Child) -> str:
    watch = " with night watch" if child.category in NEEDS_NIGHT_WATCH else ""
    kind = "barnebolig" if child.level == 6 else "respite house"
    return f"no {kind} accepts category {child.category}{watch}"


def _group(verdicts: Sequence[_Verdict]) -> list[CauseRange]:
    """Group consecutive nights with the same cause and wording into ranges."""
    ranges: list[CauseRange] = []
    for v in sorted(verdicts, key=lambda v: v.night):
        last = ranges[-1] if ranges else None
        if (
            last is not None
            and last.cause is v.cause
            and last.detail == v.detail
            and v.night == last.last + dt.timedelta(days=1)
        ):
            ranges[-1] = CauseRange(last.first, v.night, v.cause, v.detail)
        else:
            ranges.append(CauseRange(v.night, v.night, v.cause, v.detail))
    return ranges


# ---------------------------------------------------------------------------------------------
# What would help
# ---------------------------------------------------------------------------------------------


def _only(state: _HouseState, block: _Block) -> bool:
    return state.blocks == frozenset({block})


def _suggestions(
    view: _PlanView, child: Child, verdicts: Sequence[_Verdict], shortfall: int
) -> list[Suggestion]:
    """Concrete changes that would give the child nights, each capped at the shortfall.

    In the texts, ``{nights}`` becomes e.g. "3 nights", ``{candidates}`` "3 candidate nights"
    and ``{ranges}`` the nights concerned as ranges.
    """
    found: list[Suggestion] = []

    def add(kind: str, nights: Iterable[dt.date], text: str, house_id: str | None = None) -> None:
        ordered = sorted(set(nights))
        if not ordered:
            return
        gain = min(len(ordered), shortfall)
        words = {
            "nights": _plural(gain, "night"),
            "candidates": _plural(gain, "candidate night"),
            "ranges": _ranges_text(ordered),
        }
        found.append(Suggestion(kind, text.format(**words), gain, house_id))

    def name(house_id: str) -> str:
        return _house_label(view.inp.house(house_id))

    # Nights where the hard rules leave no place: what single change opens one.
    only: dict[tuple[str, str], list[dt.date]] = defaultdict(list)
    pair_nights: dict[tuple[str, str], list[dt.date]] = defaultdict(list)
    for v in verdicts:
        if v.cause not in BLOCKED:
            continue
        for st in v.states:
            hid = st.house.house_id
            if _only(st, _Block.FULL):
                only[("place", hid)].append(v.night)
            elif _only(st, _Block.RESERVE):
                only[("acute_reserve", hid)].append(v.night)
            elif _only(st, _Block.BUDGET):
                only[("budget", hid)].append(v.night)
            elif _only(st, _Block.CLOSED) and st.closed > 0 and st.others < st.cap + 1:
                only[("closure", hid)].append(v.night)
            elif _only(st, _Block.INCOMPATIBLE):
                for partner in st.partners:
                    pair_nights[(hid, partner)].append(v.night)
    # One more place in any of several houses full on the same nights: one suggestion.
    same_nights: dict[tuple[dt.date, ...], list[str]] = defaultdict(list)
    for (kind, hid), nights in only.items():
        if kind == "place":
            same_nights[tuple(sorted(set(nights)))].append(hid)
    for nights_key, hids in same_nights.items():
        where = name(hids[0]) if len(hids) == 1 else "any of " + _join([name(h) for h in hids])
        add(
            "place",
            nights_key,
            f"1 more place in {where} on {{ranges}} would give {{nights}}",
            hids[0] if len(hids) == 1 else None,
        )
    for (kind, hid), nights in only.items():
        if kind == "acute_reserve":
            text = f"lifting the acute reserve in {name(hid)} would free {{nights}} for this child"
            add(kind, nights, text + " ({ranges})", hid)
        elif kind == "budget":
            text = (
                f"raising {name(hid)}'s budget of nights (or moving other children's nights out "
                "of it) would give {nights} ({ranges})"
            )
            add(kind, nights, text, hid)
        elif kind == "closure":
            text = f"keeping 1 closed place in {name(hid)} open on {{ranges}} would give {{nights}}"
            add(kind, nights, text, hid)
    for (hid, partner), nights in pair_nights.items():
        add(
            "incompatible",
            nights,
            f"moving {partner} (incompatible with {child.child_id}) out of {name(hid)} on "
            "{ranges} would give {nights}",
            hid,
        )

    # Nights the child cannot take although a place was free.
    def has_room(v: _Verdict) -> bool:
        states = v.states or view.states(child, v.night, view.eligible(child))
        return any(not st.blocks for st in states)

    by_reason: dict[str, list[_Verdict]] = defaultdict(list)
    for v in verdicts:
        if v.cause is Cause.UNAVAILABLE and v.reason is not None:
            by_reason[v.reason].append(v)
    short_of_available = len(view.available(child)) < child.granted_nights
    for reason, vs in by_reason.items():
        roomy = [v.night for v in vs if has_room(v)]
        if not roomy and not short_of_available:
            continue
        text = _REASON_TEXT.get(reason, reason)
        room = f", {len(roomy)} of them with a free place" if roomy else ""
        if child.level == 6:
            move = "a barnebolig resident lives there every available night, so the grant counts "
            move += "nights the child is away: it could be lowered to the available nights"
        elif reason in (UnavailableReason.SOMMERLEIR, UnavailableReason.DAGSOMMERLEIR):
            move = "the grant could be moved to other dates"
        else:
            move = "the grant could be moved to other dates, or the dates agreed again"
        found.append(
            Suggestion(
                "unavailable",
                f"{_plural(len(vs), 'night')} fell on {text} ({_ranges_text(v.night for v in vs)})"
                f"{room}: {move}",
                min(len(roomy or vs), shortfall),
            )
        )
    roomy_outside = [v.night for v in verdicts if v.cause is Cause.OUTSIDE_VEDTAK and has_room(v)]
    if roomy_outside and short_of_available:
        add(
            "vedtak",
            roomy_outside,
            f"the vedtak covers only {format_range(child.vedtak_from, child.vedtak_to)}: "
            "extending it would add up to {nights} with a free place ({ranges})",
        )
    pattern = [v.night for v in verdicts if v.cause is Cause.PATTERN_LIMIT and has_room(v)]
    if pattern:
        add(
            "pattern",
            pattern,
            f"stays longer than {MAX_STAY[child.pattern]} nights (the longest the family's "
            f"pattern, {child.pattern}, allows) would add up to {{nights}} next to the child's "
            "stays, where a place was free ({ranges})",
        )

    # Free places the model did not offer, or did not use.
    offered = view.offered(child.child_id)
    not_offered: dict[str, list[dt.date]] = defaultdict(list)
    unused: list[dt.date] = []
    for v in verdicts:
        if v.cause is not Cause.FREE_NOT_USED:
            continue
        free = [st for st in v.states if not st.blocks]
        if any(st.house.house_id in offered for st in free):
            unused.append(v.night)
        else:
            for st in free:
                not_offered[st.house.house_id].append(v.night)
    for hid, nights in not_offered.items():
        if child.category in view.inp.house(hid).conditional_categories:
            text = (
                f"allowing a conditional house ({name(hid)}, category ({child.category})) would "
                "add {candidates} ({ranges})"
            )
            add("conditional_house", nights, text, hid)
        else:
            text = (
                f"offering {name(hid)} to this child (not among its best-fitting houses) would "
                "add {candidates} ({ranges})"
            )
            add("other_house", nights, text, hid)
    if unused:
        add(
            "pin",
            unused,
            "the hard rules leave room for up to {nights} more on {ranges}: a coordinator can "
            "pin them (pins.csv), or re-plan with a longer time limit",
        )
    found.sort(key=lambda sg: (-sg.nights, sg.kind, sg.text))
    return found


# ---------------------------------------------------------------------------------------------
# Wishes
# ---------------------------------------------------------------------------------------------


def _wish_status(view: _PlanView, wish_row: Wish, child: Child) -> WishStatus:
    """Judge one wish row of a known child."""
    inp = view.inp
    own = view.where.get(child.child_id, {})
    available = set(view.available(child))
    in_round = [n for n in wish_row.nights() if inp.config.start <= n <= inp.config.end]
    nights = [n for n in in_round if n in available]
    base = WishStatus(
        child_id=child.child_id,
        kind=wish_row.kind,
        from_=wish_row.from_,
        to=wish_row.to,
        weight=wish_row.weight,
        met=True,
        nights_met=0,
        nights_total=len(nights),
    )
    if wish_row.kind is WishKind.WANT:
        booked = [n for n in nights if n in own]
        missing = [n for n in in_round if n not in own]
        ranges = _group([view.verdict(child, n) for n in missing])
        met = bool(nights) and len(booked) == len(nights)
        reason = None
        if not met:
            parts = [r.text() for r in ranges]
            outside = len(wish_row.nights()) - len(in_round)
            if outside:
                parts.append(
                    f"{_plural(outside, 'night')} outside the round "
                    f"({format_range(inp.config.start, inp.config.end)})"
                )
            head = (
                "no night of the wish is available to the child"
                if not nights
                else f"{len(booked)} of {_plural(len(nights), 'available night')} booked"
            )
            reason = f"{head}; " + "; ".join(parts) if parts else head
        return replace(
            base,
            met=met,
            nights_met=len(booked),
            reason=reason,
            ranges=() if met else tuple(ranges),
        )
    booked_avoid = sorted(n for n in in_round if n in own)
    left_free = sum(1 for n in nights if n not in own)
    if not booked_avoid:
        return replace(base, nights_met=left_free)
    return replace(
        base,
        met=False,
        nights_met=left_free,
        reason=f"booked anyway on {_ranges_text(booked_avoid)}: "
        + _avoid_reason(view, child, available),
        booked=tuple(booked_avoid),
    )


def _avoid_reason(view: _PlanView, child: Child, available: set[dt.date]) -> str:
    """Why the plan books a child on nights its family asked to avoid."""
    if child.level == 6:
        return "a barnebolig resident lives there every available night (rule R4)"
    avoid: set[dt.date] = set()
    for w in view.inp.wishes:
        if w.child_id == child.child_id and w.kind is WishKind.AVOID:
            avoid.update(n for n in w.nights() if n in available)
    outside_avoid = sorted(available - avoid)
    if len(outside_avoid) < child.granted_nights:
        return (
            f"the grant needs them: only {_plural(len(outside_avoid), 'available night')} lie "
            f"outside the avoid-dates for {child.granted_nights} granted, and nights given weigh "
            "more than avoid-dates"
        )
    own = view.where.get(child.child_id, {})
    offered = view.offered(child.child_id)
    free: list[dt.date] = []
    blocked: Counter[str] = Counter()
    for night in outside_avoid:
        if night in own:
            continue
        v = view.verdict(child, night)
        if v.cause in (Cause.FREE_NOT_USED, Cause.BOOKED_ELSEWHERE):
            if any(not s.blocks and s.house.house_id in offered for s in v.states):
                free.append(night)
            else:
                blocked["free only in houses not offered to the child"] += 1
        else:
            blocked[CAUSE_LABEL[v.cause]] += 1
    if free:
        return (
            f"other nights had a free place ({_ranges_text(free)}), but the optimiser kept these "
            "to hold the stays in the family's pattern (stay shape or fairness)"
        )
    listed = ", ".join(f"{n} {label}" for label, n in blocked.most_common())
    return (
        "every other available night was booked already or blocked"
        + (f" ({listed})" if listed else "")
        + ", and a night given weighs more than an avoid-date"
    )


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def _explain(view: _PlanView, child: Child) -> ChildExplanation:
    inp = view.inp
    own = view.where.get(child.child_id, {})
    houses = Counter(own.values())
    available = len(view.available(child))
    allocated = view.allocated[child.child_id]
    wishes = tuple(_wish_status(view, w, child) for w in inp.wishes if w.child_id == child.child_id)
    ranges: list[CauseRange] = []
    suggestions: list[Suggestion] = []
    if allocated < child.granted_nights:
        verdicts = [view.verdict(child, n) for n in inp.nights if n not in own]
        ranges = _group(verdicts)
        suggestions = _suggestions(view, child, verdicts, child.granted_nights - allocated)
    cause_nights: Counter[Cause] = Counter()
    for r in ranges:
        cause_nights[r.cause] += r.nights
    return ChildExplanation(
        child_id=child.child_id,
        category=child.category,
        level=child.level,
        pattern=child.pattern,
        home_house=child.home_house,
        granted=child.granted_nights,
        available=available,
        reachable=min(child.granted_nights, available),
        allocated=allocated,
        houses=dict(houses),
        ranges=tuple(ranges),
        cause_nights=dict(cause_nights),
        suggestions=tuple(suggestions),
        wishes=wishes,
        house_names={h.house_id: _house_label(h) for h in inp.houses},
        shares=view.shares(child),
    )


def explain_child(inp: RoundInput, bookings: Sequence[Booking], child_id: str) -> ChildExplanation:
    """Explain one child's nights in a plan.

    Parameters
    ----------
    inp
        The round's input.
    bookings
        The plan (one `Booking` per bed-night), e.g. from `allocator.io.bookings.read_bookings`.
        Rows naming an unknown child or house or a night outside the round are ignored.
    child_id
        The child to explain.

    Returns
    -------
    ChildExplanation
        Granted, available, reachable and booked nights; when the child got fewer nights than
        granted, every night of the round it did not get grouped by primary cause, and what would
        help; and the status of each of its wishes.

    Raises
    ------
    UnknownChildError
        If ``child_id`` is not a child of the round.
    """
    if not inp.has_child(child_id):
        raise UnknownChildError(f"unknown child {child_id!r}: not in the round's children.csv")
    return _explain(_PlanView(inp, bookings), inp.child(child_id))


def explain_children(
    inp: RoundInput, bookings: Sequence[Booking], child_ids: Iterable[str] | None = None
) -> list[ChildExplanation]:
    """Explain several children at once (sharing the plan's indexes).

    Parameters
    ----------
    inp
        The round's input.
    bookings
        The plan.
    child_ids
        The children to explain; by default every child booked fewer nights than granted.

    Returns
    -------
    list of ChildExplanation
        In the order of ``child_ids`` (default: children.csv order).

    Raises
    ------
    UnknownChildError
        If a given id is not a child of the round.
    """
    view = _PlanView(inp, bookings)
    if child_ids is None:
        ids = [c.child_id for c in inp.children if view.allocated[c.child_id] < c.granted_nights]
    else:
        ids = list(child_ids)
    for child_id in ids:
        if not inp.has_child(child_id):
            raise UnknownChildError(f"unknown child {child_id!r}: not in the round's children.csv")
    return [_explain(view, inp.child(child_id)) for child_id in ids]


def explain_wishes(inp: RoundInput, bookings: Sequence[Booking]) -> list[WishStatus]:
    """Judge every row of wishes.csv against a plan.

    Parameters
    ----------
    inp
        The round's input.
    bookings
        The plan.

    Returns
    -------
    list of WishStatus
        One per wish row of a known child, in wishes.csv order; each unmet one with its reason in
        plain words (`WishStatus.to_dict` gives JSON for summary.json).
    """
    view = _PlanView(inp, bookings)
    return [
        _wish_status(view, w, inp.child(w.child_id))
        for w in inp.wishes
        if inp.has_child(w.child_id)
    ]


def format_wish(w: WishStatus) -> str:
    """Return one wish's status as one or more readable lines."""
    head = (
        f"{w.kind} {format_range(w.from_, w.to)} (weight {w.weight}): "
        + ("met" if w.met else "not met")
        + f", {w.nights_met} of {_plural(w.nights_total, 'night')}"
        + (" booked" if w.kind is WishKind.WANT else " kept free")
    )
    if w.met or w.reason is None:
        return head
    if w.kind is WishKind.WANT and w.ranges:
        return "\n".join([head, *(f"      {r.text()}" for r in w.ranges)])
    return f"{head}\n      {w.reason}"


def format_explanation(e: ChildExplanation) -> str:
    """Return the explanation as readable text for a coordinator.

    Parameters
    ----------
    e
        The explanation from `explain_child`.

    Returns
    -------
    str
        A heading, the summary sentence, the nights not booked by cause (counts, then ranges),
        what would help, and the family's wishes.
    """
    home = e.house_names.get(e.home_house, e.home_house) if e.home_house else "none"
    lines = [
        f"Child {e.child_id} (category {e.category}, level {e.level}, pattern {e.pattern}, "
        f"home house {home})",
        e.summary(),
    ]
    if not e.fully_served:
        total = sum(e.cause_nights.values())
        lines += ["", f"Why the other {_plural(total, 'night')} of the round were not booked:"]
        for cause, n in sorted(e.cause_nights.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {n:>4}  {CAUSE_LABEL[cause]}")
        lines.append("")
        for r in e.ranges[:_SHOW_CAUSE_RANGES]:
            lines.append(f"  - {r.text()}")
        if len(e.ranges) > _SHOW_CAUSE_RANGES:
            lines.append(f"  ... {len(e.ranges) - _SHOW_CAUSE_RANGES} more ranges")
        lines += ["", "What would help:"]
        if e.suggestions:
            lines += [f"  - {s.text}" for s in e.suggestions]
        else:
            lines.append("  - no single change found in this round's houses and dates")
    if e.shares:
        lines += ["", "Weekends and holidays against the family's fair share this round:"]
        lines += [f"  - {line.text()}" for line in e.shares]
    unmet = [w for w in e.wishes if not w.met]
    if e.wishes:
        lines += ["", f"Wishes: {len(e.wishes) - len(unmet)} of {len(e.wishes)} met."]
        for w in e.wishes:
            lines.append(f"  - {format_wish(w)}")
    return "\n".join(lines)
