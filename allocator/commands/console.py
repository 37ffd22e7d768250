"""What every command prints its errors with: the consoles and the one-line failures.

Bad input lists every problem (file, row or line, column or key, what is wrong) and exits 2;
a bad option says which and exits 2. Never a traceback.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from allocator.io.errors import InputError

if TYPE_CHECKING:
    from allocator.pipeline import RoundOutcome

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

EXIT_NO_PLAN = 1
EXIT_BAD_INPUT = 2


def fail_input(exc: InputError) -> typer.Exit:
    """Print every problem of ``exc``; the caller raises the returned exit (code 2)."""
    err.print(f"[red]Bad input:[/red] {len(exc.problems)} problem(s)")
    for problem in exc.problems:
        err.print(f"  {problem}", markup=False, highlight=False)
    return typer.Exit(EXIT_BAD_INPUT)


def bad_option(text: str) -> typer.Exit:
    """Print what is wrong with an option; the caller raises the returned exit (code 2)."""
    err.print(f"[red]Bad option:[/red] {text}", highlight=False)
    return typer.Exit(EXIT_BAD_INPUT)


def check_solver_options(
    time_limit: float | None, workers: int | None, seed: int | None = None
) -> None:
    """Exit 2 (a bad option) for a time limit that is not a positive number of seconds, a worker
    count outside 1–64 or a seed outside round.toml's 0–1,000,000."""
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise bad_option(f"--time-limit {time_limit:g}: give a positive number of seconds")
    if workers is not None and not 1 <= workers <= 64:
        raise bad_option(f"--workers {workers}: give 1 to 64")
    if seed is not None and not 0 <= seed <= 1_000_000:
        raise bad_option(f"--seed {seed}: give a whole number from 0 to 1000000")


def refuse_unchecked(outcome: RoundOutcome, no_plan: str = "No plan") -> None:
    """Exit 1 when the solve found no plan (with its reason) or when the independent checker
    found a broken hard rule in it: such a plan is never written."""
    result = outcome.result
    if not result.status.has_plan:
        reason = "; ".join(result.conflicts) or f"solver status {result.status}"
        err.print(f"[red]{no_plan}:[/red] {reason}", highlight=False)
        raise typer.Exit(EXIT_NO_PLAN)
    if outcome.violations:
        err.print(
            f"[red]No plan written: the checker found {len(outcome.violations)} rule"
            " violation(s) in the solver's plan (a bug; please report it).[/red]"
        )
        for v in outcome.violations[:20]:
            err.print(f"  {v.rule}: {v.message}", highlight=False)
        raise typer.Exit(EXIT_NO_PLAN)
