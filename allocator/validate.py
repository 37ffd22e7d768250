"""Guideline checks on a valid round input: warnings to show, and errors that stop a round.

The data contract (`allocator.io.reader`) says whether the input can be read; these checks say
whether the grants follow the respite guideline (seed 003, DOMAIN.md "Facts and rules"):

- service levels for overnight respite, nights per year: 1 → 1–36, 2 → 37–72, 3 → 73–120,
  4 → 121–180, 5 → over 180, 6 → barnebolig, 365;
- "Over 275 nights → the child should as a rule be offered barnebolig";
- "Children under 10 get overnight respite only exceptionally";
- "Levels 5 and 6 need an interdisciplinary assessment that includes child welfare";
- "A barnebolig resident lives there every night of the round" (rule R4_BARNEBOLIG_EVERY_NIGHT).

Every problem names children.csv (or the workbook's children sheet), the child's row and the
column to look at.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass

from allocator.io.errors import InputError, Problem
from allocator.io.reader import table_rows
from models.inputs import Child
from models.round_input import RoundInput

__all__ = ["LEVEL_BANDS", "guideline_errors", "guideline_warnings"]

DAYS_PER_YEAR = 365
BARNEBOLIG_LEVEL = 6
BARNEBOLIG_ADVISED_ABOVE = 275
ASSESSMENT_FROM_LEVEL = 5
EXCEPTION_BELOW_AGE = 10
UNDER_10_EXCEPTIONS = (
    "multiple diagnoses, autism spectrum, Tourette, personality disorders, multiple disabilities"
)

LEVEL_BANDS: dict[int, tuple[int, int | None]] = {
    1: (1, 36),
    2: (37, 72),
    3: (73, 120),
    4: (121, 180),
    5: (181, None),
}
"""Nights per year for service levels 1–5; ``None`` = no upper bound."""


@dataclass(frozen=True)
class _ChildAt:
    """A child with where it is in the file and the round nights its vedtak covers."""

    child: Child
    label: str
    row: int
    vedtak_nights: int

    def problem(self, column: str, message: str) -> Problem:
        return Problem(self.label, self.row, column, f"child {self.child.child_id}: {message}")


def guideline_warnings(inp: RoundInput) -> list[Problem]:
    """Grants that break the guideline's rules of thumb; they are shown but do not stop a round.

    Parameters
    ----------
    inp
        A round input that passed `read_round`.

    Returns
    -------
    list of Problem
        In children.csv row order: granted nights outside the level's band (scaled to the round
        nights the vedtak covers), over 275 nights a year without barnebolig, under-10s without
        ``under_10_exception``, levels 5–6 without ``interdisciplinary_assessment``.
    """
    problems: list[Problem] = []
    for at in _children(inp):
        problems.extend(_band_warnings(at))
        problems.extend(_barnebolig_advised(at))
        problems.extend(_under_10(at, inp.config.start))
        problems.extend(_assessment(at))
    return problems


def guideline_errors(inp: RoundInput) -> list[Problem]:
    """Grants the planner cannot honour: a barnebolig child granted too few nights.

    A level-6 child lives in the barnebolig every night it is available in the round (inside
    its vedtak, not on an unavailable night), so its ``granted_nights`` must cover all of them
    (rule R4_BARNEBOLIG_EVERY_NIGHT).

    Parameters
    ----------
    inp
        A round input that passed `read_round`.

    Returns
    -------
    list of Problem
        One per level-6 child whose grant is short, naming ``granted_nights``.
    """
    problems: list[Problem] = []
    for at in _children(inp):
        if at.child.level != BARNEBOLIG_LEVEL:
            continue
        available = len(inp.available_nights(at.child))
        if at.child.granted_nights < available:
            message = (
                f"level 6 (barnebolig) but granted {at.child.granted_nights} nights while "
                f"available {available} nights of the round; a barnebolig resident lives "
                "there every available night"
            )
            problems.append(at.problem("granted_nights", message))
    return problems + pin_errors(inp)


def pin_errors(inp: RoundInput) -> list[Problem]:
    """Pins the hard rules cannot keep: a pinned night outside the round or the vedtak, on an
    unavailable night, in a house that does not take the child, or more pinned nights than
    granted (rule R7_PINS must hold together with R1–R6)."""
    from allocator.check.rules import available_nights, is_eligible

    problems: list[Problem] = []
    pinned: dict[str, int] = {}
    for row, pin in enumerate(inp.pins, start=2):
        if pin.kind.value != "pin" or not inp.has_child(pin.child_id) or pin.house_id is None:
            continue
        child = inp.child(pin.child_id)
        free = set(available_nights(inp, child))
        bad = [n for n in pin.nights() if n not in free]
        if bad:
            problems.append(
                Problem(
                    "pins.csv",
                    row,
                    "from",
                    f"pin for {pin.child_id} covers {len(bad)} night(s) the child cannot be in "
                    f"respite (outside the round or vedtak, or unavailable), first {bad[0]}",
                )
            )
        if inp.has_house(pin.house_id) and not is_eligible(child, inp.house(pin.house_id)):
            problems.append(
                Problem(
                    "pins.csv",
                    row,
                    "house_id",
                    f"{pin.house_id} does not take {pin.child_id} (category, night watch or "
                    "barnebolig rule)",
                )
            )
        pinned[pin.child_id] = pinned.get(pin.child_id, 0) + len(pin.nights())
    for child_id, nights in pinned.items():
        if nights > inp.child(child_id).granted_nights:
            problems.append(
                Problem(
                    "pins.csv",
                    None,
                    "child_id",
                    f"{child_id} has {nights} pinned nights but is granted "
                    f"{inp.child(child_id).granted_nights}",
                )
            )
    return problems


def _children(inp: RoundInput) -> Iterator[_ChildAt]:
    """Each child with its file label, row and the number of round nights in its vedtak."""
    label, rows = _child_rows(inp)
    for index, child in enumerate(inp.children):
        row = rows.get(child.child_id, index + 2)
        yield _ChildAt(child, label, row, _vedtak_nights(inp, child))


def _child_rows(inp: RoundInput) -> tuple[str, dict[str, int]]:
    """Rows of children.csv by child id: re-read from ``inp.source``, else file order + 2."""
    fallback = {c.child_id: i + 2 for i, c in enumerate(inp.children)}
    if not inp.source:
        return "children.csv", fallback
    try:
        label, found = table_rows(inp.source, "children", "child_id")
    except (InputError, OSError):
        return "children.csv", fallback
    return label, {**fallback, **found}


def _vedtak_nights(inp: RoundInput, child: Child) -> int:
    """Round nights inside the child's vedtak (both ends included)."""
    first = max(inp.config.start, child.vedtak_from)
    last = min(inp.config.end, child.vedtak_to)
    return max(0, (last - first).days + 1)


