"""``allocator scenario sweep`` and ``allocator scenario report``: many scenario runs, one table,
one page. Registered on `allocator.commands.scenario_cmd.scenario_app` by importing this module.

Exit codes: 0 every run has a checked plan (sweep) / the report is written; 1 some run failed,
timed out or has no plan (the table still holds every run); 2 bad input or option (a bad sweep
or scenario file: every problem with file, line and key; a Dask scheduler that cannot be
reached); 130 interrupted (finished runs are kept; the same command resumes).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from allocator.commands.console import bad_option as _bad_option
from allocator.commands.console import err, out
from allocator.commands.console import fail_input as _fail_input
from allocator.commands.scenario_cmd import scenario_app
from allocator.io.errors import InputError

EXIT_SOME_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
CLUSTER_SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://")


@contextlib.contextmanager
def _term_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a sweep as CTRL-C does: its pool is stopped, finished runs are kept."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _pct(value: Any) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, int | float) else "–"


def _progress(row: dict[str, Any], done: int, total: int) -> None:
    width = len(str(total))
    head = f"[{done:>{width}}/{total}] {row.get('scenario')} seed {row.get('seed')}:"
    if row.get("error"):
        err.print(f"{head} {row.get('status')}: {row['error']}", highlight=False, markup=False)
        return
    err.print(
        f"{head} {row.get('status')}, fulfilment {_pct(row.get('fulfilment'))},"
        f" under 80% {row.get('under_80', '–')}, {row.get('wall_time', 0):.1f}s",
        highlight=False,
        markup=False,
    )


@scenario_app.command("sweep")
def sweep(
    spec_path: Annotated[
        Path,
        typer.Argument(metavar="SPEC", help="A sweep file (.toml), e.g. scenarios/sweep.toml."),
    ],
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder for runs/, results.csv and results.parquet."),
    ],
    time_limit: Annotated[
        float | None, typer.Option(help="Seconds per run (default: the sweep file's).")
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(help="Runs at a time (default: fill the cores; with --dask, its workers)."),
    ] = None,
    dask: Annotated[
        str | None, typer.Option("--dask", help="'local': start a local Dask cluster for it.")
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(help="Run on the Dask scheduler at this address (tcp://host:8786)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="CP-SAT workers per run (default: cores / runs at a time; cluster 1)."),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run again runs recorded as failed/timeout.")
    ] = False,
) -> None:
    """Run every scenario of a sweep with every seed; one row per run in DIR/results.csv."""
    from allocator.scenario.sweep import (
        Mode,
        check_scenarios_apply,
        expand_sweep,
        load_sweep,
        run_sweep,
        unsafe_out_dir,
    )

    if sum(v is not None for v in (dask, cluster)) > 1:
        raise _bad_option("give one of --dask local or --cluster URL")
    if dask is not None and dask != "local":
        raise _bad_option(f"--dask {dask!r}: only 'local' (for a cluster use --cluster URL)")
    if cluster is not None and not cluster.startswith(CLUSTER_SCHEMES):
        raise _bad_option(f"--cluster {cluster!r}: give a scheduler address like tcp://host:8786")
    if time_limit is not None and not time_limit > 0:
        raise _bad_option(f"--time-limit {time_limit:g}: must be more than 0")
    if processes is not None and processes < 1:
        raise _bad_option(f"--processes {processes}: must be 1 or more")
    if workers is not None and not 1 <= workers <= 64:
        raise _bad_option(f"--workers {workers}: must be between 1 and 64")
    unsafe = unsafe_out_dir(out_dir)
    if unsafe:
        raise _bad_option(f"--out {out_dir}: {unsafe}")
    try:
        spec = load_sweep(spec_path)
        plan = expand_sweep(spec, out_dir, time_limit=time_limit)
        check_scenarios_apply(plan)
    except InputError as exc:
        raise _fail_input(exc) from None
    mode: Mode = "cluster" if cluster else "dask-local" if dask else "processes"
    where = {
        "processes": "a process pool",
        "dask-local": "a local Dask cluster",
        "cluster": f"the Dask cluster at {cluster}",
    }[mode]
    err.print(
        f"Sweep {spec.name!r}: {len(plan.runs)} runs ({len(plan.runs) // len(spec.seeds)}"
        f" scenarios × {len(spec.seeds)} seeds), {plan.time_limit:g}s each, budget"
        f" {plan.timeout:g}s, on {where}. Results in {out_dir}/; CTRL-C stops, the same command"
        " resumes.",
        highlight=False,
    )
    try:
        with _term_as_interrupt():
            outcome = run_sweep(
                plan,
                out_dir,
                mode=mode,
                processes=processes,
                workers=workers,
                cluster=cluster,
                retry_failed=retry_failed,
                on_row=_progress,
            )
    except KeyboardInterrupt:
        err.print(
            f"[yellow]Interrupted.[/yellow] Finished runs are kept in {out_dir}/runs/; run the"
            " same command again to resume.",
            highlight=False,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except ConnectionError as exc:
        raise _bad_option(f"--cluster: {exc}") from None
    from allocator.scenario.sweep import PLAN_STATUSES, read_results

    frame = read_results(out_dir)
    bad = frame[~frame["status"].isin(PLAN_STATUSES)] if len(frame) else frame
    statuses = ", ".join(f"{k} {v}" for k, v in frame["status"].value_counts().items())
    out.print(
        f"{len(frame)} runs in the table ({statuses}): {outcome.ran} run now"
        f" ({outcome.processes} at a time × {outcome.workers} CP-SAT workers,"
        f" {outcome.wall_time:.0f}s), {outcome.skipped} done before."
        f" Table: {out_dir}/results.csv and results.parquet."
        f" Report: allocator scenario report {out_dir}",
        highlight=False,
    )
    if len(bad):
        err.print(f"[yellow]{len(bad)} run(s) without a checked plan[/yellow] (see the table).")
        raise typer.Exit(EXIT_SOME_FAILED)


@scenario_app.command("report")
def report(
    sweep_dir: Annotated[
        Path, typer.Argument(metavar="DIR", help="A sweep's folder (scenario sweep --out).")
    ],
    x: Annotated[
        str | None,
        typer.Option("--x", help="Column to plot against (default: the varied parameter)."),
    ] = None,
) -> None:
    """Write DIR/report.html (plots and the table, self-contained) and DIR/plots/*.png."""
    from allocator.scenario.report import build_report

    if not sweep_dir.is_dir():
        raise _bad_option(f"{sweep_dir}: not a folder")
    try:
        page = build_report(sweep_dir, x)
    except InputError as exc:
        raise _fail_input(exc) from None
    out.print(f"Report written to {page} (PNG copies in {sweep_dir / 'plots'}/).", highlight=False)
