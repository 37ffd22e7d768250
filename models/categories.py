"""Target-group categories (kategorier) from the guideline.

2 = mild/moderate intellectual disability, no night watch; 3 = moderate, needs night watch;
4 = multiple disabilities, needs night watch; 5 = multiple diagnoses incl. autism spectrum and
mental illness, needs night watch; P = children and youth with mental-health needs
(Olav Bjordalsvei).
"""

from __future__ import annotations

import re
from typing import Literal

Category = Literal["2", "3", "4", "5", "P"]
CATEGORIES: tuple[Category, ...] = ("2", "3", "4", "5", "P")
NEEDS_NIGHT_WATCH: frozenset[Category] = frozenset({"3", "4", "5"})


def parse_categories(value: object) -> frozenset[Category]:
    """Parse a category list such as ``"2;3"``, ``"2, 3"``, ``"2 3"`` or ``5``.

    Raises ``ValueError`` naming the unknown token.
    """
    if value is None:
        return frozenset()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text or text.lower() == "nan":
        return frozenset()
    found: set[Category] = set()
    for token in re.split(r"[;,\s/]+", text):
        token = token.strip().strip("()").upper()
        if not token:
            continue
        if token.endswith(".0"):
            token = token[:-2]
        if token not in CATEGORIES:
            raise ValueError(f"unknown category {token!r} (expected 2, 3, 4, 5 or P)")
        found.add(token)  # type: ignore[arg-type,unused-ignore]
    return frozenset(found)
