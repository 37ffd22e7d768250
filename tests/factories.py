"""Tiny hand-made rounds for model tests: 1–3 children, 1–2 houses, a week of nights."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl

from models.config import ObjectiveWeights, RoundConfig
from models.inputs import Child, Closure, House, Incompatible, Unavailable, Wish
from models.round_input import RoundInput

MONDAY = dt.date(2027, 1, 4)


def house(house_id: str = "h1", places: int = 1, **kw: Any) -> House:
    fields: dict[str, Any] = {
        "house_id": house_id,
        "name": f"Hus {house_id}",
        "kind": "avlastningsbolig",
        "owner": "kommunal",
        "places": places,
        "categories": "2;3",
        "conditional_categories": "",
        "night_watch": True,
        "nights_per_place_year": 365,
        "price_per_night": 5000,
    }
    fields.update(kw)
    return House(**fields)


def child(child_id: str = "B0001", granted: int = 2, **kw: Any) -> Child:
    fields: dict[str, Any] = {
        "child_id": child_id,
        "birth_date": dt.date(2012, 5, 1),
        "category": "2",
        "level": 2,
        "granted_nights": granted,
        "vedtak_from": dt.date(2026, 7, 1),
        "vedtak_to": dt.date(2027, 6, 30),
        "pattern": "any",
    }
    fields.update(kw)
    return Child(**fields)


def unavailable(
    child_id: str, first: dt.date, last: dt.date, reason: str = "family"
) -> Unavailable:
    return Unavailable.model_validate(
        {"child_id": child_id, "from": first, "to": last, "reason": reason}
    )


def wish(child_id: str, first: dt.date, last: dt.date, kind: str = "want", weight: int = 1) -> Wish:
    return Wish.model_validate(
        {"child_id": child_id, "from": first, "to": last, "kind": kind, "weight": weight}
    )


def closure(house_id: str, first: dt.date, last: dt.date, places_closed: int = 1) -> Closure:
    return Closure.model_validate(
        {"house_id": house_id, "from": first, "to": last, "places_closed": places_closed}
    )


def round_input(
    houses: list[House],
    children: list[Child],
    *,
    nights: int = 7,
    start: dt.date = MONDAY,
    acute_reserve: dict[str, int] | None = None,
    unavailable: list[Unavailable] | None = None,
    wishes: list[Wish] | None = None,
    incompatible: list[tuple[str, str]] | None = None,
    closures: list[Closure] | None = None,
    weights: ObjectiveWeights | None = None,
) -> RoundInput:
    config = RoundConfig(
        start=start,
        end=start + dt.timedelta(days=nights - 1),
        acute_reserve=acute_reserve or {},
        time_limit=10,
        seed=1,
        workers=1,
        weights=weights or ObjectiveWeights(),
    )
    return RoundInput(
        config=config,
        houses=tuple(houses),
        children=tuple(children),
        unavailable=tuple(unavailable or ()),
        wishes=tuple(wishes or ()),
        incompatible=tuple(Incompatible(child_a=a, child_b=b) for a, b in incompatible or ()),
        closures=tuple(closures or ()),
    )


def csv_sheets(folder: Path) -> openpyxl.Workbook:
    """A workbook with one sheet per CSV file of ``folder`` (the rows as text), no ``round``
    sheet yet."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for path in sorted(folder.glob("*.csv")):
        sheet = workbook.create_sheet(path.stem)
        with path.open(encoding="utf-8") as handle:
            for row in csv.reader(handle):
                sheet.append(row)
    return workbook
