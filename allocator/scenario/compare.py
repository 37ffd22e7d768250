"""Figures of a scenario's round and plan, flat, and their comparison with the base.

Everything here is computed from a `RoundInput` and its bookings (with the independent
checker's `compute_figures`), never from the optimisation model, so base and scenario are
measured the same way.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from allocator.check import Figures, compute_figures
from allocator.check.rules import closed_places
from models.categories import CATEGORIES
from models.outputs import Booking
from models.round_input import RoundInput

__all__ = [
    "LEVELS",
    "acute_place_nights",
    "compare_rows",
    "input_figures",
    "plan_figures",
]

LEVELS = (1, 2, 3, 4, 5, 6)

Scalar = str | int | float | bool | None


def acute_place_nights(inp: RoundInput) -> int:
    """Place-nights held free for acute respite: per house and night the reserve, but never
    more than the places open that night (a closed place holds nothing)."""
    held = 0
    for house in inp.houses:
        reserve = inp.config.acute_reserve.get(house.house_id, 0)
        if reserve <= 0:
            continue
        for night in inp.nights:
            open_places = max(0, house.places - closed_places(inp, house.house_id, night))
            held += min(reserve, open_places)
    return held


def input_figures(inp: RoundInput) -> dict[str, Scalar]:
    """Figures of the round alone (no plan): demand, places, reserve."""
    return {
        "children": len(inp.children),
        "granted": sum(c.granted_nights for c in inp.children),
        "houses": sum(1 for h in inp.houses if h.places > 0),
        "places_total": sum(h.places for h in inp.houses),
        "acute_reserve_total": sum(inp.config.acute_reserve.values()),
        "acute_place_nights": acute_place_nights(inp),
        "round_nights": inp.config.n_nights,
    }


def _share(num: int, den: int) -> float | None:
    return num / den if den else None


def plan_figures(
    inp: RoundInput, bookings: Sequence[Booking], figures: Figures | None = None
) -> dict[str, Scalar]:
    """Flat figures of a plan: fulfilment overall, per category and level, children under 80%
    and 50% of their grant, utilisation per house, acute place-nights held, cost.

    Parameters
    ----------
    inp
        The round.
    bookings
        Its plan.
    figures
        `compute_figures(inp, bookings)` when already computed.

    Returns
    -------
    dict
        ``fulfilment_cat_<c>`` for every category and ``fulfilment_level_<l>`` for levels 1–6
        (``None`` where nothing is granted), ``util_<house_id>`` per house, ``cost`` (Σ price
        per night of the booked house) and ``cost_per_night``.
    """
    f = figures if figures is not None else compute_figures(inp, bookings)
    plan = list(dict.fromkeys(bookings))
    per_child: dict[str, int] = defaultdict(int)
    for b in plan:
        per_child[b.child_id] += 1
    price = {h.house_id: h.price_per_night for h in inp.houses}
    cost = sum(price.get(b.house_id, 0.0) for b in plan)
    row: dict[str, Scalar] = {
        **input_figures(inp),
        "allocated": f.allocated,
        "fulfilment": f.fulfilment,
        "lowest_child_fulfilment": f.lowest_child_fulfilment,
        "p10_child_fulfilment": f.p10_child_fulfilment,
        "under_80": f.children_under_80,
        "under_50": f.children_under_50,
        "utilisation": f.utilisation,
        "usable_capacity": f.usable_capacity,
        "bound": f.bound,
        "gap_to_bound": f.gap_to_bound,
        "single_night_share": f.single_night_share,
        "cost": round(cost, 2),
        "cost_per_night": round(cost / f.allocated, 2) if f.allocated else None,
    }
    for cat in CATEGORIES:
        kids = [c for c in inp.children if c.category == cat]
        row[f"fulfilment_cat_{cat}"] = _share(
            sum(per_child[c.child_id] for c in kids), sum(c.granted_nights for c in kids)
        )
    for level in LEVELS:
        kids = [c for c in inp.children if c.level == level]
        row[f"fulfilment_level_{level}"] = _share(
            sum(per_child[c.child_id] for c in kids), sum(c.granted_nights for c in kids)
        )
    for h in f.per_house:
        row[f"util_{h.house_id}"] = h.utilisation
    return row


def _change(base: Scalar, scen: Scalar) -> Scalar:
    if isinstance(base, bool) or isinstance(scen, bool):
        return None
    if isinstance(base, int | float) and isinstance(scen, int | float):
        diff = scen - base
        return round(diff, 6) if isinstance(diff, float) else diff
    return None


def compare_rows(
    base: Mapping[str, Scalar], scenario: Mapping[str, Scalar]
) -> list[dict[str, Scalar]]:
    """One row per figure: ``metric, base, scenario, change`` (keys of either side, in order:
    the scenario's first, then any only the base has, e.g. a removed house's utilisation)."""
    keys = list(scenario) + [k for k in base if k not in scenario]
    rows = []
    for key in keys:
        b, s = base.get(key), scenario.get(key)
        if isinstance(b, float) and math.isnan(b):
            b = None
        if isinstance(s, float) and math.isnan(s):
            s = None
        rows.append({"metric": key, "base": b, "scenario": s, "change": _change(b, s)})
    return rows


def summary_figures(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows worth printing (the CLI's table): the main figures in a fixed order, then the
    per-category, per-level and per-house ones that are not empty or zero on both sides (a
    house with no places)."""
    first = [
        "children",
        "granted",
        "allocated",
        "fulfilment",
        "lowest_child_fulfilment",
        "under_80",
        "under_50",
        "places_total",
        "acute_reserve_total",
        "acute_place_nights",
        "utilisation",
        "cost",
        "cost_per_night",
        "gap_to_bound",
    ]
    by_key = {r["metric"]: r for r in rows}
    head = [by_key[k] for k in first if k in by_key]
    rest = [
        r
        for r in rows
        if r["metric"] not in first
        and str(r["metric"]).startswith(("fulfilment_", "util_"))
        and any(r[side] not in (None, 0, 0.0) for side in ("base", "scenario"))
    ]
    return head + rest
