"""A capacity scenario: a small TOML file naming a base round and the changes to make to it.

A scenario file looks like this (every table is optional; see ``scenarios/README.md``)::

    name = "acute-2"                       # default: the file name without .toml
    description = "Two acute places ..."
    base = "../data/bergen"                # folder or .xlsx, relative to this file

    [round]                                # round length and solver settings
    start = 2027-01-01
    end = 2027-03-31
    time_limit = 60

    [weights]                              # objective weights (models.config.ObjectiveWeights)
    house_used = 40

    [acute_reserve]                        # the whole reserve: houses not named hold none
    vestlund = 1

    [houses.vestlund]                      # change an existing house
    add_places = 2                         # or places = 12; remove = true closes it for good

    [[new_houses]]                         # a house that does not exist yet
    house_id = "ny-kat4"
    places = 6
    categories = "4"

    [[closures]]                           # places closed over a range of nights
    house_id = "holbekken"
    from = 2027-04-01
    to = 2027-06-30
    places_closed = "all"

    [demand]
    scale = 1.10                           # granted nights × 1.10 (levels 1–5)
    [[demand.add_children]]
    count = 3
    category = "5"
    level = 3
    [demand.generate]                      # a new seeded roster instead of the base's children
    seed = 2

Parsing checks the file alone (`load_scenario`); house ids are checked against the base when the
scenario is applied (`allocator.scenario.apply.apply_scenario`). Every problem is an
`allocator.io.errors.Problem` naming the scenario file, the TOML line and the key.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from allocator.io.errors import InputError, Problem
from models.categories import Category, parse_categories
from models.config import ObjectiveWeights
from models.inputs import HouseKind, Owner, Pattern

__all__ = [
    "AddChildren",
    "ClosureChange",
    "Demand",
    "Generate",
    "HouseChange",
    "NewHouse",
    "RoundChange",
    "Scenario",
    "load_scenario",
    "parse_scenario",
]

_ID = r"^[A-Za-z0-9_.\-]+$"
_TOML_LINE = re.compile(r"at line (\d+)")


class _Strict(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored in a what-if."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _categories(value: object) -> str:
    """Normalise a category list (``"2;3"``, ``[2, 3]``, ``5``) to ``"2;3"``; bad ones raise."""
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    return ";".join(sorted(parse_categories(value)))


class HouseChange(_Strict):
    """Changes to one existing house (``[houses.<house_id>]``).

    ``places`` sets the places, ``add_places`` adds (negative: removes) places; give one or
    neither. ``remove = true`` takes the house out of the round (its children lose their home
    house, its closures, reserve and pins go with it).
    """

    places: int | None = Field(default=None, ge=0, le=200)
    add_places: int | None = Field(default=None, ge=-200, le=200)
    remove: bool = False
    name: str | None = None
    categories: str | None = None
    conditional_categories: str | None = None
    night_watch: bool | None = None
    price_per_night: float | None = Field(default=None, ge=0)
    acute_reserve: int | None = Field(default=None, ge=0, le=200)

    @field_validator("categories", "conditional_categories", mode="before")
    @classmethod
    def _norm(cls, value: object) -> object:
        return None if value is None else _categories(value)

    @model_validator(mode="after")
    def _one_way(self) -> HouseChange:
        if self.places is not None and self.add_places is not None:
            raise ValueError("give places or add_places, not both")
        return self


class NewHouse(_Strict):
    """A house added by the scenario (``[[new_houses]]``).

    ``night_watch`` defaults to true when the house takes category 3, 4, 5 or P;
    ``nights_per_place_year`` to 350 (365 for a barnebolig), as in the seed.
    """

    house_id: str = Field(min_length=1, max_length=40, pattern=_ID)
    name: str = ""
    kind: HouseKind = HouseKind.AVLASTNINGSBOLIG
    owner: Owner = Owner.KOMMUNAL
    places: int = Field(ge=0, le=200)
    categories: str
    conditional_categories: str = ""
    night_watch: bool | None = None
    nights_per_place_year: int | None = Field(default=None, ge=0, le=366)
    price_per_night: float = Field(default=0.0, ge=0)
    acute_reserve: int = Field(default=0, ge=0, le=200)

    @field_validator("categories", "conditional_categories", mode="before")
    @classmethod
    def _norm(cls, value: object) -> object:
        return _categories(value)

    @model_validator(mode="after")
    def _has_category(self) -> NewHouse:
        if not self.categories and not self.conditional_categories:
            raise ValueError("a new house needs at least one category")
        if self.acute_reserve > self.places:
            raise ValueError(
                f"acute_reserve {self.acute_reserve} is more than {self.places} places"
            )
        return self


class ClosureChange(_Strict):
    """Places closed in a house over a range of nights (``[[closures]]``), both ends included.

    ``places_closed = "all"`` closes every place the house has after the scenario's changes.
    """

    house_id: str = Field(min_length=1, max_length=40, pattern=_ID)
    from_: dt.date = Field(alias="from")
    to: dt.date
    places_closed: int | Literal["all"] = "all"

    @field_validator("places_closed")
    @classmethod
    def _non_negative(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 0 <= value <= 200:
            raise ValueError('places_closed must be between 0 and 200, or "all"')
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ClosureChange:
        if self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        return self


class AddChildren(_Strict):
    """``count`` new children of one category and level (``[[demand.add_children]]``).

    ``granted_nights`` defaults to the middle of the level's band for the round (level 6: every
    night). Ids are ``<prefix>0001``, ... (pseudonyms), skipping ids the round already has.
    """

    count: int = Field(ge=1, le=1000)
    category: Category
    level: int = Field(ge=1, le=6)
    granted_nights: int | None = Field(default=None, ge=1, le=366)
    pattern: Pattern = Pattern.ANY
    age: int = Field(default=12, ge=0, le=18)
    home_house: str | None = Field(default=None, pattern=_ID)
    prefix: str = Field(default="S", pattern=r"^[A-Za-z]{1,4}$")

    @field_validator("category", mode="before")
    @classmethod
    def _one_category(cls, value: object) -> object:
        cats = parse_categories(value)
        if len(cats) != 1:
            raise ValueError(f"expected one category of 2 3 4 5 P, got {value!r}")
        return next(iter(cats))


class Generate(_Strict):
    """A seeded roster from `allocator.generate.generate_round` replaces the base's children,
    absences, wishes and incompatible pairs (``[demand.generate]``); the houses stay."""

    seed: int = Field(ge=0, le=1_000_000)
    scale: float = Field(default=1.0, gt=0, le=20)
    demand: float = Field(default=1.0, ge=0, le=5)


class Demand(_Strict):
    """Demand changes (``[demand]``): applied in the order generate, scale, add_children,
    residents_over_capacity."""

    scale: float | None = Field(default=None, gt=0, le=5)
    add_children: list[AddChildren] = Field(default_factory=list)
    generate: Generate | None = None
    residents_over_capacity: Literal["error", "respite"] = "error"
    """Barnebolig residents (level 6) beyond the barnebolig places of their category:
    ``error`` leaves them (the planner then names the resident without a bed); ``respite``
    turns the last of them into level-5 respite children with level 5's top grant."""


