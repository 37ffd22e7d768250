"""Compare two versions of the plan: per family the nights added, removed and moved.

Issue 6, "A durable plan store": "every change to a published plan becomes a new version …;
any version can be exported and compared." `diff_bookings` compares two plans (as
`allocator.store.Store.diff` reads them from the store) and `format_diff` says what changed in
plain English lines, dates ISO.

A bed-night is a child's night (one place a night, rule R1): a night the child has in `b` but
not in `a` is *added*, one it has in `a` but not in `b` is *removed*, one it has in both in
another house is *moved*, and one in the same house whose booking kind changed (``planned``,
``acute``, ``offered``) is *re-kinded*. A night pinned in `b` and not in `a` (``allocator pin``)
is *pinned*, the other way round *released*.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from models.outputs import Booking

__all__ = ["ChildDiff", "KindChange", "NightChange", "NightMove", "PlanDiff", "diff_bookings"]


class NightChange(NamedTuple):
    """A night added to or removed from a child's plan: where, and its booking kind."""

    night: dt.date
    house_id: str
    kind: str


class NightMove(NamedTuple):
    """A night the child keeps, in another house."""

    night: dt.date
    from_house: str
    to_house: str


class KindChange(NamedTuple):
    """A night the child keeps in the same house, with another booking kind."""

    night: dt.date
    house_id: str
    from_kind: str
    to_kind: str


@dataclass(frozen=True)
class ChildDiff:
    """What changed for one child between two versions; each tuple sorted by night."""

    child_id: str
    added: tuple[NightChange, ...] = ()
    removed: tuple[NightChange, ...] = ()
    moved: tuple[NightMove, ...] = ()
    rekinded: tuple[KindChange, ...] = ()
    pinned: tuple[dt.date, ...] = ()
    released: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class PlanDiff:
    """Version `b` against version `a`: the children whose nights differ, by child id.

    Attributes
    ----------
    a, b
        The version numbers compared (``b`` against ``a``: *added* means in ``b``, not ``a``).
    n_bookings_a, n_bookings_b
        Bed-nights in each version.
    children
        One `ChildDiff` per child with any change, by child id.
    """

    a: int
    b: int
    n_bookings_a: int
    n_bookings_b: int
    children: tuple[ChildDiff, ...]

    @property
    def added(self) -> int:
        """Nights added over all children."""
        return sum(len(c.added) for c in self.children)

    @property
    def removed(self) -> int:
        """Nights removed over all children."""
        return sum(len(c.removed) for c in self.children)

    @property
    def moved(self) -> int:
        """Nights moved to another house over all children."""
        return sum(len(c.moved) for c in self.children)

    @property
    def rekinded(self) -> int:
        """Nights whose booking kind changed (same house) over all children."""
        return sum(len(c.rekinded) for c in self.children)

    @property
    def pinned(self) -> int:
        """Nights pinned in `b` and not in `a` over all children."""
        return sum(len(c.pinned) for c in self.children)

    @property
    def released(self) -> int:
        """Nights pinned in `a` and not in `b` over all children."""
        return sum(len(c.released) for c in self.children)

    @property
    def families(self) -> int:
        """Children with any change."""
        return len(self.children)

    @property
    def same(self) -> bool:
        """Whether the two versions have exactly the same bookings (kinds and pins)."""
        return not self.children


