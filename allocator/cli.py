"""Command line for coordinators and analysts. It parses arguments and calls the pipeline."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from allocator.commands.console import bad_option, check_solver_options, err, out, refuse_unchecked
from allocator.commands.console import fail_input as _fail_input
from allocator.io.errors import InputError

if TYPE_CHECKING:
    # Imported where used: the store commands (acute, cancel, ...) start without CP-SAT.
    from allocator.result import ProgressPoint

app = typer.Typer(
    help="Respite bed-night planner (avlastningsdøgn) for Bergen kommune.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

EXIT_NO_PLAN = 1
EXIT_BAD_INPUT = 2

InputArg = Annotated[Path, typer.Argument(help="A folder of CSV files or an .xlsx workbook.")]


def _load(path: Path) -> object:
    from allocator.io.reader import read_round
    from allocator.validate import guideline_errors

    inp = read_round(path)
    errors = guideline_errors(inp)
    if errors:
        raise InputError(errors)
    return inp


class _Throttled:
    """Print at most one progress line a second (and always the first)."""

    def __init__(self) -> None:
        self.last = -1.0

    def __call__(self, point: ProgressPoint) -> None:
        from allocator.pipeline import progress_line

        now = time.monotonic()
        if now - self.last >= 1.0:
            self.last = now
            err.print(progress_line(point), highlight=False)


@app.command()
def plan(
    input_path: InputArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the plan's files.")],
    time_limit: Annotated[float | None, typer.Option(help="Seconds (default: round.toml).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: round.toml).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="CP-SAT workers (default: round.toml).")
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(help="auto, monolithic or lns (= decomposed) (default: round.toml)."),
    ] = None,
    keep: Annotated[
        Path | None, typer.Option(help="A plan folder to keep close to: move few nights.")
    ] = None,
    improve: Annotated[
        Path | None,
        typer.Option(
            help="A plan folder of this round to improve for --time-limit more seconds;"
            " the result is never worse by the round's objective."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(help="Store with earlier rounds (default: $ALLOCATOR_DB or ./allocator.db)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log the solver.")] = False,
) -> None:
    """Plan a round: writes bookings.csv, stays.csv, summary.json and calendar.xlsx."""
    from allocator.check import format_figures
    from allocator.io.bookings import read_bookings
    from allocator.io.outdir import PLAN, unsafe_output_dir
    from allocator.pipeline import improve_round, plan_round, write_plan
    from allocator.solve import METHODS, SolveParams
    from models.round_input import RoundInput

    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING)
    try:
        inp = _load(input_path)
    except InputError as exc:
        raise _fail_input(exc) from None
    assert isinstance(inp, RoundInput)
    unsafe = unsafe_output_dir(out_dir, PLAN, [input_path])
    if unsafe:
        raise bad_option(f"--out {out_dir}: {unsafe}")
    check_solver_options(time_limit, workers, seed)
    cfg = inp.config
    params = SolveParams(
        time_limit=time_limit if time_limit is not None else cfg.time_limit,
        seed=seed if seed is not None else cfg.seed,
        workers=workers if workers is not None else cfg.workers,
        log_search=verbose,
        method=method if method is not None else cfg.method,
    )
    if keep is not None and improve is not None:
        raise bad_option("--keep and --improve: choose one")
    if params.method not in METHODS:
        raise bad_option(f"--method {params.method!r}: use auto, monolithic, lns or decomposed")
    try:
        given = improve if improve is not None else keep
        earlier = read_bookings(given) if given is not None else []
    except InputError as exc:
        raise _fail_input(exc) from None
    doing = "Planning" if improve is None else f"Improving {improve / 'bookings.csv'}:"
    err.print(
        f"{doing} {len(inp.children)} children in {sum(1 for h in inp.houses if h.places)} houses,"
        f" {cfg.start} – {cfg.end}; {params.time_limit:g}s, seed {params.seed},"
        f" {params.workers} workers. CTRL-C stops and keeps the best plan."
    )
    balances = _balances(db)
    try:
        if improve is not None:
            outcome = improve_round(
                inp,
                params,
                earlier,
                _Throttled(),
                balances=balances,
                source=str(improve / "bookings.csv"),
            )
        else:
            outcome = plan_round(inp, params, _Throttled(), previous=earlier, balances=balances)
    except InputError as exc:
        raise _fail_input(exc) from None
    result = outcome.result
    refuse_unchecked(outcome)
    write_plan(inp, outcome, params, out_dir)
    if outcome.figures is not None:
        out.print(format_figures(outcome.figures), highlight=False)
    note = " (stopped by CTRL-C)" if result.interrupted else ""
    out.print(
        f"Status {result.status}{note}, solve {result.wall_time:.1f}s. Plan written to {out_dir}/"
        " (bookings.csv, stays.csv, summary.json, calendar.xlsx; families/ with a calendar"
        " (.ics) and a letter per family; houses/ with week-by-week rosters)",
        highlight=False,
    )


def _balances(db: str | None) -> dict[str, dict[str, float]] | None:
    """Families' high-demand balances from the store, when there is one."""
    import os

    url = db or os.environ.get("ALLOCATOR_DB")
    if url is None and not Path("allocator.db").exists():
        return None
    from allocator.store import NoStoreError, open_store

    try:
        with open_store(url, create=False) as store:
            balances = store.balances()
    except NoStoreError:
        err.print("No earlier rounds in the store: no balances to carry.")
        return None
    except Exception as exc:  # the plan can be made without history; say why it was not used
        if db is not None:  # asked for by name: a mistake to mend, not to plan past
            raise bad_option(f"--db: the store cannot be read ({exc})") from None
        err.print(f"[yellow]warning:[/yellow] store not read ({exc}); no earlier balances used")
        return None
    err.print(f"Earlier rounds: balances of {len(balances)} families read from the store.")
    return balances


