"""`waiting.csv` (an added input file, issue 6): applications waiting for free nights."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.categories import Category
from models.inputs import Id


class WaitingApplication(BaseModel):
    """A row of waiting.csv: ``child_id, applied, category, level, nights_wanted``. Pseudonymous
    ids only; the family's name never enters the tool."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    child_id: Id
    applied: dt.date
    category: Category
    level: int = Field(ge=1, le=5)
    nights_wanted: int = Field(ge=1, le=366)

    @field_validator("category", mode="before")
    @classmethod
    def _one_category(cls, value: object) -> object:
        text = str(value).strip().upper()
        if text not in {"2", "3", "4", "5", "P"}:
            raise ValueError(f"expected one category of 2 3 4 5 P, got {value!r}")
        return text
