"""Synthetic, pseudonymous Bergen rounds: the seed's house table and a roster that fills it.

`generate_round` builds a `RoundInput` from the guideline's table of houses (2014) and a roster
of children whose granted nights fill the usable capacity of each group of houses
(× ``demand``). Everything is drawn from one ``numpy`` Generator, so a seed gives the same round.
Children are pseudonyms ``B0001``, ``B0002``, ...; there are no names or national ID numbers.

Run ``python -m allocator.generate --scale 1 --seed 1 --demand 1.0 --out data/bergen``.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from allocator.calendar import RoundCalendar, norwegian_calendar_days
from models.categories import Category
from models.config import RoundConfig
from models.inputs import (
    CalendarDay,
    Child,
    Closure,
    House,
    HouseKind,
    Incompatible,
    Owner,
    Pattern,
    Unavailable,
    UnavailableReason,
    Wish,
    WishKind,
)
from models.round_input import RoundInput
from models.rules import budget_nights

Group = str
"""A capacity group: ``"5"``, ``"4"``, ``"23"`` (categories 2 and 3) or ``"P"``."""

GROUPS: tuple[Group, ...] = ("5", "4", "23", "P")
GROUP_OF_CATEGORY: dict[Category, Group] = {"2": "23", "3": "23", "4": "4", "5": "5", "P": "P"}

FILL = 0.985
"""Granted nights ÷ usable capacity at ``demand=1.0`` (a little slack so a plan can fill it)."""
WEEKEND_SHARE = 0.8
"""Weekend-pattern nights use at most this share of a group's Friday+Saturday places."""
NIGHTS_PER_PLACE = 350
"""'Det regnes 350 avlastningsdøgn pr avlastningsplass pr år.'"""
BARNEBOLIG_NIGHTS_PER_PLACE = 365
"""'Barnebolig → 365 døgn pr år': a resident lives there every night."""

YEARLY_BANDS: tuple[tuple[int, int], ...] = ((8, 36), (37, 72), (73, 120), (121, 180), (181, 275))
"""Nights per year of service levels 1–5 (level 1 starts at 8 here, not 1: nobody gets 1)."""


@dataclass(frozen=True)
class HouseSpec:
    """One row of the guideline's table of houses, with a synthetic price and group shares.

    ``shares`` splits the house's usable capacity between the groups whose children fill it:
    a house for 2, 3 and (4) gives most of its nights to group 2/3 and some to group 4.
    """

    slug: str
    name: str
    kind: HouseKind
    owner: Owner
    places: int
    categories: str
    conditional: str
    price: float
    shares: Mapping[Group, float] = field(default_factory=dict)

    @property
    def night_watch(self) -> bool:
        """Houses serving 3, 4, 5 or P have night watch (nattevakt)."""
        return bool(set(self.categories.split(";")) & {"3", "4", "5", "P"})


_A, _B = HouseKind.AVLASTNINGSBOLIG, HouseKind.BARNEBOLIG
_K, _I, _P = Owner.KOMMUNAL, Owner.PRIVAT_IDEELL, Owner.PRIVAT
_C5: dict[Group, float] = {"5": 1.0}
_C4: dict[Group, float] = {"4": 1.0}
_C23: dict[Group, float] = {"23": 1.0}
_C23_4: dict[Group, float] = {"23": 0.9, "4": 0.1}
_CP: dict[Group, float] = {"P": 1.0}
_C23_5: dict[Group, float] = {"5": 0.5, "23": 0.5}

BERGEN_HOUSES: tuple[HouseSpec, ...] = (
    HouseSpec("holbekken", "Hølbekken avlastningsbolig", _A, _K, 6, "5", "", 9000, _C5),
    HouseSpec("sandalstunet", "Sandalstunet avlastningsbolig", _A, _K, 4, "2;3", "4", 6400, _C23_4),
    HouseSpec("sverresborg", "Sverresborg avlastningsbolig", _A, _K, 4, "2;3", "4", 6500, _C23_4),
    HouseSpec(
        "svartedikerveien", "Svartedikerveien avlastningsbolig", _A, _K, 6, "5", "", 9100, _C5
    ),
    HouseSpec("asane", "Åsane avlastningsbolig", _A, _K, 4, "2;3", "4", 6450, _C23_4),
    HouseSpec(
        "olav-bjordalsvei", "Olav Bjordalsvei avlastningsbolig", _A, _K, 6, "P", "", 8500, _CP
    ),
    HouseSpec("vadmyra", "Vadmyra avlastningsbolig", _A, _K, 6, "2;3", "4", 6600, _C23_4),
    HouseSpec("vestlund", "Vestlund avlastningsbolig", _A, _K, 10, "4", "", 7300, _C4),
    HouseSpec("utsikten", "Utsikten barnebolig", _B, _K, 3, "5", "", 9500),
    HouseSpec("ny-barnebolig", "Ny barnebolig 2014", _B, _K, 3, "5", "", 9600),
    HouseSpec("fayehagen", "Fayehagen avlastningsbolig", _A, _I, 7, "4", "", 7500, _C4),
    HouseSpec(
        "christiegarden", "Christiegården avlastningsbolig", _A, _I, 4, "2;3", "", 6800, _C23
    ),
    HouseSpec("omsorgshjelperen", "Omsorgshjelperen AS", _A, _P, 8, "2;3;4;5", "", 8900, _C23_5),
    HouseSpec("vevlestova", "Vevlestova avlastningsbolig", _A, _P, 0, "", "", 9800),
    HouseSpec("svanetangen", "Svanetangen avlastningsbolig", _A, _P, 0, "", "", 10200),
)
"""The seed's table of houses (forslag til retningslinje, 2014), in its order.

Prices per night (NOK) are synthetic: 2/3 houses with night watch ~6,500, category 4 ~7,400,
category 5 ~9,000, P 8,500, barnebolig ~9,500, private houses a little higher.
"""

