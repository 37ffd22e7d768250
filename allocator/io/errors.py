"""Input problems: one `Problem` per bad cell, row or file, raised together as `InputError`.

A `Problem` names what a coordinator needs to find the mistake in a spreadsheet: the file (or
workbook sheet), the row as the spreadsheet shows it (header = row 1) and the column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in the input of a round.

    Parameters
    ----------
    file
        The file as the user knows it, e.g. ``"children.csv"`` or
        ``"round.xlsx, sheet children"``.
    row
        1-based row as a spreadsheet shows it: the header is row 1, the first data row is row 2.
        ``None`` when the problem concerns the whole file.
    column
        The column (or ``round.toml`` key such as ``acute_reserve.H01``), or ``None``.
    message
        Plain-English explanation, e.g. ``"not a whole number: 'ti'"``.
    """

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        """Return e.g. ``children.csv, row 14, column granted_nights: not a whole number: 'ti'``."""
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class InputError(Exception):
    """The input of a round cannot be used; `problems` lists everything found in one pass.

    Parameters
    ----------
    problems
        Every problem found, in file and row order.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        """List every problem on its own line under a one-line count."""
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the input"
        return "\n".join([f"{head}:", *(f"  {p}" for p in self.problems)])
