"""``allocator scenario ...``: capacity what-ifs for analysts. Parses arguments, calls
`allocator.scenario`, prints. Registered in `allocator.cli` with ``app.add_typer``.

Exit codes: 0 done; 1 no plan (or the checker rejected one); 2 bad input (a bad scenario file,
base round or option: every problem with file, line or row, and key; never a traceback).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from allocator.commands.console import bad_option as _bad_option
from allocator.commands.console import check_solver_options, err, out, refuse_unchecked
from allocator.commands.console import fail_input as _fail_input
from allocator.io.errors import InputError
from allocator.io.outdir import PLAN, unsafe_output_dir, unsafe_output_file

scenario_app = typer.Typer(
    help="Capacity scenarios: run a what-if against its base, find the places a target needs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

EXIT_NO_PLAN = 1
EXIT_BAD_INPUT = 2

ScenarioArg = Annotated[Path, typer.Argument(help="A scenario file (.toml) in scenarios/.")]


class _Throttled:
    """At most one progress line a second on stderr."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.last = -1.0

    def __call__(self, point: Any) -> None:
        from allocator.pipeline import progress_line

        now = time.monotonic()
        if now - self.last >= 1.0:
            self.last = now
            err.print(f"{self.prefix}: {progress_line(point)}", highlight=False)


_PERCENT = ("fulfilment", "util", "utilisation", "gap", "share", "lowest", "p10")


def _fmt(metric: str, value: Any, change: bool = False) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and metric.startswith(_PERCENT):
        return f"{value * 100:+.1f} pt" if change else f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:+,.0f}" if change else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:+,d}" if change else f"{value:,d}"
    return str(value)


def comparison_table(rows: Sequence[Mapping[str, Any]], title: str) -> Table:
    """A rich table of base vs scenario figures."""
    from allocator.scenario.compare import summary_figures

    table = Table(title=title, title_justify="left")
    table.add_column("figure")
    table.add_column("base", justify="right")
    table.add_column("scenario", justify="right")
    table.add_column("change", justify="right")
    for r in summary_figures(rows):
        m = str(r["metric"])
        change = r["change"]
        style = "" if not change else "bold"
        table.add_row(
            m, _fmt(m, r["base"]), _fmt(m, r["scenario"]), _fmt(m, change, True), style=style
        )
    return table


@scenario_app.command("run")
def run(
    scenario: ScenarioArg,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the plan and comparison (default out/<name>)."),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Seconds per solve (default: the round's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the round's).")] = None,
    workers: Annotated[int | None, typer.Option(help="CP-SAT workers.")] = None,
    base: Annotated[
        bool,
        typer.Option(
            "--base/--no-base",
            help="Plan the base too, with the same settings (--no-base: compare the rounds'"
            " own figures only, half the time).",
        ),
    ] = True,
) -> None:
    """Run a scenario: plan its round (and the base), write the plan and the comparison."""
    from allocator.scenario.apply import apply
    from allocator.scenario.run import run_with_base, solve_params, write_comparison
    from allocator.scenario.spec import load_scenario

    check_solver_options(time_limit, workers)
    try:
        sc = load_scenario(scenario)
        applied = apply(sc)
    except InputError as exc:
        raise _fail_input(exc) from None
    cfg = applied.inp.config
    params = solve_params(
        applied,
        seed if seed is not None else cfg.seed,
        time_limit if time_limit is not None else cfg.time_limit,
        workers if workers is not None else cfg.workers,
    )
    target = out_dir if out_dir is not None else Path("out") / sc.name
    unsafe = unsafe_output_dir(target, PLAN, [sc.base_path, sc.path])
    if unsafe:
        raise _bad_option(f"--out {target}: {unsafe}")
    err.print(f"Scenario {sc.name}: {sc.description or sc.path}", highlight=False)
    for line in applied.changes:
        err.print(f"  • {line}", highlight=False)
    what = (
        f"scenario and base, {params.time_limit:g}s each"
        if base
        else f"the scenario, {params.time_limit:g}s"
    )
    err.print(f"Planning {what}; seed {params.seed}, {params.workers} workers.", highlight=False)
    comparison = run_with_base(
        applied,
        params,
        _Throttled("scenario"),
        plan_base=base,
        on_base_progress=_Throttled("base"),
    )
    outcome, row, base_row = comparison.scenario, comparison.scenario_row, comparison.base_row
    refuse_unchecked(outcome, "No plan for the scenario")
    if base and base_row.get("status") not in ("OPTIMAL", "FEASIBLE"):
        err.print(
            f"[yellow]warning:[/yellow] the base has no checked plan ({base_row.get('status')});"
            " the comparison shows its round figures only",
            highlight=False,
        )
    write_comparison(comparison, target)
    rows = comparison.rows
    out.print(comparison_table(rows, f"{sc.name}: base vs scenario"))
    out.print(
        f"Status {row['status']} (base {base_row.get('status', 'not planned')}). Written to"
        f" {target}/ (the plan's files as `plan` writes them, scenario.json, comparison.json,"
        " comparison.csv)",
        highlight=False,
    )


