"""`RoundInput`: all validated input of one round, with the cross-file rules of contract v1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from models.config import RoundConfig
from models.inputs import (
    CalendarDay,
    Child,
    Closure,
    House,
    HouseKind,
    Incompatible,
    Pin,
    Unavailable,
    Wish,
)


@dataclass(frozen=True)
class RoundInput:
    """The whole input of a round. Built by `allocator.io.read_round` after per-row validation."""

    config: RoundConfig
    houses: tuple[House, ...]
    children: tuple[Child, ...]
    unavailable: tuple[Unavailable, ...] = ()
    wishes: tuple[Wish, ...] = ()
    incompatible: tuple[Incompatible, ...] = ()
    closures: tuple[Closure, ...] = ()
    calendar: tuple[CalendarDay, ...] = ()
    pins: tuple[Pin, ...] = ()
    source: str = ""
    _house_by_id: dict[str, House] = field(default_factory=dict, repr=False, compare=False)
    _child_by_id: dict[str, Child] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._house_by_id.update({h.house_id: h for h in self.houses})
        self._child_by_id.update({c.child_id: c for c in self.children})

    def with_children(self, extra: Sequence[Child]) -> RoundInput:
        """The same round with ``extra`` children added (an acute child given inline, a new
        applicant offered free nights), so the checker can check their nights too."""
        return RoundInput(
            config=self.config,
            houses=self.houses,
            children=(*self.children, *(c for c in extra if not self.has_child(c.child_id))),
            unavailable=self.unavailable,
            wishes=self.wishes,
            incompatible=self.incompatible,
            closures=self.closures,
            calendar=self.calendar,
            pins=self.pins,
            source=self.source,
        )

    def house(self, house_id: str) -> House:
        return self._house_by_id[house_id]

    def child(self, child_id: str) -> Child:
        return self._child_by_id[child_id]

    def has_house(self, house_id: str) -> bool:
        return house_id in self._house_by_id

    def has_child(self, child_id: str) -> bool:
        return child_id in self._child_by_id

    @property
    def nights(self) -> list[dt.date]:
        return self.config.nights

    def available_nights(self, child: Child) -> tuple[int, ...]:
        """Indices of the round's nights the child may be in respite (rule R1): inside the
        round and its vedtak, never on one of its unavailable nights. The independent checker
        keeps its own copy of this rule on purpose."""
        away: set[dt.date] = set()
        for u in self.unavailable:
            if u.child_id == child.child_id:
                away.update(u.nights())
        return tuple(
            i
            for i, night in enumerate(self.nights)
            if child.vedtak_from <= night <= child.vedtak_to and night not in away
        )

    def barnebolig_ids(self) -> list[str]:
        return [h.house_id for h in self.houses if h.kind is HouseKind.BARNEBOLIG]
