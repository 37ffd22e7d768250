"""A coordinator's own changes to a published plan: pin a stay, move nights to another house.

Issue 6 lists "a pin, a manual move" among the changes the store keeps, each a new version
with an audit line. A pinned night ("a stay the coordinator agreed with the family", rule R7)
is never moved by an acute request (`allocator.acute`) nor by a manual move; it is released
with ``allocator pin --release``. The new plan is checked against every hard rule before it
is written (`allocator.commands.midround_cmds`), so a move into a full house, a house that
does not take the child's category or next to an incompatible child is refused there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from models.inputs import Pin, PinKind
from models.outputs import Booking
from models.round_input import RoundInput


@dataclass(frozen=True)
class ManualMove:
    """The new plan and the nights that moved (``(night, from_house)``)."""

    bookings: tuple[Booking, ...]
    moved: tuple[tuple[dt.date, str], ...]


def nights_in(
    bookings: Sequence[Booking], child_id: str, first: dt.date, last: dt.date
) -> list[Booking]:
    """The child's bookings from `first` to `last`, by night."""
    return sorted(
        (b for b in bookings if b.child_id == child_id and first <= b.night <= last),
        key=lambda b: b.night,
    )


def input_pinned(inp: RoundInput) -> set[tuple[str, dt.date]]:
    """``(child_id, night)`` pinned in the round's input (pins.csv, kind ``pin``)."""
    return {(p.child_id, n) for p in inp.pins if p.kind is PinKind.PIN for n in p.nights()}


def move_nights(
    bookings: Sequence[Booking],
    child_id: str,
    first: dt.date,
    last: dt.date,
    to_house: str,
    *,
    today: dt.date,
    pinned: set[tuple[str, dt.date]],
) -> ManualMove | str:
    """Move the child's nights from `first` to `last` into `to_house`, or say why not.

    Nights before `today` are history and stay; a pinned night is never moved (the reason
    names it); nights already in `to_house` are left as they are."""
    mine = [b for b in nights_in(bookings, child_id, first, last) if b.night >= today]
    held = [b.night for b in mine if (child_id, b.night) in pinned]
    if held:
        return (
            f"{child_id} is pinned on {_dates(held)} (agreed with the family): release it first"
            f" with `allocator pin {child_id} --from {held[0]} --to {held[-1]} --release`"
        )
    moving = {b for b in mine if b.house_id != to_house}
    if not moving:
        return ""
    new_plan = [b for b in bookings if b not in moving]
    new_plan += [Booking(b.child_id, to_house, b.night, b.kind) for b in moving]
    return ManualMove(
        tuple(sorted(new_plan)),
        tuple(sorted((b.night, b.house_id) for b in moving)),
    )


def pins_for(bookings: Sequence[Booking], nights: Iterable[tuple[str, dt.date]]) -> list[Pin]:
    """`Pin` rows (kind ``pin``, one per run of consecutive nights in one house) holding the
    given ``(child_id, night)`` where the plan books them, so the checker (rule R7) and the
    acute search treat them as pins from pins.csv."""
    where = {(b.child_id, b.night): b.house_id for b in bookings}
    runs: list[tuple[str, str, dt.date, dt.date]] = []
    for child_id, night in sorted(n for n in nights if n in where):
        house_id = where[(child_id, night)]
        if runs and runs[-1][:2] == (child_id, house_id):
            c, h, f, t = runs[-1]
            if t == night - dt.timedelta(days=1):
                runs[-1] = (c, h, f, night)
                continue
        runs.append((child_id, house_id, night, night))
    return [
        Pin.model_validate(
            {"child_id": c, "house_id": h, "from": f, "to": t, "kind": PinKind.PIN.value}
        )
        for c, h, f, t in runs
    ]


def with_pins(inp: RoundInput, pins: Sequence[Pin]) -> RoundInput:
    """The same round with `pins` added to its own."""
    if not pins:
        return inp
    return RoundInput(
        config=inp.config,
        houses=inp.houses,
        children=inp.children,
        unavailable=inp.unavailable,
        wishes=inp.wishes,
        incompatible=inp.incompatible,
        closures=inp.closures,
        calendar=inp.calendar,
        pins=(*inp.pins, *pins),
        source=inp.source,
    )


def _dates(nights: Sequence[dt.date]) -> str:
    if len(nights) == 1:
        return str(nights[0])
    return f"{len(nights)} nights {nights[0]} – {nights[-1]}"