ACUTE_RESERVE: dict[str, int] = {"vestlund": 1, "holbekken": 1, "vadmyra": 1, "omsorgshjelperen": 1}
"""Places kept free every night for acute respite (per copy of the house)."""

LEVEL_MIX: dict[Group, tuple[float, ...]] = {
    "23": (0.42, 0.33, 0.17, 0.06, 0.02),
    "4": (0.32, 0.30, 0.22, 0.11, 0.05),
    "5": (0.22, 0.28, 0.26, 0.14, 0.10),
    "P": (0.42, 0.33, 0.17, 0.06, 0.02),
}
"""Probability of service levels 1–5 per group: many at 1–3, fewer at 4–5."""

UNDER_10_SHARE: dict[Group, float] = {"23": 0.0, "4": 0.10, "5": 0.12, "P": 0.08}
"""Children under 10 only exceptionally, and only with categories 4, 5 or P."""

PATTERN_MIX: dict[int, tuple[tuple[Pattern, float], ...]] = {
    1: ((Pattern.WEEKEND, 0.70), (Pattern.ANY, 0.20), (Pattern.WEEKDAYS, 0.10)),
    2: (
        (Pattern.WEEKEND, 0.60),
        (Pattern.ANY, 0.25),
        (Pattern.WEEK, 0.10),
        (Pattern.WEEKDAYS, 0.05),
    ),
    3: (
        (Pattern.WEEKEND, 0.20),
        (Pattern.WEEKDAYS, 0.30),
        (Pattern.WEEK, 0.20),
        (Pattern.ANY, 0.30),
    ),
    4: ((Pattern.WEEK, 0.50), (Pattern.ANY, 0.40), (Pattern.WEEKDAYS, 0.10)),
    5: ((Pattern.WEEK, 0.50), (Pattern.ANY, 0.50)),
}

SHARE_CATEGORY_2 = 0.45  # of group 2/3
SHARE_HOME_HOUSE = 0.70
SHARE_PARTIAL_VEDTAK = 0.10
SHARE_SOMMERLEIR = 0.25  # of the eligible
SHARE_FERIETILBUD = 0.80  # of those turning 18
SHARE_FAMILY_HOLIDAY = 0.20
SHARE_OTHER = 0.03
SHARE_WANTS = 0.40
SHARE_AVOIDS = 0.20
SHARE_RESIDENT_WEEKEND_HOME = 0.35
CHILDREN_PER_INCOMPATIBLE_PAIR = 40


# --------------------------------------------------------------------------- levels


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def level_band(level: int, n_nights: int) -> tuple[int, int]:
    """Granted nights of service level 1–5 in a vedtak of ``n_nights`` nights.

    The yearly bands (1: 8–36, 2: 37–72, 3: 73–120, 4: 121–180, 5: 181–275) scaled to the
    nights, rounded up, each band starting one above the previous band's top. For 181 nights:
    4–18, 19–36, 37–60, 61–90, 91–137.

    Parameters
    ----------
    level
        Service level 1–5.
    n_nights
        Nights of the vedtak inside the round.

    Returns
    -------
    tuple[int, int]
        Lowest and highest granted nights of the level (both included).

    Raises
    ------
    ValueError
        For a level outside 1–5.
    """
    if not 1 <= level <= len(YEARLY_BANDS):
        raise ValueError(f"service level {level} has no band (levels 1–5; 6 is barnebolig)")
    tops = [_ceil_div(top * n_nights, 365) for _, top in YEARLY_BANDS]
    if level == 1:
        return max(1, _ceil_div(YEARLY_BANDS[0][0] * n_nights, 365)), tops[0]
    return tops[level - 2] + 1, tops[level - 1]


def level_for(granted: int, n_nights: int) -> int:
    """The service level 1–5 whose band (`level_band`) holds ``granted`` nights."""
    for level in range(1, 6):
        if granted <= level_band(level, n_nights)[1]:
            return level
    return 5