def diff_bookings(
    a: int,
    b: int,
    plan_a: Iterable[Booking],
    plan_b: Iterable[Booking],
    pinned_a: Collection[tuple[str, dt.date]] = frozenset(),
    pinned_b: Collection[tuple[str, dt.date]] = frozenset(),
) -> PlanDiff:
    """Compare plan `plan_b` (version `b`) against `plan_a` (version `a`).

    Parameters
    ----------
    a, b
        The version numbers (only recorded in the result).
    plan_a, plan_b
        The two plans, one `Booking` per bed-night (``Booking.kind`` is compared too).
    pinned_a, pinned_b
        ``(child_id, night)`` of each version's pinned nights.

    Returns
    -------
    PlanDiff
    """
    nights_a = {(x.child_id, x.night): x for x in plan_a}
    nights_b = {(x.child_id, x.night): x for x in plan_b}
    added: dict[str, list[NightChange]] = {}
    removed: dict[str, list[NightChange]] = {}
    moved: dict[str, list[NightMove]] = {}
    rekinded: dict[str, list[KindChange]] = {}
    for key in sorted(nights_a.keys() | nights_b.keys()):
        child_id, night = key
        old, new = nights_a.get(key), nights_b.get(key)
        if old is None and new is not None:
            added.setdefault(child_id, []).append(NightChange(night, new.house_id, new.kind))
        elif new is None and old is not None:
            removed.setdefault(child_id, []).append(NightChange(night, old.house_id, old.kind))
        elif old is not None and new is not None:
            if old.house_id != new.house_id:
                moved.setdefault(child_id, []).append(NightMove(night, old.house_id, new.house_id))
            elif old.kind != new.kind:
                change = KindChange(night, old.house_id, old.kind, new.kind)
                rekinded.setdefault(child_id, []).append(change)
    pinned: dict[str, list[dt.date]] = {}
    released: dict[str, list[dt.date]] = {}
    for child_id, night in sorted(set(pinned_b) - set(pinned_a)):
        pinned.setdefault(child_id, []).append(night)
    for child_id, night in sorted(set(pinned_a) - set(pinned_b)):
        released.setdefault(child_id, []).append(night)
    changed = added.keys() | removed.keys() | moved.keys() | rekinded.keys()
    children = tuple(
        ChildDiff(
            child_id,
            tuple(added.get(child_id, ())),
            tuple(removed.get(child_id, ())),
            tuple(moved.get(child_id, ())),
            tuple(rekinded.get(child_id, ())),
            tuple(pinned.get(child_id, ())),
            tuple(released.get(child_id, ())),
        )
        for child_id in sorted(changed | pinned.keys() | released.keys())
    )
    return PlanDiff(a, b, len(nights_a), len(nights_b), children)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def _spans(nights: Sequence[dt.date]) -> list[str]:
    """Consecutive nights as ISO ranges: ``2027-01-08 – 2027-01-10``, ``2027-01-12``."""
    spans: list[str] = []
    ordered = sorted(nights)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + dt.timedelta(days=1):
            j += 1
        first, last = ordered[i], ordered[j]
        spans.append(first.isoformat() if first == last else f"{first} – {last}")
        i = j + 1
    return spans


def _grouped(items: Sequence[tuple[str, dt.date]]) -> list[str]:
    """``label: spans`` per label (in order of the label's first night)."""
    by_label: dict[str, list[dt.date]] = {}
    for label, night in sorted(items, key=lambda item: (item[1], item[0])):
        by_label.setdefault(label, []).append(night)
    return [f"{', '.join(_spans(nights))} {label}" for label, nights in by_label.items()]


def format_diff(d: PlanDiff) -> str:
    """The diff in plain English lines: a head line with the totals, then per family what
    was added, removed, moved and re-kinded (consecutive nights as one ``first – last`` range).

    Parameters
    ----------
    d
        As `diff_bookings` or `allocator.store.Store.diff` return it.

    Returns
    -------
    str
        Lines separated by ``\\n``, no trailing newline.
    """
    head = f"Version {d.b} against version {d.a}"
    if d.same:
        return f"{head}: the same {_plural(d.n_bookings_b, 'bed-night')}, nothing changed."
    totals = [
        f"{_plural(d.added, 'night')} added",
        f"{d.removed} removed",
        f"{d.moved} moved to another house",
    ]
    if d.rekinded:
        totals.append(f"{d.rekinded} of another kind")
    if d.pinned:
        totals.append(f"{d.pinned} pinned")
    if d.released:
        totals.append(f"{d.released} released from a pin")
    lines = [
        f"{head}: {', '.join(totals)}, for {_plural(d.families, 'family', 'families')}"
        f" (bed-nights {d.n_bookings_a} → {d.n_bookings_b})."
    ]
    for c in d.children:
        if c.added:
            items = [(_where(x.house_id, x.kind), x.night) for x in c.added]
            lines.append(f"  {c.child_id} added: {'; '.join(_grouped(items))}")
        if c.removed:
            items = [(_where(x.house_id, x.kind), x.night) for x in c.removed]
            lines.append(f"  {c.child_id} removed: {'; '.join(_grouped(items))}")
        if c.moved:
            items = [(f"from {x.from_house} to {x.to_house}", x.night) for x in c.moved]
            lines.append(f"  {c.child_id} moved: {'; '.join(_grouped(items))}")
        if c.rekinded:
            items = [(f"in {x.house_id}, {x.from_kind} → {x.to_kind}", x.night) for x in c.rekinded]
            lines.append(f"  {c.child_id} changed kind: {'; '.join(_grouped(items))}")
        if c.pinned:
            lines.append(f"  {c.child_id} pinned: {', '.join(_spans(c.pinned))}")
        if c.released:
            lines.append(f"  {c.child_id} released from a pin: {', '.join(_spans(c.released))}")
    return "\n".join(lines)


def _where(house_id: str, kind: str) -> str:
    return f"in {house_id}" if kind == "planned" else f"in {house_id} ({kind})"
