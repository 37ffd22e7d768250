"""``allocator explain INPUT PLAN_DIR CHILD``: why a child got the nights it got, in plain words.

Registered in `allocator.cli` (``app.command()(explain)``). Exit 0 with the explanation on
stdout; exit 2 for bad input (every problem listed) or an unknown child (one line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

#: Exit code for bad input or an unknown child (as `allocator.cli.EXIT_BAD_INPUT`).
EXIT_BAD_INPUT = 2


def explain(
    input_path: Annotated[
        Path, typer.Argument(help="The round's input: a folder of CSV files or an .xlsx workbook.")
    ],
    plan_dir: Annotated[Path, typer.Argument(help="A plan folder holding bookings.csv.")],
    child_id: Annotated[str, typer.Argument(help="The child's pseudonym, e.g. B0001.")],
) -> None:
    """Explain a child's nights: why any are missing, what would help, and its wishes.

    Parameters
    ----------
    input_path
        The round's input (contract v1).
    plan_dir
        The plan folder; only its bookings.csv is read.
    child_id
        The child to explain.

    Raises
    ------
    typer.Exit
        With code 2 for bad input or an unknown child.
    """
    from allocator.explain import UnknownChildError, explain_child, format_explanation
    from allocator.io.bookings import read_bookings
    from allocator.io.errors import InputError
    from allocator.io.reader import read_round

    try:
        inp = read_round(input_path)
        bookings = read_bookings(plan_dir)
    except InputError as exc:
        typer.echo(f"Bad input: {len(exc.problems)} problem(s)", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    try:
        explanation = explain_child(inp, bookings, child_id)
    except UnknownChildError:
        typer.echo(
            f"Unknown child {child_id!r}: not in children.csv of {input_path}"
            f" ({len(inp.children)} children, e.g. {inp.children[0].child_id})"
            if inp.children
            else f"Unknown child {child_id!r}: the round {input_path} has no children",
            err=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None
    typer.echo(format_explanation(explanation))
