"""``allocator report --year Y``: the municipality's yearly figures from the published rounds.

"The municipality must be able to report, per year: bed-nights used, how many users had
respite, and how many had a visiting family" (DOMAIN.md). Registered in `allocator.cli`
(``app.command()(report)``).

The command reads, from the store, the newest version of every round overlapping year Y (a round
published again replaces the earlier publication) with its bookings, their kinds (planned, acute,
offered) and its children's category and level; and each round's input (houses, places, prices)
from the folder or workbook it was published from (`VersionInfo.input_source`). Visiting
families (besøkshjem) come from ``visiting_homes.csv`` next to the rounds' input, or from
``--visiting PATH``. It prints the figures and, with ``--out DIR``, writes ``yearly.csv`` and
``occupancy.png`` there (`allocator.report.yearly_out`).

Exit codes: 0 done; 1 the store cannot be reached or read (one line, no traceback); 2 bad input
(a round's input missing or invalid, a bad ``visiting_homes.csv``: every problem with file, row
and column), or ``--out`` cannot be written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from allocator.commands.store_cmds import EXIT_BAD_INPUT, EXIT_REFUSED, DbOption
from allocator.io.errors import InputError, Problem

if TYPE_CHECKING:
    from allocator.report.yearly import YearPlan
    from allocator.store import RoundChildInfo, Store, VersionInfo
    from models.inputs import VisitingHome
    from models.outputs import Booking

IN_MEMORY = "(in memory)"
"""`VersionInfo.input_source` of a round published from input made in memory."""

err = Console(stderr=True, soft_wrap=True)
out_console = Console(soft_wrap=True)


@dataclass(frozen=True)
class _Loaded:
    """One counted version as read from the store, before its input is read."""

    info: VersionInfo
    source: str | None
    bookings: list[Booking]
    kinds: dict[tuple[str, dt.date], str]
    children: list[RoundChildInfo]


def report(
    year: Annotated[
        int,
        typer.Option("--year", min=1, max=9998, help="The calendar year, e.g. 2027."),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for yearly.csv and occupancy.png (other files are kept)."
        ),
    ] = None,
    db: DbOption = None,
    visiting: Annotated[
        Path | None,
        typer.Option(
            "--visiting",
            help="visiting_homes.csv (child_id, from, to, nights_per_month); default: the file"
            " next to each round's input.",
        ),
    ] = None,
) -> None:
    """Report a year: bed-nights used, users with respite, users with a visiting family.

    Also acute stays and nights, offered nights, utilisation of the houses' potential nights,
    cost, and bed-nights per house, category and level. Counts the newest published version of
    every round overlapping the year, and only nights inside the year.

    \f
    Parameters
    ----------
    year
        The calendar year Y.
    out
        Folder for ``yearly.csv`` and ``occupancy.png``; without it the figures are only shown.
    db
        The store's URL (default: ``$ALLOCATOR_DB``, else ``sqlite:///allocator.db``).
    visiting
        ``visiting_homes.csv`` (or a folder or workbook holding it); default: looked for next
        to each round's input.

    Raises
    ------
    typer.Exit
        Code 1 when the store fails; 2 for bad or missing input, or an unusable ``--out``.
    """
    from allocator.report.yearly import yearly_figures
    from allocator.report.yearly_out import CSV_FILE, PNG_FILE, print_yearly, write_yearly
    from allocator.store import StoreError, open_store

    if out is not None and out.exists() and not out.is_dir():
        err.print(f"[red]Bad option:[/red] --out {escape(str(out))}: it is a file", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        with open_store(db, create=False) as store:
            loaded = _load_versions(store, year)
    except StoreError as exc:
        err.print(f"[red]Store:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_REFUSED) from None

    problems: list[Problem] = []
    plans = _read_plans(loaded, problems)
    homes, found = _read_visiting(visiting, loaded, problems)
    if problems:
        _fail_input(problems)
    if not loaded:
        err.print(f"No published round overlaps {year}.", highlight=False)
    if not found:
        err.print(
            "[yellow]Note:[/yellow] no visiting_homes.csv next to the rounds' input: users with a"
            " visiting family are counted as 0 (give --visiting PATH).",
            highlight=False,
        )
    figures = yearly_figures(year, plans, homes)
    print_yearly(figures, out_console)
    if out is None:
        return
    try:
        write_yearly(figures, out)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        err.print(f"[red]Cannot write[/red] {escape(str(out))}: {escape(reason)}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    out_console.print(f"Wrote {out / CSV_FILE} and {out / PNG_FILE}", highlight=False)


def _fail_input(problems: Sequence[Problem]) -> NoReturn:
    """List every problem and exit with code 2."""
    err.print(f"[red]Bad input:[/red] {len(problems)} problem(s)")
    for problem in problems:
        err.print(f"  {problem}", markup=False, highlight=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def _booking_kinds(store: Store, version: int) -> dict[tuple[str, dt.date], str]:
    """``{(child_id, night): kind}`` of the version's non-planned nights, when the store keeps
    kinds (`Store.booking_kinds`); else empty (every night counts as its `Booking.kind`)."""
    method: Callable[[int], Mapping[tuple[str, dt.date], str]] | None = getattr(
        store, "booking_kinds", None
    )
    return dict(method(version)) if callable(method) else {}


def _input_source(info: VersionInfo, history: Sequence[VersionInfo]) -> str | None:
    """Where the version's round input was read from; a version that recorded none (e.g. a
    change to a published round) uses the newest earlier version of the same round that did."""
    if info.input_source is not None:
        return info.input_source
    same_round = [
        v
        for v in history
        if v.round_start == info.round_start and v.version < info.version and v.input_source
    ]
    return max(same_round, key=lambda v: v.version).input_source if same_round else None


def _load_versions(store: Store, year: int) -> list[_Loaded]:
    """The newest version of each round overlapping `year`, with its bookings and children."""
    from allocator.report.yearly import versions_for_year

    history = store.history()
    return [
        _Loaded(
            info=info,
            source=_input_source(info, history),
            bookings=store.bookings(info.version),
            kinds=_booking_kinds(store, info.version),
            children=store.round_children(info.version),
        )
        for info in versions_for_year(history, year)
    ]


def _in_folder(source: Path, problems: Sequence[Problem]) -> list[Problem]:
    """Problems of files in the folder `source`, with the folder in their file name (several
    rounds' folders can hold a ``houses.csv``)."""
    if not source.is_dir():
        return list(problems)
    return [
        p
        if p.file.startswith(str(source))
        else Problem(str(source / p.file), p.row, p.column, p.message)
        for p in problems
    ]


def _read_plans(loaded: Sequence[_Loaded], problems: list[Problem]) -> list[YearPlan]:
    """Each version's plan with the houses of its round's input; missing or bad input adds
    problems (the round is then left out)."""
    from allocator.io.reader import read_round
    from allocator.report.yearly import YearPlan

    plans: list[YearPlan] = []
    for item in loaded:
        info = item.info
        what = f"version {info.version} (round {info.round_start} – {info.round_end})"
        if item.source is None or item.source == IN_MEMORY:
            message = (
                f"{what} was published from input made in memory, not from files: its houses"
                " (places, prices) cannot be read"
            )
            problems.append(Problem(f"version {info.version}", None, None, message))
            continue
        source = Path(item.source)
        if not source.exists():
            message = (
                f"the input of {what} is missing: no such folder or workbook (it was published"
                " from here; put it back to report the year)"
            )
            problems.append(Problem(str(source), None, None, message))
            continue
        try:
            inp = read_round(source)
        except InputError as exc:
            problems.extend(_in_folder(source, exc.problems))
            continue
        plans.append(
            YearPlan(
                version=info.version,
                round_start=info.round_start,
                round_end=info.round_end,
                bookings=tuple(item.bookings),
                houses=inp.houses,
                children=tuple(item.children),
                kinds=item.kinds,
                replaced_by=info.replaced_by,
            )
        )
    return plans


def _read_visiting(
    visiting: Path | None, loaded: Sequence[_Loaded], problems: list[Problem]
) -> tuple[list[VisitingHome], bool]:
    """The visiting families: from `visiting` when given, else from ``visiting_homes.csv`` next
    to each round's input (in its folder; in or beside its workbook). Returns the rows and
    whether any file was found."""
    from allocator.io.reader import WORKBOOK_SUFFIXES
    from allocator.io.visiting import VISITING_FILE, read_visiting_homes

    if visiting is not None:
        paths = [visiting]
    else:
        paths = []
        for item in loaded:
            if item.source is None or item.source == IN_MEMORY:
                continue
            source = Path(item.source)
            if source.is_dir() and _has_file(source, VISITING_FILE):
                paths.append(source)
            elif source.is_file() and source.suffix.lower() in WORKBOOK_SUFFIXES:
                paths.append(source)  # its visiting_homes sheet, if any
                if _has_file(source.parent, VISITING_FILE):
                    paths.append(source.parent / VISITING_FILE)
    homes: list[VisitingHome] = []
    found = visiting is not None
    for path in dict.fromkeys(paths):  # each file once, in order
        try:
            rows = read_visiting_homes(path)
        except InputError as exc:
            problems.extend(_in_folder(path, exc.problems))
            continue
        # A folder or CSV file is listed only when the file is there; a workbook counts as found
        # when its visiting_homes sheet has rows.
        found = found or path.is_dir() or path.suffix.lower() not in WORKBOOK_SUFFIXES or bool(rows)
        homes.extend(rows)
    return homes, found


def _has_file(folder: Path, filename: str) -> bool:
    """Whether `folder` holds `filename` (any case, as the reader finds files)."""
    try:
        return any(p.is_file() and p.name.lower() == filename.lower() for p in folder.iterdir())
    except OSError:
        return False
