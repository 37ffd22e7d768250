"""Sweeps: the sweep file and its errors, grid expansion and run keys, the same table serially,
in a process pool and on a local Dask cluster, resuming, failed and timed-out runs, the CLI."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pandas as pd
import pytest
from a_scenario_helpers import run_cli
from b_helpers import (
    SOLUTION_COLUMNS,
    FakeRunner,
    calls,
    list_sweep,
    make_base,
    write_scenarios,
    write_sweep,
)

from allocator.io.errors import InputError
from allocator.scenario.spec import load_scenario
from allocator.scenario.sweep import (
    FAILED,
    TIMEOUT,
    expand_sweep,
    load_sweep,
    plan_parallelism,
    read_results,
    run_sweep,
)

# --- the sweep file ---------------------------------------------------------------------------


def test_unknown_key_names_file_line_and_key(tmp_path: Path) -> None:
    write_scenarios(tmp_path, ("keep",))
    path = write_sweep(tmp_path, 'seeds = [1]\nscenarios = ["keep.toml"]\nseed = 3\n')
    with pytest.raises(InputError) as info:
        load_sweep(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.row, problem.column) == (str(path), 3, "seed")
    assert "unknown key 'seed'" in problem.message and "seeds" in problem.message


def test_bad_values_and_missing_files_are_all_reported(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        'seeds = [1, 1]\nscenarios = ["nowhere.toml"]\n'
        '[grid]\nscenario = "keep.toml"\nparameter = "acute_reserve.h4"\nvalues = [0, 1]\n'
        "colour = 1\n",
    )
    with pytest.raises(InputError) as info:
        load_sweep(path)
    keys = {p.column for p in info.value.problems}
    assert keys == {"seeds", "grid.colour"}  # pydantic errors first, one pass
    write_scenarios(tmp_path, ("keep",))
    path = write_sweep(
        tmp_path,
        'scenarios = ["nowhere.toml"]\n[grid]\nscenario = "keep.toml"\n'
        'parameter = "acute_reserve"\nvalues = [{h4 = 0}, {h4 = 1}]\n',
    )
    with pytest.raises(InputError) as info:
        load_sweep(path)
    found = {p.column: p for p in info.value.problems}
    assert set(found) == {"scenarios.0", "grid.labels"}
    assert found["scenarios.0"].row == 1 and "not found" in found["scenarios.0"].message


def test_grid_writes_a_scenario_file_per_value(tmp_path: Path) -> None:
    write_scenarios(tmp_path, ("keep",))
    path = write_sweep(
        tmp_path,
        'seeds = [1, 2]\ntime_limit = 5\n[grid]\nscenario = "keep.toml"\n'
        'parameter = "houses.h4.add_places"\nvalues = [0, 1, 2]\n',
    )
    out = tmp_path / "out"
    plan = expand_sweep(load_sweep(path), out)
    assert [(r.scenario, r.seed, r.value) for r in plan.runs[:2]] == [
        ("keep-h4.add_places-0", 1, 0),
        ("keep-h4.add_places-0", 2, 0),
    ]
    assert len(plan.runs) == 6 and len({r.key for r in plan.runs}) == 6
    files = sorted((out / "scenarios").glob("*.toml"))
    assert [f.stem for f in files] == [f"keep-h4.add_places-{v}" for v in (0, 1, 2)]
    sc = load_scenario(files[2])  # a scenario file like any other, its base found
    assert sc.houses["h4"].add_places == 2 and sc.acute_reserve == {"h4": 1}
    assert sc.base_path.resolve() == (tmp_path / "base").resolve()
    assert plan.runs[0].parameter == "houses.h4.add_places"


def test_a_grid_value_that_breaks_the_scenario_names_the_sweep_key(tmp_path: Path) -> None:
    write_scenarios(tmp_path, ("keep",))
    path = write_sweep(
        tmp_path,
        '[grid]\nscenario = "keep.toml"\nparameter = "houses.h4.colour"\nvalues = [1]\n',
    )
    with pytest.raises(InputError) as info:
        expand_sweep(load_sweep(path), tmp_path / "out")
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.column == "grid.values.0"
    assert "colour" in problem.message


def test_run_keys_follow_content_not_paths(tmp_path: Path) -> None:
    path = list_sweep(tmp_path)
    keys = [r.key for r in expand_sweep(load_sweep(path), tmp_path / "a", write=False).runs]
    again = [r.key for r in expand_sweep(load_sweep(path), tmp_path / "b", write=False).runs]
    assert keys == again  # the output folder is not in the key
    longer = expand_sweep(load_sweep(path), tmp_path / "a", time_limit=6, write=False)
    assert not set(keys) & {r.key for r in longer.runs}
    # A change in the base data changes every key.
    children = tmp_path / "base" / "children.csv"
    children.write_text(children.read_text().replace(",5,", ",6,", 1))
    changed = [r.key for r in expand_sweep(load_sweep(path), tmp_path / "a", write=False).runs]
    assert not set(keys) & set(changed)


def test_parallelism_fits_the_cores() -> None:
    assert plan_parallelism(cores=2, runs=12) == (2, 1)
    assert plan_parallelism(cores=8, runs=3) == (3, 2)
    assert plan_parallelism(cores=8, runs=12, processes=2) == (2, 4)
    assert plan_parallelism(cores=8, runs=12, workers=4) == (2, 4)
    assert plan_parallelism(cores=2, runs=12, workers=8) == (1, 8)
    assert plan_parallelism(cores=1, runs=5) == (1, 1)


# --- the same table every way -----------------------------------------------------------------


def _solution(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    cols = [c for c in SOLUTION_COLUMNS if c in frame.columns]
    cols += sorted(c for c in frame.columns if c.startswith(("util_", "fulfilment_")))
    return [tuple(r) for r in frame[cols].itertuples(index=False)]


def test_serial_pool_and_dask_give_the_same_table(tmp_path: Path) -> None:
    """The real runner on the tiny round, 1 CP-SAT worker: every plan proved optimal."""
    path = list_sweep(tmp_path, seeds="[1, 2]")
    tables = []
    for mode in ("serial", "processes", "dask-local"):
        out = tmp_path / mode
        plan = expand_sweep(load_sweep(path), out)
        outcome = run_sweep(
            plan, out, mode=mode, processes=2, workers=1, dask_processes=False, cores=2
        )
        assert outcome.ran == 6 and outcome.problems == 0, outcome
        frame = read_results(out)
        assert set(frame["status"]) == {"OPTIMAL"} and set(frame["violations"]) == {0}
        assert frame["error"].isna().all()
        assert set(frame["workers"]) == {1}
        assert (
            list(frame["scenario"])
            == ["keep", "keep", "no-reserve", "no-reserve"] + ["bigger-h4"] * 2
        )
        from_csv = pd.read_csv(out / "results.csv")
        assert list(from_csv.columns) == list(frame.columns)
        for col in ("seed", "allocated", "granted", "objective", "fulfilment", "cost"):
            assert from_csv[col].tolist() == frame[col].tolist(), col
        tables.append(_solution(frame))
    assert tables[0] == tables[1] == tables[2]
    # The reserve costs the category-4 children nights: releasing it gives more.
    frame = read_results(tmp_path / "serial")
    by = frame.groupby("scenario")["allocated"].mean()
    assert by["no-reserve"] > by["keep"] and by["bigger-h4"] > by["keep"]


def test_dask_local_cluster_with_worker_processes(tmp_path: Path) -> None:
    """Two worker processes, a stand-in runner: rows come back, the cluster shuts down."""
    path = list_sweep(tmp_path, seeds="[1, 2]")
    out = tmp_path / "out"
    runner = FakeRunner(tmp_path / "calls")
    plan = expand_sweep(load_sweep(path), out)
    outcome = run_sweep(plan, out, mode="dask-local", processes=2, runner=runner, cores=2)
    assert outcome.ran == 6 and (outcome.processes, outcome.workers) == (2, 1)
    assert multiprocessing.active_children() == []  # the cluster's processes are gone
    serial_out = tmp_path / "serial"
    run_sweep(expand_sweep(load_sweep(path), serial_out), serial_out, mode="serial", runner=runner)
    assert _solution(read_results(out)) == _solution(read_results(serial_out))


# --- resuming, failures, time-outs ------------------------------------------------------------


def test_a_killed_sweep_resumes_without_repeating_finished_runs(tmp_path: Path) -> None:
    path = list_sweep(tmp_path, seeds="[1, 2]")
    out = tmp_path / "out"
    plan = expand_sweep(load_sweep(path), out)
    killed = FakeRunner(tmp_path / "calls", stop_after=4)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, out, mode="serial", runner=killed)
    assert len(list((out / "runs").glob("*.json"))) == 4
    assert len(read_results(out)) == 4  # the table holds what finished

    runner = FakeRunner(tmp_path / "calls")
    plan = expand_sweep(load_sweep(path), out)
    outcome = run_sweep(plan, out, mode="processes", processes=2, runner=runner, cores=2)
    assert (outcome.skipped, outcome.ran) == (4, 2)
    assert len(calls(tmp_path / "calls")) == 6  # 4 before the kill + 2 now: none twice
    assert sorted(calls(tmp_path / "calls")) == sorted(
        f"{s}.s{seed}" for s in ("keep", "no-reserve", "bigger-h4") for seed in (1, 2)
    )
    frame = read_results(out)
    assert list(frame["run_key"]) == [r.key for r in plan.runs]
    again = run_sweep(plan, out, mode="serial", runner=runner)
    assert (again.skipped, again.ran) == (6, 0)


def test_prepopulated_run_files_are_not_run_again(tmp_path: Path) -> None:
    path = list_sweep(tmp_path, seeds="[1]")
    out = tmp_path / "out"
    plan = expand_sweep(load_sweep(path), out)
    (out / "runs").mkdir(parents=True)
    first = plan.runs[0]
    (out / "runs" / f"{first.key}.json").write_text(
        json.dumps({"run_key": first.key, "scenario": first.scenario, "status": "OPTIMAL"})
    )
    (out / "runs" / f"{plan.runs[1].key}.json").write_text("{ half a file")  # repeated
    runner = FakeRunner(tmp_path / "calls")
    outcome = run_sweep(plan, out, mode="serial", runner=runner)
    assert outcome.ran == 2 and calls(tmp_path / "calls") == sorted(
        ["bigger-h4.s1", "no-reserve.s1"]
    )


def test_a_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    path = list_sweep(tmp_path, seeds="[1, 2]")
    out = tmp_path / "out"
    runner = FakeRunner(tmp_path / "calls", fail=frozenset({"no-reserve"}))
    plan = expand_sweep(load_sweep(path), out)
    outcome = run_sweep(plan, out, mode="processes", processes=2, runner=runner, cores=2)
    assert outcome.ran == 6 and outcome.statuses == {"OPTIMAL": 4, FAILED: 2}
    frame = read_results(out)
    bad = frame[frame["status"] == FAILED]
    assert list(bad["scenario"]) == ["no-reserve", "no-reserve"]
    assert all(e.startswith("ValueError: no plan for no-reserve") for e in bad["error"])
    assert bad["fulfilment"].isna().all() and frame["fulfilment"].notna().sum() == 4
    # Failed runs stay recorded on resume, unless asked to retry them.
    fixed = FakeRunner(tmp_path / "calls")
    assert run_sweep(plan, out, mode="serial", runner=fixed).ran == 0
    assert run_sweep(plan, out, mode="serial", runner=fixed, retry_failed=True).ran == 2
    assert set(read_results(out)["status"]) == {"OPTIMAL"}


def test_a_run_over_its_budget_is_a_timeout(tmp_path: Path) -> None:
    path = list_sweep(tmp_path, seeds="[1]", extra="timeout = 0.5\n")
    out = tmp_path / "out"
    plan = expand_sweep(load_sweep(path), out)
    slow = FakeRunner(tmp_path / "calls", sleep=30)
    outcome = run_sweep(plan, out, mode="processes", processes=2, runner=slow, cores=2)
    assert outcome.statuses == {TIMEOUT: 3}
    frame = read_results(out)
    assert all("budget of 0.5 s" in e for e in frame["error"])
    assert (frame["wall_time"] < 10).all()  # stopped, not waited for


def test_a_bad_scenario_apply_is_a_failed_run(tmp_path: Path) -> None:
    """The real runner: a house the base lacks fails that run only."""
    write_scenarios(tmp_path, ("keep",))
    (tmp_path / "ghost.toml").write_text('base = "base"\n[houses.ghost]\nplaces = 2\n')
    path = write_sweep(tmp_path, 'seeds = [1]\ntime_limit = 5\nscenarios = ["ghost.toml"]\n')
    out = tmp_path / "out"
    outcome = run_sweep(expand_sweep(load_sweep(path), out), out, mode="serial", workers=1)
    assert outcome.statuses == {FAILED: 1}
    error = read_results(out)["error"][0]
    assert "ghost.toml" in error and "ghost" in error


# --- the CLI ----------------------------------------------------------------------------------


def test_cli_sweep_writes_the_table_and_resumes(tmp_path: Path) -> None:
    make_base(tmp_path)
    write_scenarios(tmp_path, ("keep",))
    path = write_sweep(tmp_path, 'seeds = [1, 2]\ntime_limit = 5\nscenarios = ["keep.toml"]\n')
    out = tmp_path / "out"
    result = run_cli("scenario", "sweep", path, "--out", out, "--processes", "1", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "2 runs in the table (OPTIMAL 2)" in result.output
    assert "[1/2] keep seed" in result.output
    frame = pd.read_csv(out / "results.csv")
    assert len(frame) == 2 and set(frame["violations"]) == {0}
    result = run_cli("scenario", "sweep", path, "--out", out, "--processes", "1")
    assert (
        result.exit_code == 0 and "0 run now" in result.output and "2 done before" in result.output
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--dask", "remote"], "only 'local'"),
        (["--dask", "local", "--cluster", "tcp://h:8786"], "one of"),
        (["--cluster", "h:8786"], "tcp://host:8786"),
        (["--processes", "0"], "--processes 0"),
        (["--time-limit", "0"], "--time-limit"),
    ],
)
def test_cli_rejects_bad_options(tmp_path: Path, args: list[str], words: str) -> None:
    path = list_sweep(tmp_path)
    result = run_cli("scenario", "sweep", path, "--out", tmp_path / "out", *args)
    assert result.exit_code == 2 and words in result.output


def test_cli_bad_sweep_file_and_foreign_out_folder_exit_2(tmp_path: Path) -> None:
    path = list_sweep(tmp_path, extra="[grid]\nscenario = 'keep.toml'\nparam = 'x'\n")
    result = run_cli("scenario", "sweep", path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert f"{path}, row 6, column grid.param: unknown key 'param'" in result.output
    assert "Traceback" not in result.output
    good = list_sweep(tmp_path)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("keep me")
    result = run_cli("scenario", "sweep", good, "--out", tmp_path / "foreign")
    assert result.exit_code == 2 and "holds no earlier sweep" in result.output


def test_cli_a_scenario_that_cannot_apply_stops_the_sweep_before_any_run(tmp_path: Path) -> None:
    make_base(tmp_path)
    write_scenarios(tmp_path, ("keep",))
    (tmp_path / "ghost.toml").write_text('base = "base"\n[houses.ghost]\nplaces = 2\n')
    path = write_sweep(
        tmp_path, 'seeds = [1, 2]\ntime_limit = 5\nscenarios = ["keep.toml", "ghost.toml"]\n'
    )
    out = tmp_path / "out"
    result = run_cli("scenario", "sweep", path, "--out", out, "--processes", "1")
    assert result.exit_code == 2, result.output
    assert "ghost.toml" in result.output and "unknown house 'ghost'" in result.output
    assert "Traceback" not in result.output
    assert not (out / "results.csv").exists() and not (out / "runs").exists()


def test_cli_unreachable_cluster_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("allocator.scenario.sweep.CONNECT_TIMEOUT", "1s")
    path = list_sweep(tmp_path, seeds="[1]")
    result = run_cli(
        "scenario", "sweep", path, "--out", tmp_path / "out", "--cluster", "tcp://127.0.0.1:9"
    )
    assert result.exit_code == 2 and "cannot connect" in result.output


def test_cluster_mode_sends_runs_to_a_running_scheduler(tmp_path: Path) -> None:
    """--cluster: a Dask scheduler that exists already (here one started in this process)."""
    from distributed import LocalCluster

    path = list_sweep(tmp_path, seeds="[1]")
    out = tmp_path / "out"
    runner = FakeRunner(tmp_path / "calls")
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        plan = expand_sweep(load_sweep(path), out)
        outcome = run_sweep(
            plan, out, mode="cluster", cluster=cluster.scheduler_address, runner=runner
        )
    assert outcome.ran == 3 and outcome.workers == 1
    assert list(read_results(out)["run_key"]) == [r.key for r in plan.runs]


def test_a_column_of_mixed_kinds_becomes_text_for_parquet(tmp_path: Path) -> None:
    from allocator.scenario.sweep import results_frame

    frame = results_frame(
        [
            {"scenario": "a", "param.closures.0.places_closed": "all", "fulfilment": 0.9},
            {"scenario": "b", "param.closures.0.places_closed": 2, "fulfilment": None},
        ]
    )
    assert list(frame["param.closures.0.places_closed"]) == ["all", "2"]
    frame.to_parquet(tmp_path / "t.parquet")  # would raise on a mixed column


def test_a_grid_over_a_whole_table_needs_labels_and_plots_on_them(tmp_path: Path) -> None:
    write_scenarios(tmp_path, ("keep",))
    path = write_sweep(
        tmp_path,
        'seeds = [1]\n[grid]\nscenario = "keep.toml"\nparameter = "acute_reserve"\n'
        'values = [{}, {h4 = 2}]\nlabels = ["0", "2"]\n',
    )
    out = tmp_path / "out"
    plan = expand_sweep(load_sweep(path), out)
    assert [(r.scenario, r.value) for r in plan.runs] == [
        ("keep-acute_reserve-0", "0"),
        ("keep-acute_reserve-2", "2"),
    ]
    assert load_scenario(out / "scenarios" / "keep-acute_reserve-0.toml").acute_reserve == {}
    assert load_scenario(out / "scenarios" / "keep-acute_reserve-2.toml").acute_reserve == {"h4": 2}