@app.command()
def validate(input_path: InputArg) -> None:
    """Check the input and warn where a grant does not fit the guideline."""
    from allocator.validate import guideline_warnings

    try:
        inp = _load(input_path)
    except InputError as exc:
        raise _fail_input(exc) from None
    from allocator.diagnose import diagnose
    from allocator.instance import build_instance
    from models.round_input import RoundInput

    assert isinstance(inp, RoundInput)
    conflicts = diagnose(build_instance(inp))
    if conflicts:
        err.print("[red]The round cannot be planned:[/red]")
        for line in conflicts:
            err.print(f"  {line}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    warnings = guideline_warnings(inp)
    for w in warnings:
        err.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
    out.print(
        f"Input OK: {len(inp.houses)} houses, {len(inp.children)} children,"
        f" {len(warnings)} guideline warning(s).",
        highlight=False,
    )


@app.command()
def check(
    input_path: InputArg, plan_dir: Annotated[Path, typer.Argument(help="A plan folder.")]
) -> None:
    """Check a plan against every hard rule with the independent checker; print its figures."""
    from allocator.check import check_plan, compute_figures, format_figures
    from allocator.io.added_children import read_added_children
    from allocator.io.bookings import read_bookings
    from models.round_input import RoundInput

    try:
        inp = _load(input_path)
        bookings = read_bookings(plan_dir)
        added = read_added_children(plan_dir)
    except InputError as exc:
        raise _fail_input(exc) from None
    assert isinstance(inp, RoundInput)
    # Children a change added to the round (an exported version's added_children.csv).
    inp = inp.with_children(added)
    violations = check_plan(inp, bookings)
    out.print(format_figures(compute_figures(inp, bookings)), highlight=False)
    if violations:
        err.print(f"[red]{len(violations)} rule violation(s):[/red]")
        for v in violations:
            err.print(f"  {v.rule}: {v.message}", highlight=False)
        raise typer.Exit(EXIT_NO_PLAN)
    out.print("Every hard rule holds.")


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the generated round.")],
    scale: Annotated[float, typer.Option(help="Multiple of Bergen's size.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed of the roster.")] = 1,
    demand: Annotated[float, typer.Option(help="Granted nights / usable capacity.")] = 1.0,
) -> None:
    """Generate a synthetic, pseudonymous round (Bergen's houses, a seeded roster)."""
    import math

    from allocator.generate import generate_round
    from allocator.io.outdir import ROUND, unsafe_output_dir
    from allocator.io.write_input import write_round

    if not (math.isfinite(scale) and scale > 0 and (scale <= 1 or scale.is_integer())):
        raise bad_option(f"--scale {scale}: give a share of Bergen up to 1, or a whole multiple")
    if not (math.isfinite(demand) and 0 < demand <= 10):
        raise bad_option(f"--demand {demand}: give granted nights per usable night, e.g. 1.15")
    if not 0 <= seed < 2**32:
        raise bad_option(f"--seed {seed}: give a whole number from 0 to {2**32 - 1}")
    unsafe = unsafe_output_dir(out_dir, ROUND)
    if unsafe:
        raise bad_option(f"--out {out_dir}: {unsafe}")
    inp = generate_round(scale=scale, seed=seed, demand=demand)
    write_round(inp, out_dir)
    granted = sum(c.granted_nights for c in inp.children)
    out.print(
        f"Wrote {len(inp.children)} children, {len(inp.houses)} houses,"
        f" {granted} granted nights to {out_dir}/",
        highlight=False,
    )


def _register_commands() -> None:
    from allocator.commands.explain_cmd import explain
    from allocator.commands.midround_cmds import acute, cancel, free_nights, move, offer, pin
    from allocator.commands.report_cmd import report
    from allocator.commands.store_cmds import history, publish
    from allocator.commands.version_cmds import diff, export

    app.command()(explain)
    app.command()(publish)
    app.command()(history)
    app.command()(acute)
    app.command()(cancel)
    app.command("free-nights")(free_nights)
    app.command()(offer)
    app.command()(move)
    app.command()(pin)
    app.command()(report)
    app.command()(export)
    app.command()(diff)
    from allocator.commands.scenario_cmd import scenario_app

    app.add_typer(scenario_app, name="scenario")


_register_commands()

if __name__ == "__main__":
    app()
