"""Apply a `Scenario` to its base round: a new, validated `RoundInput` and a list of changes.

Order of the changes: roster generator, round length, houses (changed, removed, new), closures,
acute reserve, demand scale, added children, weights and solver settings. Each step works on
the result of the one before, so ``places_closed = "all"`` sees the places after the house
changes and added children see the round's new length.

Decisions (documented in ``scenarios/README.md`` too):

- **Demand scale** multiplies the grant of every child of levels 1–5 and rounds it (at least one
  night). The level follows the grant: a child whose new grant leaves its level's band (the
  yearly bands of the guideline scaled to the vedtak's round nights, as `allocator.validate`
  does) moves to the level whose band holds it; a grant never passes level 5's top (275 nights
  a year: "over 275 nights → barnebolig as a rule") nor the vedtak's round nights. Barnebolig
  residents (level 6) already live there every night and are left alone: more barnebolig
  demand is added as level-6 children.
- **Round length**: a child's grant is scaled by its vedtak's round nights in the new round over
  those in the old one (a vedtak grants nights for its period); level-6 residents get every
  night; children with no vedtak night in the new round leave, with their rows; pins are cut
  to the new round.
- **Removed house**: its children lose the home house, its closures, reserve and pins go.
  A changed category list that no longer takes a child's category also clears that home house.
- **Generator**: ``[demand.generate]`` replaces the children, absences, wishes, incompatible
  pairs and pins with a seeded Bergen roster for the round's dates; the base's houses stay (a
  home house the base lacks is cleared). Grants fill the generated Bergen houses × demand.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from allocator.io.errors import InputError, Problem
from allocator.io.reader import read_round
from allocator.scenario.spec import AddChildren, Scenario
from allocator.validate import LEVEL_BANDS, guideline_errors
from models.config import ObjectiveWeights
from models.inputs import Child, Closure, House, HouseKind, Pin
from models.round_input import RoundInput

__all__ = ["Applied", "apply", "apply_scenario", "read_base", "round_with"]

DAYS_PER_YEAR = 365
LEVEL5_TOP_PER_YEAR = 275
NIGHT_WATCH_CATEGORIES = frozenset({"3", "4", "5", "P"})


@dataclass(frozen=True)
class Applied:
    """A scenario applied: the base round, the new round and what changed, in words."""

    scenario: Scenario
    base: RoundInput
    inp: RoundInput
    changes: list[str] = field(default_factory=list)


def round_with(inp: RoundInput, **changes: Any) -> RoundInput:
    """A copy of ``inp`` with some fields changed. (`dataclasses.replace` would hand the copy
    the original's private id maps, which its ``__post_init__`` then overwrites.)"""
    fields: dict[str, Any] = {
        "config": inp.config,
        "houses": inp.houses,
        "children": inp.children,
        "unavailable": inp.unavailable,
        "wishes": inp.wishes,
        "incompatible": inp.incompatible,
        "closures": inp.closures,
        "calendar": inp.calendar,
        "pins": inp.pins,
        "source": inp.source,
    }
    fields.update(changes)
    return RoundInput(**fields)


def read_base(scenario: Scenario) -> RoundInput:
    """Read the scenario's base round (its errors name the base's own files)."""
    return read_round(scenario.base_path)


def apply_scenario(scenario: Scenario, base: RoundInput | None = None) -> RoundInput:
    """Return the scenario's round: its base with every change applied and validated.

    Parameters
    ----------
    scenario
        A parsed scenario (`allocator.scenario.spec.load_scenario`).
    base
        The base round, when already read; else it is read from ``scenario.base_path``.

    Raises
    ------
    InputError
        Bad base input (naming the base's files) or a change that cannot apply: an unknown
        house, a reserve above a house's places, a barnebolig child left without its grant
        (naming the scenario file and key).
    """
    return apply(scenario, base).inp


def apply(scenario: Scenario, base: RoundInput | None = None) -> Applied:
    """Like `apply_scenario`, also returning the base and the list of changes."""
    base = read_base(scenario) if base is None else base
    step = _Step(scenario, base)
    step.generate()
    step.round_length()
    step.change_houses()
    step.add_new_houses()
    step.add_closures()
    step.set_acute_reserve()
    step.demand_scale()
    step.add_children()
    step.residents_over_capacity()
    step.settings()
    inp = step.build()
    return Applied(scenario, base, inp, step.changes)


def _vedtak_nights(child: Child, start: dt.date, end: dt.date) -> int:
    first, last = max(start, child.vedtak_from), min(end, child.vedtak_to)
    return max(0, (last - first).days + 1)


def _band(level: int, nights: int) -> tuple[int, int]:
    """The level's yearly band scaled to ``nights`` (rounded outwards, as `validate` does)."""
    low, high = LEVEL_BANDS[level]
    top = LEVEL5_TOP_PER_YEAR if high is None else high
    return math.floor(low * nights / DAYS_PER_YEAR), math.ceil(top * nights / DAYS_PER_YEAR)


def _level_for(granted: int, nights: int, current: int) -> int:
    """Keep ``current`` when its band holds the grant, else the lowest level whose does."""
    low, high = _band(current, nights)
    if low <= granted <= high:
        return current
    for level in range(1, 6):
        if granted <= _band(level, nights)[1]:
            return level
    return 5


class _Step:
    """The round under construction; each method applies one kind of change."""

    def __init__(self, scenario: Scenario, base: RoundInput) -> None:
        self.sc = scenario
        self.label = scenario.label
        self.config = base.config
        self.houses: list[House] = list(base.houses)
        self.children: list[Child] = list(base.children)
        self.unavailable = list(base.unavailable)
        self.wishes = list(base.wishes)
        self.incompatible = list(base.incompatible)
        self.closure_rows: list[Closure] = list(base.closures)
        self.calendar = list(base.calendar)
        self.pins: list[Pin] = list(base.pins)
        self.reserve: dict[str, int] = dict(base.config.acute_reserve)
        self.changes: list[str] = []
        self.problems: list[Problem] = []

    # -- helpers --------------------------------------------------------------------------

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.label, self.sc.line_of(key), key, message))

    def house_ids(self) -> set[str]:
        return {h.house_id for h in self.houses}

    def known_house(self, house_id: str, key: str) -> bool:
        if house_id in self.house_ids():
            return True
        known = ", ".join(sorted(self.house_ids()))
        self.problem(key, f"unknown house {house_id!r} (the round has: {known})")
        return False

    def keep_children(self, keep: set[str]) -> None:
        """Drop every child not in ``keep`` together with its rows."""
        self.children = [c for c in self.children if c.child_id in keep]
        self.unavailable = [u for u in self.unavailable if u.child_id in keep]
        self.wishes = [w for w in self.wishes if w.child_id in keep]
        self.incompatible = [
            p for p in self.incompatible if p.child_a in keep and p.child_b in keep
        ]
        self.pins = [p for p in self.pins if p.child_id in keep]

    def clear_home(self, house_id: str, why: str) -> None:
        cleared = [c for c in self.children if c.home_house == house_id]
        self.children = [
            c.model_copy(update={"home_house": None}) if c.home_house == house_id else c
            for c in self.children
        ]
        if cleared:
            self.changes.append(f"{len(cleared)} children lose home house {house_id} ({why})")

    # -- steps ----------------------------------------------------------------------------

    def generate(self) -> None:
        gen = self.sc.demand.generate
        if gen is None:
            return
        from allocator.generate import generate_round

        try:
            made = generate_round(
                scale=gen.scale,
                seed=gen.seed,
                demand=gen.demand,
                start=self.config.start,
                end=self.config.end,
            )
        except ValueError as exc:
            self.problem("demand.generate", str(exc))
            return
        ids = self.house_ids()
        self.children = [
            c
            if c.home_house in ids or c.home_house is None
            else c.model_copy(update={"home_house": None})
            for c in made.children
        ]
        self.unavailable = list(made.unavailable)
        self.wishes = list(made.wishes)
        self.incompatible = list(made.incompatible)
        self.pins = []
        granted = sum(c.granted_nights for c in self.children)
        self.changes.append(
            f"roster generated (seed {gen.seed}, scale {gen.scale:g}, demand {gen.demand:g}):"
            f" {len(self.children)} children, {granted} granted nights"
        )

    def round_length(self) -> None:
        r = self.sc.round
        if r.start is None and r.end is None:
            return
        old_start, old_end = self.config.start, self.config.end
        start = r.start or old_start
        end = r.end or old_end
        if end < start:
            self.problem("round.end", f"end {end} is before start {start}")
            return
        if (end - start).days > 366:
            self.problem("round.end", "a round covers at most one year")
            return
        kept: list[Child] = []
        for c in self.children:
            new_n = _vedtak_nights(c, start, end)
            if new_n == 0:
                continue
            old_n = _vedtak_nights(c, old_start, old_end)
            if c.level == 6:
                granted = new_n
            elif old_n == 0:
                granted = c.granted_nights
            else:
                granted = max(1, round(c.granted_nights * new_n / old_n)) if c.granted_nights else 0
            kept.append(c.model_copy(update={"granted_nights": min(granted, 366)}))
        dropped = len(self.children) - len(kept)
        self.children = kept
        self.keep_children({c.child_id for c in kept})
        self.pins = [
            _clip_pin(p, start, end) for p in self.pins if p.to >= start and p.from_ <= end
        ]
        self.config = self.config.model_copy(update={"start": start, "end": end})
        self._extend_calendar(start, end)
        text = (
            f"round {old_start} – {old_end} → {start} – {end}; grants scaled to the vedtak nights"
        )
        if dropped:
            text += f"; {dropped} children with no vedtak night in the new round leave"
        self.changes.append(text)

    def _extend_calendar(self, start: dt.date, end: dt.date) -> None:
        have = {d.from_.year for d in self.calendar}
        missing = [y for y in range(start.year, end.year + 1) if y not in have]
        if missing and self.calendar:
            from allocator.calendar import norwegian_calendar_days

            self.calendar.extend(norwegian_calendar_days(missing))

    def change_houses(self) -> None:
        for house_id, change in self.sc.houses.items():
            key = f"houses.{house_id}"
            if not self.known_house(house_id, key):
                continue
            index = next(i for i, h in enumerate(self.houses) if h.house_id == house_id)
            old = self.houses[index]
            if change.remove:
                del self.houses[index]
                self.reserve.pop(house_id, None)
                self.closure_rows = [c for c in self.closure_rows if c.house_id != house_id]
                self.pins = [p for p in self.pins if p.house_id != house_id]
                self.changes.append(f"house {house_id} removed ({old.places} places)")
                self.clear_home(house_id, "house removed")
                continue
            update: dict[str, object] = {}
            if change.places is not None:
                update["places"] = change.places
            elif change.add_places is not None:
                places = old.places + change.add_places
                if places < 0:
                    self.problem(
                        f"{key}.add_places",
                        f"{old.places} places {change.add_places:+d} is below zero",
                    )
                    continue
                update["places"] = places
            for name in ("name", "night_watch", "price_per_night"):
                value = getattr(change, name)
                if value is not None:
                    update[name] = value
            for name in ("categories", "conditional_categories"):
                value = getattr(change, name)
                if value is not None:
                    update[name] = value
            try:
                new = House.model_validate({**old.model_dump(), **update})
            except ValueError as exc:
                self.problem(key, str(exc).splitlines()[-1].strip())
                continue
            self.houses[index] = new
            if change.acute_reserve is not None:
                self.reserve[house_id] = change.acute_reserve
            for name, value in update.items():
                self.changes.append(
                    f"{house_id}: {name} {_show(getattr(old, name))} → {_show(value)}"
                )
            if change.acute_reserve is not None:
                self.changes.append(f"{house_id}: acute reserve → {change.acute_reserve}")
            if any(c.home_house == house_id and not new.accepts(c.category) for c in self.children):
                self._clear_some(house_id, new)

    def _clear_some(self, house_id: str, house: House) -> None:
        n = 0
        out = []
        for c in self.children:
            if c.home_house == house_id and not house.accepts(c.category):
                out.append(c.model_copy(update={"home_house": None}))
                n += 1
            else:
                out.append(c)
        self.children = out
        self.changes.append(f"{n} children lose home house {house_id} (category no longer taken)")

    def add_new_houses(self) -> None:
        for i, spec in enumerate(self.sc.new_houses):
            key = f"new_houses.{i}.house_id"
            if spec.house_id in self.house_ids():
                self.problem(key, f"house {spec.house_id!r} already exists in the round")
                continue
            cats = set(spec.categories.split(";")) | set(spec.conditional_categories.split(";"))
            barnebolig = spec.kind is HouseKind.BARNEBOLIG
            house = House(
                house_id=spec.house_id,
                name=spec.name or f"New house {spec.house_id}",
                kind=spec.kind,
                owner=spec.owner,
                places=spec.places,
                categories=spec.categories,
                conditional_categories=spec.conditional_categories,
                night_watch=(
                    spec.night_watch
                    if spec.night_watch is not None
                    else bool(cats & NIGHT_WATCH_CATEGORIES)
                ),
                nights_per_place_year=(
                    spec.nights_per_place_year
                    if spec.nights_per_place_year is not None
                    else 365
                    if barnebolig
                    else 350
                ),
                price_per_night=spec.price_per_night,
            )
            self.houses.append(house)
            if spec.acute_reserve:
                self.reserve[spec.house_id] = spec.acute_reserve
            extra = f", acute reserve {spec.acute_reserve}" if spec.acute_reserve else ""
            self.changes.append(
                f"new {spec.kind.value} {spec.house_id}: {spec.places} places, categories"
                f" {_show(house.categories)}"
                + (
                    f" and ({_show(house.conditional_categories)})"
                    if spec.conditional_categories
                    else ""
                )
                + f", {house.price_per_night:,.0f} a night{extra}"
            )

    def add_closures(self) -> None:
        by_id = {h.house_id: h for h in self.houses}
        for i, change in enumerate(self.sc.closures):
            if not self.known_house(change.house_id, f"closures.{i}.house_id"):
                continue
            house = by_id[change.house_id]
            closed = house.places if change.places_closed == "all" else change.places_closed
            if closed > house.places:
                self.problem(
                    f"closures.{i}.places_closed",
                    f"{closed} places closed but {change.house_id} has {house.places}",
                )
                continue
            self.closure_rows.append(
                Closure.model_validate(
                    {
                        "house_id": change.house_id,
                        "from": change.from_,
                        "to": change.to,
                        "places_closed": closed,
                    }
                )
            )
            self.changes.append(
                f"{change.house_id}: {closed} of {house.places} places closed"
                f" {change.from_} – {change.to}"
            )

    def set_acute_reserve(self) -> None:
        if self.sc.acute_reserve is None:
            return
        wanted: dict[str, int] = {}
        for house_id, places in self.sc.acute_reserve.items():
            if self.known_house(house_id, f"acute_reserve.{house_id}"):
                wanted[house_id] = places
        # Per-house reserves set in [houses.X] or [[new_houses]] come on top of the table.
        for house_id, change in self.sc.houses.items():
            if change.acute_reserve is not None:
                wanted[house_id] = change.acute_reserve
        for spec in self.sc.new_houses:
            if spec.acute_reserve:
                wanted[spec.house_id] = spec.acute_reserve
        before = sum(self.reserve.values())
        self.reserve = {h: p for h, p in wanted.items() if p > 0}
        shown = ", ".join(f"{h} {p}" for h, p in self.reserve.items()) or "none"
        self.changes.append(
            f"acute reserve {before} → {sum(self.reserve.values())} places ({shown})"
        )

    def demand_scale(self) -> None:
        scale = self.sc.demand.scale
        if scale is None:
            return
        start, end = self.config.start, self.config.end
        before = sum(c.granted_nights for c in self.children)
        moved = 0
        out: list[Child] = []
        for c in self.children:
            if c.level == 6 or c.granted_nights == 0:
                out.append(c)
                continue
            nights = _vedtak_nights(c, start, end)
            cap = min(nights, _band(5, nights)[1]) if nights else c.granted_nights
            granted = min(max(1, round(c.granted_nights * scale)), max(cap, 1), 366)
            # A level moves only when the base grant sat inside its band and the new one
            # leaves it: grants already outside their band (tiny test rounds) keep their level.
            low, high = _band(c.level, nights) if nights else (0, 0)
            inside = nights > 0 and low <= c.granted_nights <= high
            level = _level_for(granted, nights, c.level) if inside else c.level
            moved += level != c.level
            out.append(c.model_copy(update={"granted_nights": granted, "level": level}))
        self.children = out
        after = sum(c.granted_nights for c in self.children)
        self.changes.append(
            f"granted nights × {scale:g} (levels 1–5): {before} → {after}"
            + (f"; {moved} children change level" if moved else "")
        )

    def add_children(self) -> None:
        taken = {c.child_id for c in self.children}
        for i, spec in enumerate(self.sc.demand.add_children):
            key = f"demand.add_children.{i}"
            if spec.home_house is not None and not self.known_house(
                spec.home_house, f"{key}.home_house"
            ):
                continue
            new = self._new_children(spec, taken, key)
            self.children.extend(new)
            granted = sum(c.granted_nights for c in new)
            self.changes.append(
                f"{len(new)} children added: category {spec.category}, level {spec.level},"
                f" {granted} granted nights ({new[0].child_id} – {new[-1].child_id})"
                if new
                else f"{key}: no children added"
            )

    def _new_children(self, spec: AddChildren, taken: set[str], key: str) -> list[Child]:
        start, end = self.config.start, self.config.end
        nights = (end - start).days + 1
        if spec.level == 6:
            granted = nights
        elif spec.granted_nights is not None:
            granted = spec.granted_nights
        else:
            low, high = _band(spec.level, nights)
            granted = max(1, (max(low, 1) + high) // 2)
        if spec.level < 6 and granted > nights:
            self.problem(
                f"{key}.granted_nights", f"{granted} nights granted but the round has {nights}"
            )
            return []
        birth = dt.date(start.year - spec.age, 1, 1) - dt.timedelta(days=1)
        out: list[Child] = []
        number = 1
        while len(out) < spec.count:
            child_id = f"{spec.prefix}{number:04d}"
            number += 1
            if child_id in taken:
                continue
            taken.add(child_id)
            out.append(
                Child(
                    child_id=child_id,
                    birth_date=birth,
                    category=spec.category,
                    level=spec.level,
                    granted_nights=granted,
                    vedtak_from=start,
                    vedtak_to=end,
                    pattern=spec.pattern,
                    home_house=spec.home_house,
                    under_10_exception=spec.age < 10,
                    interdisciplinary_assessment=spec.level >= 5,
                )
            )
        return out

    def residents_over_capacity(self) -> None:
        if self.sc.demand.residents_over_capacity != "respite":
            return
        beds: dict[str, int] = {}
        for h in self.houses:
            if h.kind is HouseKind.BARNEBOLIG:
                for cat in h.categories | h.conditional_categories:
                    beds[cat] = beds.get(cat, 0) + h.places
        start, end = self.config.start, self.config.end
        by_house = {h.house_id: h for h in self.houses}
        moved: list[str] = []
        for cat in sorted({c.category for c in self.children if c.level == 6}):
            residents = [c for c in self.children if c.level == 6 and c.category == cat]
            excess = len(residents) - beds.get(cat, 0)
            if excess <= 0:
                continue

            # Those whose home barnebolig is over-full move first, then the highest ids.
            homes = [c.home_house for c in residents]
            crowded = {
                c.child_id: by_house.get(c.home_house or "") is None
                or homes.count(c.home_house) > by_house[c.home_house or ""].places
                for c in residents
            }
            chosen = sorted(residents, key=lambda c: (crowded[c.child_id], c.child_id))[-excess:]
            ids = {c.child_id for c in chosen}
            out = []
            for c in self.children:
                if c.child_id in ids:
                    nights = _vedtak_nights(c, start, end)
                    granted = max(1, min(nights, _band(5, nights)[1]))
                    c = c.model_copy(
                        update={"level": 5, "granted_nights": granted, "home_house": None}
                    )
                out.append(c)
            self.children = out
            moved += sorted(ids)
        if moved:
            self.changes.append(
                f"{len(moved)} barnebolig residents without a bed get level-5 respite instead"
                f" ({', '.join(moved)})"
            )

    def settings(self) -> None:
        r = self.sc.round
        update: dict[str, object] = {}
        for name in ("time_limit", "seed", "workers", "method"):
            value = getattr(r, name)
            if value is not None:
                update[name] = value
                self.changes.append(f"{name} {getattr(self.config, name)} → {value}")
        if self.sc.weights:
            weights = ObjectiveWeights.model_validate(
                {**self.config.weights.model_dump(), **self.sc.weights}
            )
            update["weights"] = weights
            for name, value in self.sc.weights.items():
                self.changes.append(f"weight {name} {getattr(self.config.weights, name)} → {value}")
        if update:
            self.config = self.config.model_copy(update=update)

    # -- result ---------------------------------------------------------------------------

    def check_reserve(self) -> None:
        by_id = {h.house_id: h for h in self.houses}
        for house_id, places in self.reserve.items():
            house = by_id.get(house_id)
            key = f"acute_reserve.{house_id}"
            if house is None:
                continue
            if places > house.places:
                self.problem(key, f"acute reserve {places} is more than the {house.places} places")
            if places > 0 and house.kind is HouseKind.BARNEBOLIG:
                self.problem(key, "an acute reserve in a barnebolig takes a bed from its residents")

    def check_homes(self) -> None:
        by_id = {h.house_id: h for h in self.houses}
        for c in self.children:
            home = by_id.get(c.home_house or "")
            if c.home_house and home is None:
                self.problem("demand", f"child {c.child_id}: unknown home house {c.home_house!r}")
            elif home is not None and not home.accepts(c.category):
                self.problem(
                    "demand",
                    f"child {c.child_id}: home house {home.house_id} does not take category"
                    f" {c.category}",
                )

    def build(self) -> RoundInput:
        self.check_reserve()
        self.check_homes()
        if self.problems:
            raise InputError(self.problems)
        config = self.config.model_validate(
            {**self.config.model_dump(), "acute_reserve": dict(self.reserve)}
        )
        inp = RoundInput(
            config=config,
            houses=tuple(self.houses),
            children=tuple(self.children),
            unavailable=tuple(self.unavailable),
            wishes=tuple(self.wishes),
            incompatible=tuple(self.incompatible),
            closures=tuple(self.closure_rows),
            calendar=tuple(self.calendar),
            pins=tuple(self.pins),
            source=f"{self.sc.base_path} + {self.label}",
        )
        errors = guideline_errors(round_with(inp, source=""))
        if errors:
            raise InputError(
                Problem(self.label, None, "demand", f"after the changes: {e}") for e in errors
            )
        return inp


def _clip_pin(pin: Pin, start: dt.date, end: dt.date) -> Pin:
    return pin.model_copy(update={"from_": max(pin.from_, start), "to": min(pin.to, end)})


def _show(value: object) -> str:
    if isinstance(value, frozenset | set):
        return ";".join(sorted(str(v) for v in value)) or "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
