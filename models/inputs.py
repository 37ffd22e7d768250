"""Input rows of a round (DOMAIN.md, data contract v1), validated at the edge with pydantic.

Each class is one row of one input file. Field names are the contract's column names.
Cross-row checks (unknown house, duplicate child, ...) live in `models.round_input`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from models.categories import Category, parse_categories


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)


class HouseKind(StrEnum):
    AVLASTNINGSBOLIG = "avlastningsbolig"
    BARNEBOLIG = "barnebolig"


class Owner(StrEnum):
    KOMMUNAL = "kommunal"
    PRIVAT_IDEELL = "privat-ideell"
    PRIVAT = "privat"


class Pattern(StrEnum):
    """The rhythm a family asks for: weekend = Friday and Saturday nights, week = 7 nights."""

    WEEKEND = "weekend"
    WEEK = "week"
    WEEKDAYS = "weekdays"
    ANY = "any"


class UnavailableReason(StrEnum):
    SOMMERLEIR = "sommerleir"
    DAGSOMMERLEIR = "dagsommerleir"
    FERIETILBUD = "ferietilbud"
    FAMILY = "family"
    OTHER = "other"


class PinKind(StrEnum):
    PIN = "pin"
    FORBID = "forbid"


class WishKind(StrEnum):
    WANT = "want"
    AVOID = "avoid"


Id = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]


class House(_Row):
    """A row of houses.csv: one respite house (avlastningsbolig) or children's home (barnebolig)."""

    house_id: Id
    name: str = Field(min_length=1)
    kind: HouseKind
    owner: Owner
    places: int = Field(ge=0, le=200)
    categories: frozenset[Category] = frozenset()
    conditional_categories: frozenset[Category] = frozenset()
    night_watch: bool
    nights_per_place_year: int = Field(default=350, ge=0, le=366)
    price_per_night: float = Field(default=0.0, ge=0)

    @field_validator("categories", "conditional_categories", mode="before")
    @classmethod
    def _split_categories(cls, value: object) -> object:
        if value is None or isinstance(value, str | int | float):
            return parse_categories(value)
        return value

    @model_validator(mode="after")
    def _conditional_not_also_full(self) -> House:
        both = self.categories & self.conditional_categories
        if both:
            shown = ", ".join(sorted(both))
            raise ValueError(f"category {shown} is listed both as accepted and as conditional")
        return self

    def accepts(self, category: Category) -> bool:
        return category in self.categories or category in self.conditional_categories


class Child(_Row):
    """A row of children.csv: one child with a vedtak (grant) for this round. IDs are pseudonyms."""

    child_id: Id
    birth_date: dt.date
    category: Category
    level: int = Field(ge=1, le=6)
    granted_nights: int = Field(ge=0, le=366)
    vedtak_from: dt.date
    vedtak_to: dt.date
    pattern: Pattern = Pattern.ANY
    home_house: Id | None = None
    # Optional columns (contract v1 lets columns be added); used only by `validate` warnings.
    under_10_exception: bool = False
    interdisciplinary_assessment: bool = False

    @field_validator("home_house", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("category", mode="before")
    @classmethod
    def _one_category(cls, value: object) -> object:
        cats = parse_categories(value)
        if len(cats) != 1:
            raise ValueError(f"expected one category of 2 3 4 5 P, got {value!r}")
        return next(iter(cats))

    @model_validator(mode="after")
    def _vedtak_dates(self) -> Child:
        if self.vedtak_to < self.vedtak_from:
            raise ValueError("vedtak_to is before vedtak_from")
        return self


class DateRange(_Row):
    """A closed range of nights: `from` and `to` both included."""

    from_: dt.date = Field(alias="from")
    to: dt.date

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    @field_validator("to")
    @classmethod
    def _ordered(cls, to: dt.date, info: ValidationInfo) -> dt.date:
        # On the field, so that the error names column `to` in every file with a range.
        start = info.data.get("from_")
        if start is not None and to < start:
            raise ValueError("'to' is before 'from'")
        return to

    def nights(self) -> list[dt.date]:
        days = (self.to - self.from_).days
        return [self.from_ + dt.timedelta(days=i) for i in range(days + 1)]

    def contains(self, night: dt.date) -> bool:
        return self.from_ <= night <= self.to


class Unavailable(DateRange):
    """A row of unavailable.csv: nights the child cannot be in respite (summer camp, trip, ...)."""

    child_id: Id
    reason: UnavailableReason


class Wish(DateRange):
    """A row of wishes.csv: a family's want- or avoid-dates, with a weight."""

    child_id: Id
    kind: WishKind
    weight: int = Field(default=1, ge=0, le=1000)


class Incompatible(_Row):
    """A row of incompatible.csv: two children never in the same house on the same night."""

    child_a: Id
    child_b: Id

    @model_validator(mode="after")
    def _two_children(self) -> Incompatible:
        if self.child_a == self.child_b:
            raise ValueError("a child cannot be incompatible with itself")
        return self


class Pin(DateRange):
    """A row of pins.csv (added file): a stay the coordinator agreed with the family (``pin``:
    the child sleeps in ``house_id`` every night of the range) or nights it must not get
    (``forbid``: in ``house_id``, or in any house when ``house_id`` is empty)."""

    child_id: Id
    house_id: Id | None = None
    kind: PinKind

    @field_validator("house_id", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _pin_names_house(self) -> Pin:
        if self.kind is PinKind.PIN and self.house_id is None:
            raise ValueError("a pin needs a house_id")
        return self


class Closure(DateRange):
    """A row of closures.csv: places closed in a house over a range of nights."""

    house_id: Id
    places_closed: int = Field(ge=0, le=200)


class CalendarDay(DateRange):
    """A row of calendar.csv (added file): a public holiday or school holiday range.

    `kind` is `public_holiday` or `school_holiday`; `name` says which (e.g. "Påske", "Vinterferie").
    """

    kind: Literal["public_holiday", "school_holiday"]
    name: str = ""


class VisitingHome(DateRange):
    """A row of visiting_homes.csv (added file): a child's visiting family (besøkshjem).

    "The municipality must be able to report, per year: bed-nights used, how many users had
    respite, and how many had a visiting family" (DOMAIN.md). A besøkshjem is a private family
    giving `nights_per_month` nights a month from `from` to `to` (both included), not a house.
    """

    child_id: Id
    nights_per_month: int = Field(ge=1, le=31)
