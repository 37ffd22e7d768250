"""``added_children.csv`` of a plan folder: children a change added to a published round.

An acute child given inline (``allocator acute AK001 --category 5 --age 12``) or a new applicant
offered free nights (``allocator offer``) has nights in the plan but no row in the round's
``children.csv``. An exported version (``allocator export``) lists them here, in the columns of
``children.csv``, so that ``allocator check INPUT DIR`` knows them: their category must fit the
house, and an acute stay is counted apart from the grant.

The store keeps of such a child its category, level, grant and pattern (not its birth date);
`added_child` makes the same `Child` from them wherever it is needed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from allocator.io.atomic import write_csv_rows
from allocator.io.errors import InputError, Problem
from allocator.io.reader import _FolderSource, _in_file_order, _load_table, _Spec
from allocator.io.write_input import CHILDREN_HEADER
from models.inputs import Child

__all__ = ["ADDED_CHILDREN_FILE", "added_child", "read_added_children", "write_added_children"]

ADDED: _Spec[Child] = _Spec("added_children", Child, False, (), "vedtak_to")
ADDED_CHILDREN_FILE = ADDED.filename
"""``added_children.csv``."""

#: Age given to an added child whose birth date the store does not keep: old enough that the
#: under-10 rule (a validation of grants, not a hard rule of the plan) is not in question.
STORED_AGE = 12


def added_child(
    child_id: str,
    *,
    category: str,
    level: int,
    granted: int,
    start: dt.date,
    end: dt.date,
    pattern: str = "any",
) -> Child:
    """A child outside the round's input, with its vedtak over the whole round."""
    return Child.model_validate(
        {
            "child_id": child_id,
            "birth_date": start.replace(year=start.year - STORED_AGE),
            "category": category,
            "level": level,
            "granted_nights": granted,
            "vedtak_from": start,
            "vedtak_to": end,
            "pattern": pattern,
        }
    )


def write_added_children(path: Path, children: Sequence[Child]) -> None:
    """Write `children` to `path` in the columns of ``children.csv`` (atomically)."""
    write_csv_rows(
        path,
        list(CHILDREN_HEADER),
        (
            (
                c.child_id,
                c.birth_date,
                c.category,
                c.level,
                c.granted_nights,
                c.vedtak_from,
                c.vedtak_to,
                c.pattern.value,
                c.home_house,
                c.under_10_exception,
                c.interdisciplinary_assessment,
            )
            for c in children
        ),
    )


def read_added_children(plan_dir: Path) -> list[Child]:
    """The children of ``plan_dir/added_children.csv`` (none when the file is absent).

    Raises
    ------
    InputError
        A bad row or column, each problem with file, row and column.
    """
    if not Path(plan_dir).is_dir():
        return []
    problems: list[Problem] = []
    table = _load_table(ADDED, _FolderSource(Path(plan_dir)), problems)
    if problems:
        raise InputError(_in_file_order(problems))
    return list(table.models())