# --------------------------------------------------------------------------- houses


def base_slug(house_id: str) -> str:
    """The seed house a copy comes from: ``"vestlund-3"`` → ``"vestlund"``."""
    return re.sub(r"-\d+$", "", house_id)


def _copies(scale: float) -> int:
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if scale < 1:
        return 1
    if abs(scale - round(scale)) > 1e-9:
        raise ValueError(f"a scale above 1 must be a whole number, got {scale}")
    return round(scale)


def _places(places: int, scale: float) -> int:
    """Places of a house: as in the table, or scaled down (≥ 1) for a scale below 1."""
    if scale >= 1 or places == 0:
        return places
    return max(1, round(places * scale))


def build_houses(scale: float = 1.0) -> tuple[House, ...]:
    """The seed's 15 houses, each repeated ``scale`` times (copies ``-2``, ``-3``, ...).

    A scale below 1 keeps one copy of each house with its places scaled down (at least 1).
    """
    houses: list[House] = []
    for copy in range(1, _copies(scale) + 1):
        for spec in BERGEN_HOUSES:
            houses.append(
                House(
                    house_id=spec.slug if copy == 1 else f"{spec.slug}-{copy}",
                    name=spec.name if copy == 1 else f"{spec.name} {copy}",
                    kind=spec.kind,
                    owner=spec.owner,
                    places=_places(spec.places, scale),
                    categories=spec.categories,
                    conditional_categories=spec.conditional,
                    night_watch=spec.night_watch,
                    nights_per_place_year=(
                        BARNEBOLIG_NIGHTS_PER_PLACE if spec.kind is _B else NIGHTS_PER_PLACE
                    ),
                    price_per_night=spec.price,
                )
            )
    return tuple(houses)


def _acute_reserve(houses: Sequence[House]) -> dict[str, int]:
    return {
        h.house_id: ACUTE_RESERVE[base_slug(h.house_id)]
        for h in houses
        if base_slug(h.house_id) in ACUTE_RESERVE and h.places >= 3
    }


