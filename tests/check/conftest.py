"""Tiny rounds for the checker tests: 1–2 houses, 1–3 children, one week of nights.

The round is Monday 2027-01-04 .. Sunday 2027-01-10 (7 nights; night 2027-01-08 is Friday).
Children are pseudonyms (B0001, ...); no names or national IDs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pytest

from models.config import RoundConfig
from models.inputs import Child, Closure, House, Incompatible, Unavailable, Wish
from models.outputs import Booking
from models.round_input import RoundInput

START = dt.date(2027, 1, 4)  # Monday
END = dt.date(2027, 1, 10)  # Sunday


def night(day: int) -> dt.date:
    """Night ``2027-01-<day>``."""
    return dt.date(2027, 1, day)


def make_house(house_id: str = "H1", **kw: Any) -> House:
    fields: dict[str, Any] = {
        "house_id": house_id,
        "name": f"House {house_id}",
        "kind": "avlastningsbolig",
        "owner": "kommunal",
        "places": 2,
        "categories": "2;3",
        "conditional_categories": "",
        "night_watch": True,
        "nights_per_place_year": 350,
    }
    fields.update(kw)
    return House(**fields)


def make_child(child_id: str = "B0001", **kw: Any) -> Child:
    fields: dict[str, Any] = {
        "child_id": child_id,
        "birth_date": dt.date(2012, 5, 1),
        "category": "2",
        "level": 2,
        "granted_nights": 7,
        "vedtak_from": START,
        "vedtak_to": END,
        "pattern": "any",
    }
    fields.update(kw)
    return Child(**fields)


def make_round(
    houses: Iterable[House] | None = None,
    children: Iterable[Child] | None = None,
    *,
    unavailable: Iterable[Unavailable] = (),
    wishes: Iterable[Wish] = (),
    incompatible: Iterable[Incompatible] = (),
    closures: Iterable[Closure] = (),
    acute_reserve: dict[str, int] | None = None,
    start: dt.date = START,
    end: dt.date = END,
) -> RoundInput:
    return RoundInput(
        config=RoundConfig(start=start, end=end, acute_reserve=acute_reserve or {}),
        houses=tuple(houses if houses is not None else [make_house()]),
        children=tuple(children if children is not None else [make_child()]),
        unavailable=tuple(unavailable),
        wishes=tuple(wishes),
        incompatible=tuple(incompatible),
        closures=tuple(closures),
    )


def book(child_id: str, house_id: str, *days: int) -> list[Booking]:
    """Bookings of one child in one house on nights 2027-01-<day> for each day."""
    return [Booking(child_id, house_id, night(d)) for d in days]


class Tiny:
    """The builders above, bundled for tests (``tiny.round(...)``, ``tiny.book(...)``)."""

    start = START
    end = END
    night = staticmethod(night)
    house = staticmethod(make_house)
    child = staticmethod(make_child)
    round = staticmethod(make_round)
    book = staticmethod(book)

    @staticmethod
    def unavailable(child_id: str, first: int, last: int, reason: str = "family") -> Unavailable:
        return Unavailable(child_id=child_id, from_=night(first), to=night(last), reason=reason)

    @staticmethod
    def wish(child_id: str, first: int, last: int, kind: str = "want") -> Wish:
        return Wish(child_id=child_id, from_=night(first), to=night(last), kind=kind, weight=1)

    @staticmethod
    def closure(house_id: str, first: int, last: int, places_closed: int) -> Closure:
        return Closure(
            house_id=house_id, from_=night(first), to=night(last), places_closed=places_closed
        )

    @staticmethod
    def incompatible(child_a: str, child_b: str) -> Incompatible:
        return Incompatible(child_a=child_a, child_b=child_b)


@pytest.fixture
def tiny() -> type[Tiny]:
    """The tiny-round builders."""
    return Tiny
