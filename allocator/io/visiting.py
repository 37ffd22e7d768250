"""Read ``visiting_homes.csv``: which children have a visiting family (besøkshjem), and when.

"The municipality must be able to report, per year: bed-nights used, how many users had
respite, and how many had a visiting family" (DOMAIN.md). A besøkshjem is a private family, not a
house, so it is not part of a round's input; this optional file (columns ``child_id, from, to,
nights_per_month``) lies next to a round's input or is given with ``allocator report --visiting``.

The file is read like the round's own files (`allocator.io.reader`): UTF-8 with or without BOM,
Windows-1252 or UTF-16; comma, semicolon or tab separated; ISO or ``DD.MM.YYYY`` dates; header
names in any case. Every bad row is reported, each `Problem` naming file, row and column.
"""

from __future__ import annotations

from pathlib import Path

from allocator.io.errors import InputError, Problem
from allocator.io.reader import (
    WORKBOOK_SUFFIXES,
    _FolderSource,
    _Grid,
    _in_file_order,
    _load_table,
    _RawConfig,
    _read_text,
    _Source,
    _Spec,
    _split_csv,
    _WorkbookSource,
)
from models.inputs import VisitingHome

__all__ = ["VISITING_FILE", "VISITING_HOMES", "read_visiting_homes"]

VISITING_HOMES: _Spec[VisitingHome] = _Spec("visiting_homes", VisitingHome, False, (), "to")
"""The file's specification: name, row model, required columns; a row-level error (``to`` before
``from``) is reported on column ``to``."""

VISITING_FILE = VISITING_HOMES.filename
"""``visiting_homes.csv``."""


class _FileSource:
    """One CSV file given by its path, whatever its name (``--visiting PATH``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def label(self, name: str) -> str:
        return self.path.name

    def grid(self, name: str, problems: list[Problem]) -> _Grid | None:
        label = self.label(name)
        text = _read_text(label, self.path, problems)
        rows = None if text is None else _split_csv(label, text, problems)
        return _Grid(label, rows or [], readable=rows is not None)

    def config(self, problems: list[Problem]) -> _RawConfig | None:
        return None


def _source(path: Path) -> _Source:
    """A folder (looked in for visiting_homes.csv), a workbook (its ``visiting_homes`` sheet) or
    the CSV file itself; a missing path raises `InputError`."""
    if path.is_dir():
        return _FolderSource(path)
    if not path.exists():
        raise InputError([Problem(str(path), None, None, "file not found")])
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return _WorkbookSource(path)
    return _FileSource(path)


def read_visiting_homes(path: Path) -> list[VisitingHome]:
    """Read and validate the visiting families (besøkshjem) of ``visiting_homes.csv``.

    "The municipality must be able to report, per year: ... how many had a visiting family"
    (DOMAIN.md).

    Parameters
    ----------
    path
        The CSV file itself (any name); or a round's input folder, where ``visiting_homes.csv``
        is optional; or a round's ``.xlsx`` workbook, where the ``visiting_homes`` sheet is
        optional.

    Returns
    -------
    list of VisitingHome
        The rows in file order; empty when a folder or workbook has no such file or sheet.

    Raises
    ------
    InputError
        With every problem found (unreadable file, missing column, bad cell, ``to`` before
        ``from``), each naming file, row and column; or when `path` does not exist.
    """
    path = Path(path)
    source = _source(path)
    problems: list[Problem] = []
    table = _load_table(VISITING_HOMES, source, problems)
    if problems:
        raise InputError(_in_file_order(problems))
    return list(table.models())