def _closures(houses: Sequence[House], cal: RoundCalendar) -> list[Closure]:
    """Maintenance: Sverresborg (each copy) has 2 places closed for 2 weeks, in March if the
    round covers it, else from the first Monday after a third of the round."""
    start = None
    for year in range(cal.start.year, cal.end.year + 1):
        march = dt.date(year, 3, 8)
        monday = march + dt.timedelta(days=-march.weekday() % 7)  # second Monday of March
        if cal.start <= monday and monday + dt.timedelta(days=13) <= cal.end:
            start = monday
            break
    if start is None:
        third = cal.start + dt.timedelta(days=cal.n // 3)
        start = third + dt.timedelta(days=-third.weekday() % 7)
    end = min(start + dt.timedelta(days=13), cal.end)
    if start > end:
        return []
    return [
        Closure.model_validate(
            {"house_id": h.house_id, "from": start, "to": end, "places_closed": min(2, h.places)}
        )
        for h in houses
        if base_slug(h.house_id) == "sverresborg" and h.places > 0
    ]


# --------------------------------------------------------------------------- capacity


def open_places(house: House, config: RoundConfig, closures: Sequence[Closure]) -> list[int]:
    """Places open each night: places − acute reserve − closed places (never below 0)."""
    reserve = config.acute_reserve.get(house.house_id, 0)
    nights = config.nights
    free = [house.places - reserve] * len(nights)
    for closure in closures:
        if closure.house_id != house.house_id:
            continue
        for i, night in enumerate(nights):
            if closure.contains(night):
                free[i] -= closure.places_closed
    return [max(0, f) for f in free]


def usable_capacity(house: House, config: RoundConfig, closures: Sequence[Closure]) -> int:
    """Nights a house can give in the round: min(budget (rule R3), Σ nightly open places).

    The budget is ``places × nights_per_place_year × N / 365`` rounded down (`budget_nights`).
    """
    budget = budget_nights(house.places, house.nights_per_place_year, config.n_nights)
    return min(budget, sum(open_places(house, config, closures)))


def group_shares(house: House) -> Mapping[Group, float]:
    """How a house's capacity splits between groups: the seed's shares, else an even split
    between the groups it fully accepts. A barnebolig belongs to no group."""
    if house.kind is HouseKind.BARNEBOLIG or house.places == 0:
        return {}
    for spec in BERGEN_HOUSES:
        if spec.slug == base_slug(house.house_id):
            return spec.shares
    groups = sorted({GROUP_OF_CATEGORY[c] for c in house.categories})
    return {g: 1.0 / len(groups) for g in groups}


def _group_capacity(
    houses: Sequence[House], config: RoundConfig, closures: Sequence[Closure]
) -> dict[Group, float]:
    capacity = dict.fromkeys(GROUPS, 0.0)
    for house in houses:
        shares = group_shares(house)
        if shares:
            usable = usable_capacity(house, config, closures)
            for group, share in shares.items():
                capacity[group] += share * usable
    return capacity


def group_capacity(inp: RoundInput) -> dict[Group, float]:
    """Usable capacity (nights) of each group of respite houses, shares applied."""
    return _group_capacity(inp.houses, inp.config, inp.closures)


def granted_by_group(inp: RoundInput) -> dict[Group, int]:
    """Granted nights of the respite children (levels 1–5) per group."""
    granted = dict.fromkeys(GROUPS, 0)
    for child in inp.children:
        if child.level < 6:
            granted[GROUP_OF_CATEGORY[child.category]] += child.granted_nights
    return granted


def _group_weekend_places(
    houses: Sequence[House], config: RoundConfig, closures: Sequence[Closure], cal: RoundCalendar
) -> dict[Group, float]:
    """Open places on Friday and Saturday nights, summed over the round, per group."""
    weekend = cal.weekend_indices()
    places = dict.fromkeys(GROUPS, 0.0)
    for house in houses:
        shares = group_shares(house)
        if shares:
            free = open_places(house, config, closures)
            total = sum(free[i] for i in weekend)
            for group, share in shares.items():
                places[group] += share * total
    return places


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class _Context:
    """What drawing a child needs to know about the round, precomputed once."""

    cal: RoundCalendar
    homes: dict[Category, tuple[tuple[str, ...], np.ndarray]]
    weekend_prefix: tuple[int, ...]
    fridays: tuple[int, ...]
    holiday_nights: tuple[int, ...]
    school_ranges: tuple[tuple[int, int], ...]

    def index(self, day: dt.date) -> int:
        """Index of ``day`` relative to the round's first night (may be outside 0..n-1)."""
        return (day - self.cal.start).days

    def weekend_nights(self, first: int, last: int) -> int:
        return self.weekend_prefix[last + 1] - self.weekend_prefix[first]


def _home_candidates(houses: Sequence[House]) -> dict[Category, tuple[tuple[str, ...], np.ndarray]]:
    """Per category: houses that fully accept it within its group, weighted by share × places."""
    out: dict[Category, tuple[tuple[str, ...], np.ndarray]] = {}
    for category, group in GROUP_OF_CATEGORY.items():
        ids, weights = [], []
        for house in houses:
            share = group_shares(house).get(group, 0.0)
            if share > 0 and category in house.categories:
                ids.append(house.house_id)
                weights.append(share * house.places)
        if ids:
            w = np.asarray(weights, dtype=float)
            out[category] = (tuple(ids), w / w.sum())
    return out


def _school_ranges(cal: RoundCalendar) -> tuple[tuple[int, int], ...]:
    ranges: list[tuple[int, int]] = []
    for i in range(cal.n):
        if not cal.is_school_holiday(i):
            continue
        if ranges and ranges[-1][1] == i - 1:
            ranges[-1] = (ranges[-1][0], i)
        else:
            ranges.append((i, i))
    return tuple(ranges)


def _context(houses: Sequence[House], cal: RoundCalendar) -> _Context:
    prefix = [0]
    for i in range(cal.n):
        prefix.append(prefix[-1] + cal.is_weekend_night(i))
    return _Context(
        cal=cal,
        homes=_home_candidates(houses),
        weekend_prefix=tuple(prefix),
        fridays=tuple(i for i in range(cal.n) if cal.night(i).weekday() == 4),
        holiday_nights=tuple(
            i for i in range(cal.n) if cal.is_high_demand(i) and not cal.is_weekend_night(i)
        ),
        school_ranges=_school_ranges(cal),
    )


# --------------------------------------------------------------------------- children


@dataclass
class _Draft:
    """A child being drawn; nights are indices into the round."""

    group: Group
    category: Category
    level: int
    birth: dt.date
    first: int
    last: int
    granted: int = 0
    pattern: Pattern = Pattern.ANY
    home: str | None = None
    away: list[tuple[int, int, UnavailableReason]] = field(default_factory=list)
    wishes: list[tuple[int, int, WishKind, int]] = field(default_factory=list)
    child_id: str = ""

    @property
    def span(self) -> int:
        return self.last - self.first + 1

    def away_nights(self) -> set[int]:
        return {i for a, b, _ in self.away for i in range(a, b + 1)}

    def available(self) -> int:
        return self.span - len(self.away_nights())


def _choice(rng: np.random.Generator, options: Sequence[tuple[Pattern, float]]) -> Pattern:
    k = rng.choice(len(options), p=[p for _, p in options])
    return options[int(k)][0]


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _birth_date(rng: np.random.Generator, on: dt.date, age: int) -> dt.date:
    """A birth date giving exactly ``age`` years on ``on``."""
    latest = _years_before(on, age)
    earliest = _years_before(on, age + 1) + dt.timedelta(days=1)
    return earliest + dt.timedelta(days=int(rng.integers(0, (latest - earliest).days + 1)))


def _draw_age(rng: np.random.Generator, group: Group) -> int:
    if rng.random() < UNDER_10_SHARE[group]:
        return int(rng.integers(6, 10))
    return int(rng.integers(10, 18))


def _draw_vedtak(rng: np.random.Generator, n: int) -> tuple[int, int]:
    """Most vedtak cover the round; ~10% start or end inside it (at least 30 nights)."""
    if n < 60 or rng.random() >= SHARE_PARTIAL_VEDTAK:
        return 0, n - 1
    length = int(rng.integers(30, n - 13))
    if rng.random() < 0.5:
        return n - length, n - 1
    return 0, length - 1


def _clip(first: int, length: int, d: _Draft) -> tuple[int, int] | None:
    a, b = max(first, d.first), min(first + length - 1, d.last)
    return (a, b) if a <= b else None


def _add_away(d: _Draft, span: tuple[int, int] | None, reason: UnavailableReason) -> None:
    """Add an absence unless it is empty or overlaps one the child already has."""
    if span is not None and d.away_nights().isdisjoint(range(span[0], span[1] + 1)):
        d.away.append((*span, reason))


def _away_ferietilbud(rng: np.random.Generator, d: _Draft, ctx: _Context) -> None:
    """Ferietilbud the year the child turns 18 (not group P): ~8 nights in weeks 28–29 if the
    round covers them, otherwise in late June."""
    year = d.birth.year + 18
    if d.category == "P" or not ctx.cal.start.year <= year <= ctx.cal.end.year:
        return
    if rng.random() >= SHARE_FERIETILBUD:
        return
    for first in (dt.date.fromisocalendar(year, 28, 1), dt.date(year, 6, 21)):
        span = _clip(ctx.index(first), 8, d)
        if span is not None:
            d.away.append((*span, UnavailableReason.FERIETILBUD))
            return


def _away_sommerleir(rng: np.random.Generator, d: _Draft, ctx: _Context) -> None:
    """Sommerleir at Hålandsdalen, up to 12 nights from Monday of week 26 (weeks 26–27), for
    pupils in grade 2–10 and 17-year-olds who need no night watch: category 2, age 7–17."""
    if d.category != "2" or any(r is UnavailableReason.FERIETILBUD for *_, r in d.away):
        return
    for year in range(ctx.cal.start.year, ctx.cal.end.year + 1):
        first = dt.date.fromisocalendar(year, 26, 1)
        if not 7 <= _age_on(d.birth, first) <= 17 or rng.random() >= SHARE_SOMMERLEIR:
            continue
        span = _clip(ctx.index(first), int(rng.integers(6, 13)), d)
        _add_away(d, span, UnavailableReason.SOMMERLEIR)


def _away_family(rng: np.random.Generator, d: _Draft, ctx: _Context) -> None:
    """A family holiday of 3–10 nights for ~20%, half of them in a school holiday."""
    if rng.random() >= SHARE_FAMILY_HOLIDAY:
        return
    length = int(rng.integers(3, 11))
    if d.span < 3 * length:
        return
    inside = [(max(a, d.first), min(b, d.last)) for a, b in ctx.school_ranges]
    inside = [(a, b) for a, b in inside if a <= b]
    if inside and rng.random() < 0.5:
        a, b = inside[int(rng.integers(len(inside)))]
        first = int(rng.integers(a, b + 1))
    else:
        first = int(rng.integers(d.first, d.last - length + 2))
    _add_away(d, _clip(first, length, d), UnavailableReason.FAMILY)


def _away_other(rng: np.random.Generator, d: _Draft) -> None:
    """A few have 1–3 other nights away (a hospital stay, a school trip)."""
    if rng.random() < SHARE_OTHER:
        length = int(rng.integers(1, 4))
        first = int(rng.integers(d.first, d.last + 1))
        _add_away(d, _clip(first, length, d), UnavailableReason.OTHER)


def _fits_weekend(d: _Draft, ctx: _Context) -> bool:
    return d.granted <= WEEKEND_SHARE * ctx.weekend_nights(d.first, d.last)


def _set_grant(d: _Draft, granted: int, ctx: _Context) -> None:
    d.granted = granted
    d.level = level_for(granted, d.span)
    if d.pattern is Pattern.WEEKEND and not _fits_weekend(d, ctx):
        d.pattern = Pattern.ANY


def _draw_child(rng: np.random.Generator, group: Group, ctx: _Context) -> _Draft | None:
    """One respite child (levels 1–5) of ``group`` with its absences, grant and pattern."""
    first, last = _draw_vedtak(rng, ctx.cal.n)
    category: Category = group  # type: ignore[assignment]
    if group == "23":
        category = "2" if rng.random() < SHARE_CATEGORY_2 else "3"
    d = _Draft(
        group=group,
        category=category,
        level=int(rng.choice(5, p=LEVEL_MIX[group])) + 1,
        birth=_birth_date(rng, ctx.cal.start, _draw_age(rng, group)),
        first=first,
        last=last,
    )
    homes = ctx.homes.get(category)
    if homes is not None and rng.random() < SHARE_HOME_HOUSE:
        d.home = homes[0][int(rng.choice(len(homes[0]), p=homes[1]))]
    _away_ferietilbud(rng, d, ctx)
    _away_sommerleir(rng, d, ctx)
    _away_family(rng, d, ctx)
    _away_other(rng, d)
    low, high = level_band(d.level, d.span)
    high = min(high, d.available())
    if high < 1:
        return None
    d.pattern = _choice(rng, PATTERN_MIX[d.level])
    _set_grant(d, int(rng.integers(min(low, high), high + 1)), ctx)
    return d


def _top_up(rng: np.random.Generator, drafts: list[_Draft], nights: int, ctx: _Context) -> None:
    """Spread a few leftover nights over children with room inside their level band."""
    while nights > 0:
        given = 0
        for k in rng.permutation(len(drafts)):
            d = drafts[int(k)]
            room = min(level_band(d.level, d.span)[1], d.available()) - d.granted
            if nights > 0 and room > 0:
                _set_grant(d, d.granted + 1, ctx)
                nights -= 1
                given += 1
        if given == 0:
            return


_MAX_MISSES = 1000


def _group_children(
    rng: np.random.Generator, group: Group, target: int, ctx: _Context
) -> list[_Draft]:
    """Draw children of ``group`` until their granted nights reach ``target`` exactly
    (the last child's grant is cut; a remainder too small for a child is spread)."""
    drafts: list[_Draft] = []
    total, misses = 0, 0
    while total < target and misses < _MAX_MISSES:
        d = _draw_child(rng, group, ctx)
        if d is None:  # no available night (a very short round): try another child
            misses += 1
            continue
        remaining = target - total
        if d.granted > remaining:
            if remaining < level_band(1, d.span)[0]:
                _top_up(rng, drafts, remaining, ctx)
                break
            _set_grant(d, remaining, ctx)
        drafts.append(d)
        total += d.granted
    return drafts


def _cap_weekend(rng: np.random.Generator, drafts: list[_Draft], limit: float) -> None:
    """Turn weekend-pattern children to ``any`` until their nights fit ``limit``."""
    weekend = [d for d in drafts if d.pattern is Pattern.WEEKEND]
    total = sum(d.granted for d in weekend)
    for k in rng.permutation(len(weekend)):
        if total <= limit:
            return
        weekend[int(k)].pattern = Pattern.ANY
        total -= weekend[int(k)].granted


def _residents(rng: np.random.Generator, houses: Sequence[House], ctx: _Context) -> list[_Draft]:
    """Level-6 residents filling every barnebolig place; some spend a weekend with family."""
    n = ctx.cal.n
    out: list[_Draft] = []
    for house in houses:
        if house.kind is not HouseKind.BARNEBOLIG:
            continue
        for _ in range(house.places):
            age = int(rng.integers(8, 10)) if rng.random() < 0.1 else int(rng.integers(10, 17))
            d = _Draft(
                group="5",
                category="5",
                level=6,
                birth=_birth_date(rng, ctx.cal.start, age),
                first=0,
                last=n - 1,
                granted=n,
                home=house.house_id,
            )
            if ctx.fridays and rng.random() < SHARE_RESIDENT_WEEKEND_HOME:
                for k in rng.choice(len(ctx.fridays), size=int(rng.integers(1, 3)), replace=False):
                    friday = ctx.fridays[int(k)]
                    d.away.append((friday, min(friday + 1, n - 1), UnavailableReason.FAMILY))
            out.append(d)
    return out


# --------------------------------------------------------------------------- wishes, pairs


def _in_range(values: tuple[int, ...], first: int, last: int) -> tuple[int, ...]:
    return values[bisect.bisect_left(values, first) : bisect.bisect_right(values, last)]


def _want_range(rng: np.random.Generator, d: _Draft, ctx: _Context) -> tuple[int, int] | None:
    """2–4 nights: a weekend (half), a holiday night (a quarter) or any night."""
    roll = rng.random()
    fridays = _in_range(ctx.fridays, d.first, d.last - 1)
    holidays = _in_range(ctx.holiday_nights, d.first, d.last - 1)
    if roll < 0.5 and fridays:
        first, length = fridays[int(rng.integers(len(fridays)))], int(rng.integers(2, 4))
    elif roll < 0.75 and holidays:
        first, length = holidays[int(rng.integers(len(holidays)))], int(rng.integers(2, 5))
    else:
        first, length = int(rng.integers(d.first, d.last + 1)), int(rng.integers(2, 5))
    return _clip(first, length, d)


def _avoid_range(rng: np.random.Generator, d: _Draft, ctx: _Context) -> tuple[int, int] | None:
    """1–3 nights of a family celebration, often on a weekend."""
    fridays = _in_range(ctx.fridays, d.first, d.last)
    if fridays and rng.random() < 0.5:
        first = fridays[int(rng.integers(len(fridays)))] + int(rng.integers(0, 2))
    else:
        first = int(rng.integers(d.first, d.last + 1))
    return _clip(first, int(rng.integers(1, 4)), d)


def _draw_wishes(rng: np.random.Generator, d: _Draft, ctx: _Context) -> None:
    """~40% want 1–3 ranges (weight 1–5); ~20% avoid one range (weight 5–10).

    Ranges that touch an unavailable night or an earlier wish are dropped.
    """
    taken = d.away_nights()
    if rng.random() < SHARE_WANTS:
        for _ in range(int(rng.integers(1, 4))):
            span = _want_range(rng, d, ctx)
            if span is not None and taken.isdisjoint(range(span[0], span[1] + 1)):
                d.wishes.append((*span, WishKind.WANT, int(rng.integers(1, 6))))
                taken.update(range(span[0], span[1] + 1))
    if rng.random() < SHARE_AVOIDS:
        span = _avoid_range(rng, d, ctx)
        if span is not None and taken.isdisjoint(range(span[0], span[1] + 1)):
            d.wishes.append((*span, WishKind.AVOID, int(rng.integers(5, 11))))


def _incompatible(rng: np.random.Generator, respite: Sequence[_Draft]) -> list[Incompatible]:
    """About one pair per 40 respite children, both of the same group."""
    by_group = {g: [d.child_id for d in respite if d.group == g] for g in GROUPS}
    groups = [g for g in GROUPS if len(by_group[g]) >= 2]
    if not groups:
        return []
    weights = np.asarray([len(by_group[g]) for g in groups], dtype=float)
    wanted = round(len(respite) / CHILDREN_PER_INCOMPATIBLE_PAIR)
    pairs: set[tuple[str, str]] = set()
    for _ in range(10 * wanted):
        if len(pairs) >= wanted:
            break
        ids = by_group[groups[int(rng.choice(len(groups), p=weights / weights.sum()))]]
        a, b = rng.choice(len(ids), size=2, replace=False)
        pairs.add(tuple(sorted((ids[int(a)], ids[int(b)]))))  # type: ignore[arg-type]
    return [Incompatible(child_a=a, child_b=b) for a, b in sorted(pairs)]


# --------------------------------------------------------------------------- assembly


def _assign_ids(rng: np.random.Generator, drafts: list[_Draft]) -> None:
    """Pseudonyms B0001, B0002, ... in a random order (an id tells nothing about the child)."""
    width = max(4, len(str(len(drafts))))
    for number, k in enumerate(rng.permutation(len(drafts)), start=1):
        drafts[int(k)].child_id = f"B{number:0{width}d}"


def _child(d: _Draft, cal: RoundCalendar) -> Child:
    return Child(
        child_id=d.child_id,
        birth_date=d.birth,
        category=d.category,
        level=d.level,
        granted_nights=d.granted,
        vedtak_from=cal.night(d.first),
        vedtak_to=cal.night(d.last),
        pattern=d.pattern,
        home_house=d.home,
        under_10_exception=_age_on(d.birth, cal.start) < 10,
        interdisciplinary_assessment=d.level >= 5,
    )


def _unavailable(drafts: Sequence[_Draft], cal: RoundCalendar) -> list[Unavailable]:
    rows = [
        Unavailable.model_validate(
            {"child_id": d.child_id, "from": cal.night(a), "to": cal.night(b), "reason": reason}
        )
        for d in drafts
        for a, b, reason in d.away
    ]
    return sorted(rows, key=lambda u: (u.child_id, u.from_, u.to))


def _wishes(drafts: Sequence[_Draft], cal: RoundCalendar) -> list[Wish]:
    rows = [
        Wish.model_validate(
            {
                "child_id": d.child_id,
                "from": cal.night(a),
                "to": cal.night(b),
                "kind": kind,
                "weight": weight,
            }
        )
        for d in drafts
        for a, b, kind, weight in d.wishes
    ]
    return sorted(rows, key=lambda w: (w.child_id, w.from_, w.to))


def demand_fraction(demand: float) -> float:
    """Granted ÷ usable capacity for a ``demand``: ``FILL`` at 1.0, 15 points more at 1.15.

    Up to 1.0 the grants are ``demand × FILL``; above it every extra 0.01 of demand adds one
    percent point of over-subscription (1.15 → 113.5 %).
    """
    return demand * FILL if demand <= 1 else FILL + (demand - 1)


def _respite_children(
    rng: np.random.Generator,
    houses: Sequence[House],
    config: RoundConfig,
    closures: Sequence[Closure],
    ctx: _Context,
    demand: float,
) -> list[_Draft]:
    """Per group: children whose grants reach ``demand × FILL ×`` the group's usable capacity,
    with weekend-pattern nights capped at `WEEKEND_SHARE` of the group's weekend places."""
    capacity = _group_capacity(houses, config, closures)
    weekend_places = _group_weekend_places(houses, config, closures, ctx.cal)
    drafts: list[_Draft] = []
    for group in GROUPS:
        target = round(demand_fraction(demand) * capacity[group])
        children = _group_children(rng, group, target, ctx)
        _cap_weekend(rng, children, WEEKEND_SHARE * weekend_places[group])
        drafts.extend(children)
    return drafts


def generate_round(
    *,
    scale: float = 1.0,
    seed: int = 1,
    demand: float = 1.0,
    start: dt.date = dt.date(2027, 1, 1),
    end: dt.date = dt.date(2027, 6, 30),
) -> RoundInput:
    """A synthetic, pseudonymous Bergen round that fills the houses' usable capacity.

    Parameters
    ----------
    scale
        1 = the seed's 15 houses (71 places). A whole number k > 1 repeats every house k times
        (ids ``-2``, ``-3``, ...; names `` 2``, `` 3``) with k times the children. A scale
        below 1 keeps one copy of each house with its places scaled down (at least 1).
    seed
        Seed of the ``numpy`` Generator: the same arguments give the same round.
    demand
        How full the houses are booked: 1.0 grants ``FILL`` (98.5 %) of each group's usable
        capacity, so a plan can give every night; 1.15 grants 113.5 % (see `demand_fraction`).
    start, end
        First and last night of the round (at most a year).

    Returns
    -------
    RoundInput
        Houses, children (levels 1–6), absences, wishes, incompatible pairs, a closure,
        calendar rows and a `RoundConfig` with the acute reserve.

    Raises
    ------
    ValueError
        For a non-positive or fractional (> 1) scale, a negative demand or bad dates.
    """
    if demand < 0:
        raise ValueError(f"demand must not be negative, got {demand}")
    houses = build_houses(scale)
    config = RoundConfig(
        start=start, end=end, acute_reserve=_acute_reserve(houses), time_limit=60, seed=1, workers=2
    )
    calendar: tuple[CalendarDay, ...] = tuple(
        norwegian_calendar_days(range(start.year, end.year + 1))
    )
    cal = RoundCalendar.build(start, end, calendar)
    closures = _closures(houses, cal)
    ctx = _context(houses, cal)
    rng = np.random.default_rng(seed)
    residents = _residents(rng, houses, ctx)
    respite = _respite_children(rng, houses, config, closures, ctx, demand)
    for d in respite:
        _draw_wishes(rng, d, ctx)
    drafts = residents + respite
    _assign_ids(rng, drafts)
    return RoundInput(
        config=config,
        houses=houses,
        children=tuple(sorted((_child(d, cal) for d in drafts), key=lambda c: c.child_id)),
        unavailable=tuple(_unavailable(drafts, cal)),
        wishes=tuple(_wishes(respite, cal)),
        incompatible=tuple(_incompatible(rng, respite)),
        closures=tuple(closures),
        calendar=calendar,
        source=f"generate_round(scale={scale}, seed={seed}, demand={demand}, {start}..{end})",
    )


# --------------------------------------------------------------------------- CLI


def summary(inp: RoundInput) -> str:
    """A few lines: children, levels, patterns, granted vs usable capacity per group."""
    capacity = group_capacity(inp)
    granted = granted_by_group(inp)
    levels = {k: sum(c.level == k for c in inp.children) for k in range(1, 7)}
    patterns = {p.value: sum(c.pattern is p for c in inp.children) for p in Pattern}
    lines = [
        f"{len(inp.children)} children, {len(inp.houses)} houses, {len(inp.nights)} nights",
        "levels " + ", ".join(f"{k}: {v}" for k, v in levels.items()),
        "patterns " + ", ".join(f"{k}: {v}" for k, v in patterns.items()),
    ]
    for group in GROUPS:
        share = granted[group] / capacity[group] if capacity[group] else 0.0
        lines.append(
            f"group {group}: granted {granted[group]} / usable {capacity[group]:.0f} ({share:.1%})"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m allocator.generate --scale 1 --seed 1 --demand 1.0 --out DIR``."""
    from allocator.io.write_input import write_round

    parser = argparse.ArgumentParser(description="Generate a synthetic Bergen respite round.")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--demand", type=float, default=1.0)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2027, 1, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2027, 6, 30))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        inp = generate_round(
            scale=args.scale, seed=args.seed, demand=args.demand, start=args.start, end=args.end
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_round(inp, args.out)
    print(summary(inp))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
