"""``allocator publish`` and ``allocator history``: the round history store on the command line.

Registered in `allocator.cli` (``app.command()(publish)``, ``app.command()(history)``).

* ``publish INPUT PLAN_DIR``: reads the round and its plan, refuses a plan that breaks a hard
  rule (exit 1), else records it in the store as a new version and prints the version number.
* ``history``: the published versions with their audit lines, and each family's balance of
  high-demand nights per kind, most owed first (they come first next round).

Exit codes: 0 done; 1 the plan breaks a hard rule, or the store refused or cannot be reached
(one line, no traceback); 2 bad input (every problem with file, row and column).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from allocator.commands.console import err, out
from allocator.commands.console import fail_input as _fail_input
from allocator.io.errors import InputError

if TYPE_CHECKING:
    from allocator.store import VersionInfo

EXIT_REFUSED = 1
"""The plan breaks a hard rule, or the store refused the write or cannot be reached."""

EXIT_BAD_INPUT = 2
"""Bad input (as `allocator.cli.EXIT_BAD_INPUT`)."""

DEFAULT_WHY = "half-year round"


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLAlchemy URL of the store (default: $ALLOCATOR_DB, else sqlite:///allocator.db"
        " in the working directory), e.g. postgresql+psycopg://user@host/allocator.",
        show_default=False,
    ),
]


def _who(who: str | None) -> str:
    """`who`, else the login name, else ``coordinator``."""
    return (who or os.environ.get("USER") or os.environ.get("USERNAME") or "coordinator").strip()


def _fail_store(message: str) -> typer.Exit:
    err.print(f"[red]Store:[/red] {escape(message)}", highlight=False)
    return typer.Exit(EXIT_REFUSED)


def publish(
    input_path: Annotated[
        Path, typer.Argument(help="The round's input: a folder of CSV files or an .xlsx workbook.")
    ],
    plan_dir: Annotated[Path, typer.Argument(help="The round's plan folder (bookings.csv).")],
    db: DbOption = None,
    who: Annotated[
        str | None,
        typer.Option("--who", help="Who publishes (default: $USER, else 'coordinator')."),
    ] = None,
    why: Annotated[str, typer.Option("--why", help="Why, in plain words.")] = DEFAULT_WHY,
) -> None:
    """Record a round's input and plan in the store as a new version.

    The plan is checked against every hard rule first; a plan that breaks one is refused.
    The next round reads each family's balance of weekend and holiday nights from the store.

    \f
    Parameters
    ----------
    input_path
        The round's input (contract v1).
    plan_dir
        The plan folder; its bookings.csv is published.
    db
        The store's URL (default: ``$ALLOCATOR_DB``, else ``sqlite:///allocator.db``).
    who
        Who publishes (default: ``$USER``, else ``coordinator``).
    why
        Why (default ``half-year round``).

    Raises
    ------
    typer.Exit
        Code 2 for bad input; 1 when the plan breaks a hard rule or the store fails.
    """
    from allocator.check import check_plan
    from allocator.io.bookings import read_bookings
    from allocator.io.reader import read_round
    from allocator.store import StoreError, open_store
    from allocator.validate import guideline_errors

    try:
        inp = read_round(input_path)
        problems = guideline_errors(inp)
        if problems:
            raise InputError(problems)
        bookings = read_bookings(plan_dir)
    except InputError as exc:
        raise _fail_input(exc) from None
    violations = check_plan(inp, bookings)
    if violations:
        err.print(
            f"[red]Not published:[/red] the plan breaks {len(violations)} hard rule(s)"
            f" (see `allocator check {escape(str(input_path))} {escape(str(plan_dir))}`):",
            highlight=False,
        )
        for v in violations[:20]:
            err.print(f"  {v.rule}: {v.message}", markup=False, highlight=False)
        if len(violations) > 20:
            err.print(f"  … and {len(violations) - 20} more", highlight=False)
        raise typer.Exit(EXIT_REFUSED)
    try:
        with open_store(db) as store:
            version = store.publish(inp, bookings, who=_who(who), why=why)
            url = store.url
    except StoreError as exc:
        raise _fail_store(str(exc)) from None
    families = len({b.child_id for b in bookings})
    out.print(
        f"Published version {version}: round {inp.config.start} – {inp.config.end},"
        f" {len(bookings)} bed-nights for {families} families, in {url}",
        markup=False,
        highlight=False,
    )


def history(db: DbOption = None) -> None:
    """List the published versions with their audit lines, and each family's balance.

    A family's balance per kind is the weekend and holiday nights it got minus its fair share,
    summed over every round: families with the most negative total come first next round.

    \f
    Parameters
    ----------
    db
        The store's URL (default: ``$ALLOCATOR_DB``, else ``sqlite:///allocator.db``).

    Raises
    ------
    typer.Exit
        Code 1 when the store cannot be opened.
    """
    from allocator.store import NoStoreError, StoreError, open_store

    try:
        with open_store(db, create=False) as store:
            versions = store.history()
            balances = store.balances()
            url = store.url
    except NoStoreError as exc:
        out.print(f"Nothing published yet ({exc}).", highlight=False)
        return
    except StoreError as exc:
        raise _fail_store(str(exc)) from None
    if not versions:
        out.print(f"Nothing published yet in {url}.", highlight=False)
        return
    for line in _version_lines(versions, url):
        out.print(line, highlight=False)
    out.print()
    out.print(_balances_table(balances, versions[-1].version))


def _version_lines(versions: list[VersionInfo], url: str) -> list[str]:
    """The versions, oldest first: a head line each (rich markup), its why and audit lines.

    Lines rather than a table, so that a narrow terminal wraps them instead of cutting them.
    """
    lines = [f"[bold]Published versions[/bold] ({escape(url)})"]
    for v in versions:
        note = f" [yellow](replaced by version {v.replaced_by})[/yellow]" if v.replaced_by else ""
        lines.append(
            f"[bold]Version {v.version}[/bold]{note}: {v.kind} {v.round_start} – {v.round_end},"
            f" {v.n_bookings} bed-nights, {v.n_families} families;"
            f" {v.created_at:%Y-%m-%d %H:%M} UTC by {escape(v.who)}"
        )
        lines.append(f"  why: {escape(v.why)}")
        lines.extend(
            f"  [dim]{a.at:%Y-%m-%d %H:%M} {a.action} by {escape(a.who)}: {escape(a.detail)}[/dim]"
            for a in v.audit
        )
    return lines


def _balances_table(balances: dict[str, dict[str, float]], latest: int) -> Table:
    """Each family's balance per kind, most owed (most negative total) first."""
    from allocator.demand import DEMAND_KINDS
    from allocator.store import families_owed_first

    kinds = [k for k in DEMAND_KINDS if any(abs(b.get(k, 0.0)) >= 0.005 for b in balances.values())]
    table = Table(
        title=(
            f"Balance per family after version {latest}: weekend and holiday nights got minus"
            " fair share, over all rounds (negative = owed: first rows come first next round)"
        ),
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("family")
    table.add_column("total", justify="right")
    for kind in kinds:
        table.add_column(kind, justify="right")
    for child_id in families_owed_first(balances):
        kind_balance = balances[child_id]
        total = sum(kind_balance.values())
        table.add_row(child_id, _signed(total), *(_signed(kind_balance.get(k, 0.0)) for k in kinds))
    if not balances:
        table.caption = "No family balances yet."
    elif not kinds:
        table.caption = "Every family has had exactly its share of every kind."
    return table


def _signed(value: float) -> str:
    """``+1.2``, ``-0.4``, ``0`` (one decimal)."""
    if abs(value) < 0.05:
        return "0"
    return f"{value:+.1f}"