def _scaled_band(level: int, nights: int) -> tuple[int, int | None]:
    """The level's yearly band scaled to `nights`, rounded outwards (lenient)."""
    low, high = LEVEL_BANDS[level]
    lower = math.floor(low * nights / DAYS_PER_YEAR)
    upper = None if high is None else math.ceil(high * nights / DAYS_PER_YEAR)
    return lower, upper


def _band_warnings(at: _ChildAt) -> list[Problem]:
    """Granted nights outside the service level's band, scaled to the vedtak's round nights."""
    child = at.child
    if child.level not in LEVEL_BANDS:
        return []
    if at.vedtak_nights == 0:
        if child.granted_nights == 0:
            return []
        message = (
            f"the vedtak ({child.vedtak_from} to {child.vedtak_to}) lies outside the round, "
            f"so none of the {child.granted_nights} granted nights can be given"
        )
        return [at.problem("granted_nights", message)]
    lower, upper = _scaled_band(child.level, at.vedtak_nights)
    if lower <= child.granted_nights and (upper is None or child.granted_nights <= upper):
        return []
    low, high = LEVEL_BANDS[child.level]
    year_band = f"{low}–{high}" if high is not None else f"over {low - 1}"
    expected = f"{lower}–{upper}" if upper is not None else f"at least {lower}"
    message = (
        f"granted {child.granted_nights} nights is outside level {child.level}'s band "
        f"({year_band} nights a year, so {expected} for the {at.vedtak_nights} round nights "
        "of the vedtak)"
    )
    return [at.problem("granted_nights", message)]


def _barnebolig_advised(at: _ChildAt) -> list[Problem]:
    """Over 275 nights a year (scaled) without level 6: barnebolig should be offered."""
    child = at.child
    limit = math.ceil(BARNEBOLIG_ADVISED_ABOVE * at.vedtak_nights / DAYS_PER_YEAR)
    if child.level == BARNEBOLIG_LEVEL or child.granted_nights <= limit:
        return []
    message = (
        f"granted {child.granted_nights} nights, over {BARNEBOLIG_ADVISED_ABOVE} a year "
        f"({limit} for the {at.vedtak_nights} round nights of the vedtak); the child "
        "should as a rule be offered barnebolig (level 6)"
    )
    return [at.problem("granted_nights", message)]


def _age(birth: dt.date, on: dt.date) -> int:
    """Whole years from `birth` to `on`."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _under_10(at: _ChildAt, round_start: dt.date) -> list[Problem]:
    """Under 10 at round start with an overnight grant, and no exception recorded."""
    child = at.child
    age = _age(child.birth_date, round_start)
    overnight = child.level < BARNEBOLIG_LEVEL or child.granted_nights > 0
    if age >= EXCEPTION_BELOW_AGE or not overnight or child.under_10_exception:
        return []
    message = (
        f"is {age} at the start of the round; children under 10 get overnight respite only "
        f"exceptionally ({UNDER_10_EXCEPTIONS}); set under_10_exception to true if this is "
        "such a case"
    )
    return [at.problem("under_10_exception", message)]


def _assessment(at: _ChildAt) -> list[Problem]:
    """Levels 5 and 6 need an interdisciplinary assessment that includes child welfare."""
    child = at.child
    if child.level < ASSESSMENT_FROM_LEVEL or child.interdisciplinary_assessment:
        return []
    message = (
        f"level {child.level} needs an interdisciplinary assessment that includes child "
        "welfare (barnevern); set interdisciplinary_assessment to true when it is done"
    )
    return [at.problem("interdisciplinary_assessment", message)]