class RoundChange(_Strict):
    """Round length and solver settings (``[round]``); unset keys keep the base's values."""

    start: dt.date | None = None
    end: dt.date | None = None
    time_limit: float | None = Field(default=None, gt=0)
    seed: int | None = Field(default=None, ge=0, le=1_000_000)
    workers: int | None = Field(default=None, ge=1, le=64)
    method: Literal["auto", "monolithic", "decomposed"] | None = None


class Scenario(_Strict):
    """A parsed scenario file. ``path`` is the file it came from (set by `load_scenario`)."""

    name: str = Field(default="", max_length=80)
    description: str = ""
    base: str = Field(min_length=1)
    round: RoundChange = Field(default_factory=RoundChange)
    weights: dict[str, int] = Field(default_factory=dict)
    acute_reserve: dict[str, int] | None = None
    houses: dict[str, HouseChange] = Field(default_factory=dict)
    new_houses: list[NewHouse] = Field(default_factory=list)
    closures: list[ClosureChange] = Field(default_factory=list)
    demand: Demand = Field(default_factory=Demand)
    path: Path = Field(default=Path("scenario.toml"), exclude=True)
    _lines: dict[str, int] = PrivateAttr(default_factory=dict)

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, value: dict[str, int]) -> dict[str, int]:
        # Validate against the real weights model so bounds and names stay in one place.
        ObjectiveWeights.model_validate(value)
        return value

    @field_validator("acute_reserve")
    @classmethod
    def _non_negative(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        for house_id, places in (value or {}).items():
            if places < 0:
                raise ValueError(f"acute_reserve.{house_id} is negative")
        return value

    @property
    def base_path(self) -> Path:
        """The base round, resolved against the scenario file's folder."""
        base = Path(self.base)
        return base if base.is_absolute() else Path(os.path.normpath(self.path.parent / base))

    def line_of(self, key: str) -> int | None:
        """The line of the file that sets ``key`` (or its nearest parent), if known."""
        parts = key.split(".")
        while parts:
            line = self._lines.get(".".join(parts))
            if line is not None:
                return line
            parts.pop()
        return None

    @property
    def label(self) -> str:
        return str(self.path)


def _key_lines(text: str) -> dict[str, int]:
    """Map dotted keys of a scenario file to the line they are set on (first wins).

    Arrays of tables get an index: the second ``[[closures]]`` block's ``house_id`` is
    ``closures.1.house_id``, which is how pydantic names its location.
    """
    rows: dict[str, int] = {}
    table = ""
    counts: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if stripped.startswith("[["):
            name = stripped.strip("[]").strip().replace('"', "")
            index = counts.get(name, 0)
            counts[name] = index + 1
            table = f"{name}.{index}"
            rows.setdefault(table, number)
        elif stripped.startswith("["):
            table = stripped.strip("[]").strip().replace('"', "")
            # A sub-table of the last array element: [demand.generate] stays as it is.
            rows.setdefault(table, number)
        elif "=" in stripped:
            key = stripped.split("=", 1)[0].strip().replace('"', "").replace(" ", "")
            full = f"{table}.{key}" if table else key
            rows.setdefault(full, number)
            # Inline tables: "acute_reserve = { a = 1 }" puts acute_reserve.a on this line.
            for inner in re.findall(r"([A-Za-z0-9_.\-]+)\s*=", stripped.split("=", 1)[1]):
                rows.setdefault(f"{full}.{inner}", number)
    return rows


def _allowed(model: type[BaseModel]) -> str:
    return ", ".join(
        info.alias or name for name, info in model.model_fields.items() if name != "path"
    )


_MODEL_AT: dict[str, type[BaseModel]] = {
    "round": RoundChange,
    "houses": HouseChange,
    "new_houses": NewHouse,
    "closures": ClosureChange,
    "demand": Demand,
    "add_children": AddChildren,
    "generate": Generate,
    "weights": ObjectiveWeights,
}


def _model_for(loc: tuple[str, ...]) -> type[BaseModel]:
    """The model whose keys are allowed at the parent of ``loc`` (for 'allowed: ...')."""
    for part in reversed(loc[:-1]):
        if part in _MODEL_AT:
            return _MODEL_AT[part]
    return Scenario


def _problem(label: str, lines: Mapping[str, int], error: Mapping[str, Any]) -> Problem:
    loc = tuple(str(p) for p in error["loc"])
    key = ".".join(loc)
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        message = f"unknown key '{loc[-1]}' (allowed: {_allowed(_model_for(loc))})"
    elif kind == "missing":
        message = "required key is missing"
    elif key == "weights" and "extra" in message.lower():
        message = f"unknown weight (allowed: {_allowed(ObjectiveWeights)}); {message}"
    elif isinstance(error.get("input"), str | int | float | bool | dt.date):
        message = f"{message} (got {error['input']!r})"
    line = lines.get(key)
    while line is None and loc:
        loc = loc[:-1]
        line = lines.get(".".join(loc))
    return Problem(label, line, key or None, message)


def _weights_problems(
    label: str, lines: Mapping[str, int], data: Mapping[str, Any]
) -> list[Problem]:
    """Name each bad weight by its own key (the weights model is validated as a whole)."""
    weights = data.get("weights")
    if not isinstance(weights, Mapping):
        return []
    try:
        ObjectiveWeights.model_validate(weights)
    except ValidationError as exc:
        out = []
        for error in exc.errors():
            loc = ("weights", *(str(p) for p in error["loc"]))
            out.append(_problem(label, lines, {**error, "loc": loc}))
        return out
    return []


def parse_scenario(text: str, path: Path) -> Scenario:
    """Parse the text of a scenario file; ``path`` names it in errors and resolves ``base``.

    Raises
    ------
    InputError
        Every problem in the file, each with file, line and key.
    """
    label = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        raise InputError([Problem(label, line, None, f"not valid TOML: {exc}")]) from None
    lines = _key_lines(text)
    problems = _weights_problems(label, lines, data)
    if "path" in data:  # a field of the model (the file itself), never a key of the file
        allowed = _allowed(Scenario)
        message = f"unknown key 'path' (allowed: {allowed})"
        problems.append(Problem(label, lines.get("path"), "path", message))
        data = {k: v for k, v in data.items() if k != "path"}
    try:
        scenario = Scenario.model_validate({**data, "path": path})
    except ValidationError as exc:
        problems += [
            _problem(label, lines, e) for e in exc.errors() if e["loc"][:1] != ("weights",)
        ]
        raise InputError(sorted(problems, key=lambda p: p.row or 0)) from None
    if problems:
        raise InputError(problems)
    if not scenario.name:
        scenario = scenario.model_copy(update={"name": path.stem})
    scenario._lines = dict(lines)
    if not scenario.base_path.exists():
        message = f"base {scenario.base!r} not found (looked for {scenario.base_path})"
        raise InputError([Problem(label, lines.get("base"), "base", message)])
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and parse a scenario file.

    Parameters
    ----------
    path
        A ``.toml`` scenario file.

    Returns
    -------
    Scenario
        The parsed scenario, with ``path`` set and ``name`` defaulting to the file's stem.

    Raises
    ------
    InputError
        When the file cannot be read, is not TOML, has unknown keys or bad values, or names a
        base that does not exist; every problem names the file, line and key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(str(path), None, None, "scenario file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), None, None, f"cannot be read: {exc}")]) from None
    return parse_scenario(text, path)
