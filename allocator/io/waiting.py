"""Read ``waiting.csv`` (an added input file, issue 6): ``child_id, applied, category, level,
nights_wanted``, read and checked like the round's own files (every bad row reported with
file, row and column)."""

from __future__ import annotations

from pathlib import Path

from allocator.io.errors import InputError, Problem
from allocator.io.reader import _duplicates, _in_file_order, _load_table, _Spec
from allocator.io.visiting import _source
from models.waiting import WaitingApplication

WAITING: _Spec[WaitingApplication] = _Spec("waiting", WaitingApplication, True, (), "applied")


def read_waiting(path: Path) -> list[WaitingApplication]:
    """The waiting list in file order; `InputError` with every problem found."""
    problems: list[Problem] = []
    table = _load_table(WAITING, _source(Path(path)), problems)
    problems.extend(_duplicates(table, "child_id"))  # one application a child
    if problems:
        raise InputError(_in_file_order(problems))
    return list(table.models())