@scenario_app.command("show")
def show(scenario: ScenarioArg) -> None:
    """Apply a scenario without planning: list its changes and the round's figures."""
    from allocator.scenario.apply import apply
    from allocator.scenario.compare import compare_rows, input_figures
    from allocator.scenario.spec import load_scenario

    try:
        applied = apply(load_scenario(scenario))
    except InputError as exc:
        raise _fail_input(exc) from None
    sc = applied.scenario
    out.print(f"Scenario {sc.name}: {sc.description or sc.path}", highlight=False)
    out.print(f"Base: {sc.base_path}", highlight=False)
    for line in applied.changes or ["no change"]:
        out.print(f"  • {line}", highlight=False)
    rows = compare_rows(input_figures(applied.base), input_figures(applied.inp))
    out.print(comparison_table(rows, "round figures"))


@scenario_app.command("capacity")
def capacity(
    source: Annotated[
        Path, typer.Argument(help="A base round (folder or .xlsx) or a scenario file (.toml).")
    ],
    target: Annotated[
        float, typer.Option(help="Share of each child's grant every child must get.")
    ] = 0.95,
    group: Annotated[
        list[str] | None,
        typer.Option(
            help="A group that may grow, by key ('2;3 (4)') or by one of its houses"
            " (vadmyra); repeat for more; default all."
        ),
    ] = None,
    mode: Annotated[
        str, typer.Option(help="add: places to the group's largest house; new: a new house.")
    ] = "add",
    time_limit: Annotated[
        float, typer.Option(help="Seconds per confirmation solve (Bergen: 30 or more).")
    ] = 30.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    workers: Annotated[int, typer.Option(help="CP-SAT workers.")] = 2,
    max_add: Annotated[int, typer.Option(help="Most places added to one group.")] = 30,
    max_solves: Annotated[int, typer.Option(help="Most confirmation solves.")] = 12,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the answer and every solve to this JSON file."),
    ] = None,
) -> None:
    """Find the fewest added places per group of houses that give every child TARGET of its
    grant: a max-flow bound rules out hopeless counts, the round's model confirms."""
    from allocator.io.reader import read_round
    from allocator.scenario.apply import apply_scenario
    from allocator.scenario.capacity import find_capacity, house_groups, resolve_groups
    from allocator.scenario.spec import load_scenario
    from allocator.solve import SolveParams

    if not 0 < target <= 1:
        raise _bad_option(f"--target {target}: give a share in (0, 1], e.g. 0.95")
    check_solver_options(time_limit, workers)
    if mode not in ("add", "new"):
        raise _bad_option(f"--mode {mode!r}: use add or new")
    if max_add < 1:
        raise _bad_option(f"--max-add {max_add}: give 1 or more places")
    if max_solves < 1:
        raise _bad_option(f"--max-solves {max_solves}: give 1 or more solves")
    if out_file is not None:
        unsafe_file = unsafe_output_file(out_file, ".json", [source])
        if unsafe_file:
            raise _bad_option(f"--out {out_file}: {unsafe_file}")
    try:
        if source.suffix.lower() == ".toml":
            inp = apply_scenario(load_scenario(source))
        else:
            inp = read_round(source)
    except InputError as exc:
        raise _fail_input(exc) from None
    groups = house_groups(inp)
    try:
        chosen = resolve_groups(inp, group) if group else None
    except ValueError as exc:
        raise _bad_option(f"--group: {exc}") from None
    err.print(
        f"Groups: {'; '.join(f'{g.key!r} ({g.places} places, grows {g.representative})' for g in groups)}",  # noqa: E501
        highlight=False,
    )
    params = SolveParams(
        time_limit=time_limit, seed=seed, workers=workers, method=inp.config.method
    )
    result = find_capacity(
        inp,
        target,
        groups=chosen,
        mode=mode,
        params=params,
        max_add=max_add,
        max_solves=max_solves,
        on_step=lambda line: err.print(f"  {line}", highlight=False),
    )
    table = Table(title=f"Places to add for {target:.0%} of every grant", title_justify="left")
    table.add_column("group")
    table.add_column("houses")
    table.add_column("places now", justify="right")
    table.add_column("max-flow needs", justify="right")
    table.add_column("add", justify="right")
    for g in groups:
        if g.key not in result.added:
            continue
        table.add_row(
            g.key,
            ", ".join(g.houses),
            str(g.places),
            f"+{result.flow_added.get(g.key, 0)}",
            f"+{result.added[g.key]}",
        )
    out.print(table)
    verdict = "[green]found[/green]" if result.found else "[yellow]not confirmed[/yellow]"
    out.print(f"{verdict}: {result.total} places in all; {result.message}.", highlight=False)
    if out_file is not None:
        from allocator.io.atomic import write_json

        write_json(out_file, result.to_dict())
        out.print(f"Written to {out_file}", highlight=False)
    if not result.found:
        raise typer.Exit(EXIT_NO_PLAN)


# Sweeps and their report register themselves on scenario_app (allocator/commands/sweep_cmd.py).
from allocator.commands import sweep_cmd  # noqa: E402,F401
