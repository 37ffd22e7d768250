"""`run_scenario_row` and ``allocator scenario run`` on the tiny round: a flat, JSON-safe row;
a plan the independent checker accepts; the plan's files plus the comparison."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from a_scenario_helpers import assert_checked, run_cli, write_scenario

from allocator.io.bookings import read_bookings
from allocator.scenario.apply import apply, apply_scenario
from allocator.scenario.run import input_hash, run_scenario_row, run_with_base, solve_params
from allocator.scenario.spec import load_scenario

# h4 grows by a place and the reserve goes: category 4 gets h4's 3 places a night.
SCENARIO = "[houses.h4]\nadd_places = 1\n[acute_reserve]\n[demand]\nscale = 1.4\n"


def test_row_is_flat_json_and_its_plan_passes_the_checker(tmp_path: Path, base_dir: Path) -> None:
    path = write_scenario(tmp_path, SCENARIO, name="grow")
    out = tmp_path / "out"
    row = run_scenario_row(path, seed=1, time_limit=3.0, workers=1, out=out)

    assert json.loads(json.dumps(row, allow_nan=False)) == row
    assert all(v is None or isinstance(v, str | int | float | bool) for v in row.values())
    assert row["scenario"] == "grow" and row["scenario_file"] == str(path)
    assert row["status"] in ("OPTIMAL", "FEASIBLE") and row["violations"] == 0
    assert (row["seed"], row["time_limit"], row["workers"]) == (1, 3.0, 1)
    assert row["param.houses.h4.add_places"] == 1
    assert row["param.demand.scale"] == 1.4
    assert row["param.acute_reserve_total"] == 0 and row["param.places_total"] == 5

    inp = apply_scenario(load_scenario(path))
    assert row["input_hash"] == input_hash(inp)
    bookings = read_bookings(out)
    assert_checked(inp, bookings)
    assert row["allocated"] == len(bookings)
    assert row["granted"] == sum(c.granted_nights for c in inp.children)
    assert row["fulfilment"] == row["allocated"] / row["granted"]
    assert 0 <= row["gap"] <= 1 and row["bound"] >= row["allocated"]
    price = {h.house_id: h.price_per_night for h in inp.houses}
    assert row["cost"] == sum(price[b.house_id] for b in bookings)
    for house_id in ("h4", "h23", "bb"):
        assert 0 <= row[f"util_{house_id}"] <= 1
    cat4 = [c for c in inp.children if c.category == "4"]
    got4 = sum(1 for b in bookings if inp.child(b.child_id).category == "4")
    assert row["fulfilment_cat_4"] == got4 / sum(c.granted_nights for c in cat4)
    assert row["fulfilment_cat_2"] is None  # nobody of category 2
    assert row["fulfilment_level_6"] == 1.0  # the barnebolig resident
    assert row["acute_place_nights"] == 0
    assert row["project_version"] and row["ortools_version"]

    for name in ("bookings.csv", "stays.csv", "summary.json", "calendar.xlsx", "scenario.json"):
        assert (out / name).exists(), name
    comparison = json.loads((out / "comparison.json").read_text())
    assert any("h4: places 2 → 3" in c for c in comparison["changes"])
    with (out / "comparison.csv").open() as handle:
        rows = {r["metric"]: r for r in csv.DictReader(handle)}
    assert rows["places_total"]["base"] == "4" and rows["places_total"]["scenario"] == "5"


def test_same_seed_one_worker_same_row(tmp_path: Path, base_dir: Path) -> None:
    path = write_scenario(tmp_path, SCENARIO)
    one = run_scenario_row(path, seed=3, time_limit=2.0, workers=1)
    two = run_scenario_row(path, seed=3, time_limit=2.0, workers=1)
    timing = ("wall_time", "solve_time")
    assert {k: v for k, v in one.items() if k not in timing} == {
        k: v for k, v in two.items() if k not in timing
    }


def test_row_without_a_plan_says_so(tmp_path: Path, base_dir: Path) -> None:
    """The barnebolig loses its bed: no plan can house the resident (rule R4)."""
    path = write_scenario(tmp_path, "[houses.bb]\nplaces = 0\n")
    row = run_scenario_row(path, seed=1, time_limit=2.0, workers=1)
    assert row["status"] == "INFEASIBLE"
    assert "allocated" not in row and row["granted"] == 19


def test_base_and_scenario_planned_alike(tmp_path: Path, base_dir: Path) -> None:
    """Demand × 1.4 over the base's capacity: the base gives every night (19), the scenario
    cannot give them all, and its extra place and released reserve give more nights."""
    applied = apply(load_scenario(write_scenario(tmp_path, SCENARIO)))
    params = solve_params(applied, seed=1, time_limit=2.0, workers=1)
    comparison = run_with_base(applied, params)
    assert comparison.base is not None
    assert_checked(applied.base, comparison.base.result.bookings)
    assert_checked(applied.inp, comparison.scenario.result.bookings)
    by_metric = {r["metric"]: r for r in comparison.rows}
    assert by_metric["allocated"]["base"] == 19
    scen_alloc = by_metric["allocated"]["scenario"]
    assert isinstance(scen_alloc, int) and scen_alloc > 19
    assert by_metric["allocated"]["change"] == scen_alloc - 19
    assert by_metric["acute_place_nights"]["base"] == 7
    assert by_metric["acute_place_nights"]["scenario"] == 0


def test_cli_run_writes_plan_and_comparison(tmp_path: Path, base_dir: Path) -> None:
    path = write_scenario(tmp_path, SCENARIO, name="grow")
    out = tmp_path / "plan"
    result = run_cli(
        "scenario", "run", path, "--out", out, "--time-limit", 2, "--workers", 1, "--seed", 2
    )
    assert result.exit_code == 0, result.output
    assert "base vs scenario" in result.output and "places_total" in result.output
    inp = apply_scenario(load_scenario(path))
    assert_checked(inp, read_bookings(out))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["solver"]["seed"] == 2
    assert json.loads((out / "comparison.json").read_text())["base_status"] in (
        "OPTIMAL",
        "FEASIBLE",
    )
    # Running again into the same plan folder is allowed; a foreign folder is not.
    again = run_cli("scenario", "run", path, "--out", out, "--time-limit", 1, "--no-base")
    assert again.exit_code == 0, again.output
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    refused = run_cli("scenario", "run", path, "--out", foreign, "--time-limit", 1)
    assert refused.exit_code == 2 and "not empty" in refused.output
    assert (foreign / "mine.txt").read_text() == "keep me"
    into_base = run_cli("scenario", "run", path, "--out", base_dir, "--time-limit", 1)
    assert into_base.exit_code == 2


def test_cli_run_without_a_plan_exits_1(tmp_path: Path, base_dir: Path) -> None:
    path = write_scenario(tmp_path, "[houses.bb]\nplaces = 0\n")
    result = run_cli("scenario", "run", path, "--out", tmp_path / "o", "--time-limit", 1)
    assert result.exit_code == 1, result.output
    assert "No plan" in result.output and not (tmp_path / "o").exists()


def test_cli_show(tmp_path: Path, base_dir: Path) -> None:
    path = write_scenario(tmp_path, SCENARIO)
    result = run_cli("scenario", "show", path)
    assert result.exit_code == 0, result.output
    assert "h4: places 2 → 3" in result.output and "acute reserve 1 → 0" in result.output


def test_cli_run_when_only_the_scenario_can_be_planned(tmp_path: Path) -> None:
    """The base's barnebolig has no bed for its resident (no plan); the scenario adds one.
    The scenario's plan is written and the base is compared on its round figures."""
    from dataclasses import replace

    from a_scenario_helpers import tiny_round

    from allocator.io.write_input import write_round

    inp = tiny_round()
    houses = tuple(
        h.model_copy(update={"places": 0}) if h.house_id == "bb" else h for h in inp.houses
    )
    write_round(replace(inp, houses=houses), tmp_path / "base")
    path = write_scenario(tmp_path, "[houses.bb]\nplaces = 1\n")
    out = tmp_path / "o"
    result = run_cli("scenario", "run", path, "--out", out, "--time-limit", 2, "--workers", 1)
    assert result.exit_code == 0, result.output
    assert "the base has no checked plan (INFEASIBLE)" in result.output
    assert_checked(apply_scenario(load_scenario(path)), read_bookings(out))
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["base_status"] == "INFEASIBLE"
    rows = {r["metric"]: r for r in comparison["figures"]}
    assert rows["allocated"]["base"] is None and rows["allocated"]["scenario"] == 19
