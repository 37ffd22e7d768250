"""Child ids must be pseudonyms: never a Norwegian national ID number (fødselsnummer, D-number).

The data are health data about children and must stay pseudonymous (``B0001``, ``AK001``, …).
One rule, shared by the input readers (`allocator.io.reader`, `allocator.io.bookings`), which
refuse such an id at read time, and the store (`allocator.store.db`), which refuses it again
before anything is written: eleven digits in a row (a space after the first six allowed). This
covers fødselsnummer (``DDMMYY`` + five digits) and D-numbers (4 added to the first digit)
alike; an id that is not all digits, or shorter, passes.

A problem about such an id never repeats the value: logs and terminals must not hold it.
"""

from __future__ import annotations

import re

__all__ = [
    "CHILD_ID_COLUMNS",
    "HIDDEN",
    "NATIONAL_ID",
    "NATIONAL_ID_MESSAGE",
    "hide_national_ids",
    "looks_like_national_id",
]

NATIONAL_ID = re.compile(r"(?<!\d)\d{6}\s?\d{5}(?!\d)")
"""Eleven digits not part of a longer run of digits, optionally ``DDMMYY NNNNN``."""

CHILD_ID_COLUMNS = ("child_id", "child_a", "child_b")
"""The input columns that hold a child's id."""

NATIONAL_ID_MESSAGE = (
    "looks like a national ID number (fødselsnummer or D-number, 11 digits); only pseudonyms"
    " such as B0001 may be used as child ids (the value is not shown here)"
)
"""The message of the `Problem` for such an id; it never contains the id itself."""

HIDDEN = "<hidden: looks like a national ID number>"
"""What `hide_national_ids` puts in place of such a number."""


def looks_like_national_id(text: str) -> bool:
    """Whether `text` contains what looks like a Norwegian national ID number (11 digits).

    Parameters
    ----------
    text
        A child id (or any text).

    Returns
    -------
    bool
        ``True`` for ``01019912345``, ``41019912345`` (a D-number) or ``010199 12345``;
        ``False`` for ``B0001``, ``B0000000001`` or ``1234567890``.
    """
    return NATIONAL_ID.search(text) is not None


def hide_national_ids(text: str) -> str:
    """`text` with every national-ID-like number replaced by `HIDDEN` (for messages)."""
    return NATIONAL_ID.sub(HIDDEN, text)
