"""``allocator export`` and ``allocator diff``: versions of the plan on the command line.

Issue 6, "A durable plan store": "every change to a published plan becomes a new version, with
an audit line (who, when, why); any version can be exported and compared." To be registered in
`allocator.cli` as ``app.command()(export)`` and ``app.command()(diff)``.

* ``export [--version N] --out DIR [--input INPUT] [--db URL]``: writes a version (the newest by
  default) as a plan folder, atomically: ``bookings.csv`` (contract v1 plus ``kind``),
  ``summary.json`` and, with the round's input, ``calendar.xlsx``. INPUT defaults to the input
  recorded with the version, when that path still exists. ``allocator check INPUT DIR`` checks
  the exported plan.
* ``diff A B [--db URL]``: what changed from version A to version B, per family: nights added,
  removed, moved to another house, and of another kind.

Exit codes: 0 done; 1 the store refused or cannot be reached, or the folder cannot be written
(one line, no traceback); 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from allocator.commands.console import fail_input as _fail_input
from allocator.commands.store_cmds import EXIT_REFUSED, DbOption, err, out
from allocator.io.errors import InputError

if TYPE_CHECKING:
    from models.round_input import RoundInput

__all__ = ["diff", "export"]


def _fail(what: str, message: str) -> typer.Exit:
    err.print(f"[red]{what}:[/red] {escape(message)}", highlight=False)
    return typer.Exit(EXIT_REFUSED)


def _read_input(path: Path) -> RoundInput:
    """The round's input (contract v1); `InputError` with every problem."""
    from allocator.io.reader import read_round

    return read_round(path)


def export(
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder to write: new, empty or an earlier plan folder (it is replaced).",
        ),
    ],
    version: Annotated[
        int | None,
        typer.Option("--version", min=1, help="The version to export (default: the newest)."),
    ] = None,
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="The round's input, for calendar.xlsx (default: the input recorded with the"
            " version, if it still exists).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write a version of the plan as a plan folder: bookings.csv (with each night's kind),
    summary.json and, with the round's input, calendar.xlsx.

    \f
    Parameters
    ----------
    out_dir
        The folder to write (atomically: all files or none).
    version
        The version number (default: the newest).
    input_path
        The round's input; default the version's recorded ``input_source`` when it exists.
        Without one, only bookings.csv and summary.json are written.
    db
        The store's URL (default: ``$ALLOCATOR_DB``, else ``sqlite:///allocator.db``).

    Raises
    ------
    typer.Exit
        Code 2 for bad input; 1 when the store or the folder fails.
    """
    from allocator.commands.console import bad_option
    from allocator.io.outdir import PLAN, unsafe_output_dir
    from allocator.store import StoreError, open_store
    from allocator.store.export import ExportError, export_version, version_info

    unsafe = unsafe_output_dir(out_dir, PLAN, [input_path])
    if unsafe:
        raise bad_option(f"--out {out_dir}: {unsafe}")
    try:
        with open_store(db, create=False) as store:
            info = version_info(store, version)
            inp: RoundInput | None = None
            if input_path is not None:
                try:
                    inp = _read_input(input_path)
                except InputError as exc:
                    raise _fail_input(exc) from None
            elif info.input_source and Path(info.input_source).exists():
                try:
                    inp = _read_input(Path(info.input_source))
                except InputError as exc:
                    err.print(
                        f"[yellow]warning:[/yellow] the recorded input {escape(info.input_source)}"
                        f" cannot be read ({len(exc.problems)} problem(s)); no calendar.xlsx",
                        highlight=False,
                    )
            path = export_version(store, info.version, out_dir, inp)
    except StoreError as exc:
        raise _fail("Store", str(exc)) from None
    except ExportError as exc:
        raise _fail("Not exported", str(exc)) from None
    _report_export(path, info.version, inp)


def _report_export(path: Path, version: int, inp: RoundInput | None) -> None:
    """One line saying what was written, and a warning when the input is not the recorded one."""
    import json

    summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    counts = summary["counts"]
    kinds = ", ".join(f"{n} {kind}" for kind, n in counts["by_kind"].items() if n)
    files = "bookings.csv, summary.json" + (", calendar.xlsx" if inp is not None else "")
    if (path / "added_children.csv").exists():
        files += ", added_children.csv"
    if summary["input"]["matches"] is False:
        err.print(
            "[yellow]warning:[/yellow] the input's files differ from those recorded with version"
            f" {version}: the calendar shows today's input with the version's plan",
            highlight=False,
        )
    out.print(
        f"Exported version {version} ({summary['kind']}, round {summary['round']['start']} –"
        f" {summary['round']['end']}) to {path}/: {files};"
        f" {counts['bed_nights']} bed-nights ({kinds or 'none'})"
        f" for {counts['families_with_nights']} families",
        markup=False,
        highlight=False,
    )


def diff(
    a: Annotated[int, typer.Argument(min=1, help="The earlier version.")],
    b: Annotated[int, typer.Argument(min=1, help="The later version.")],
    db: DbOption = None,
) -> None:
    """Compare two versions of the plan: per family the nights added, removed and moved.

    \f
    Parameters
    ----------
    a, b
        Version numbers; B is compared against A.
    db
        The store's URL (default: ``$ALLOCATOR_DB``, else ``sqlite:///allocator.db``).

    Raises
    ------
    typer.Exit
        Code 1 when the store cannot be read or a version does not exist.
    """
    from allocator.store import StoreError, open_store
    from allocator.store.diff import format_diff

    try:
        with open_store(db, create=False) as store:
            result = store.diff(a, b)
    except StoreError as exc:
        raise _fail("Store", str(exc)) from None
    out.print(format_diff(result), markup=False, highlight=False)
