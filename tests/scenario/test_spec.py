"""Scenario files load, reject bad keys and unknown houses (file, line and key named, exit 2 in
the CLI, no traceback), and every shipped scenario applies to the Bergen round."""

from __future__ import annotations

from pathlib import Path

import pytest
from a_scenario_helpers import BERGEN, SCENARIOS, run_cli, write_scenario

from allocator.io.errors import InputError
from allocator.io.reader import read_round
from allocator.scenario.apply import apply
from allocator.scenario.compare import input_figures
from allocator.scenario.spec import load_scenario


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        apply(load_scenario(path))
    return [str(p) for p in info.value.problems]


def test_minimal_scenario_loads_with_defaults(tmp_path: Path, base_dir: Path) -> None:
    path = write_scenario(tmp_path, "", name="plain")
    sc = load_scenario(path)
    assert sc.name == "plain"  # the file's stem
    assert sc.base_path == base_dir
    assert sc.houses == {} and sc.acute_reserve is None and sc.demand.scale is None


def test_every_section_parses(tmp_path: Path, base_dir: Path) -> None:
    path = write_scenario(
        tmp_path,
        """
name = "all-of-it"
description = "every kind of change"
[round]
start = 2027-01-05
time_limit = 3
[weights]
house_used = 40
[acute_reserve]
h4 = 0
[houses.h4]
add_places = 1
[[new_houses]]
house_id = "n5"
places = 2
categories = [5]
[[closures]]
house_id = "h23"
from = 2027-01-06
to = 2027-01-07
places_closed = 1
[demand]
scale = 1.5
[[demand.add_children]]
count = 2
category = "5"
level = 1
[demand.generate]
seed = 3
scale = 0.2
""",
    )
    sc = load_scenario(path)
    assert sc.name == "all-of-it"
    assert sc.new_houses[0].categories == "5"
    assert sc.closures[0].places_closed == 1
    assert sc.demand.add_children[0].count == 2
    assert sc.demand.generate is not None and sc.demand.generate.seed == 3
    assert sc.weights == {"house_used": 40}


@pytest.mark.parametrize(
    ("text", "line", "key", "says"),
    [
        ("colour = 1\n", 2, "colour", "unknown key 'colour'"),
        ("path = 'x'\n", 2, "path", "unknown key 'path'"),
        ("[houses.h4]\nadd_place = 1\n", 3, "houses.h4.add_place", "allowed: places, add_places"),
        ("[weights]\nnight = 3\n", 3, "weights.night", "unknown key 'night'"),
        ("[demand]\nscale = -1\n", 3, "demand.scale", "greater than 0"),
        ("[[closures]]\nhouse_id = 'h4'\nfrom = 2027-01-05\n", 2, "closures.0.to", "missing"),
        ("[houses.h4]\nplaces = 2\nadd_places = 1\n", 2, "houses.h4", "not both"),
        ("[round]\nmethod = 'fast'\n", 3, "round.method", "auto"),
    ],
)
def test_bad_keys_name_file_line_and_key(
    tmp_path: Path, base_dir: Path, text: str, line: int, key: str, says: str
) -> None:
    path = write_scenario(tmp_path, text)
    found = problems_of(path)
    assert any(p.startswith(f"{path}, row {line}, column {key}:") and says in p for p in found), (
        found
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[houses.nope]\nplaces = 2\n", "houses.nope"),
        ("[acute_reserve]\nnope = 1\n", "acute_reserve.nope"),
        ("[[closures]]\nhouse_id = 'nope'\nfrom = 2027-01-05\nto = 2027-01-06\n", "closures.0"),
        (
            "[[demand.add_children]]\ncount = 1\ncategory = '4'\nlevel = 1\nhome_house = 'nope'\n",
            "demand.add_children.0.home_house",
        ),
    ],
)
def test_unknown_houses_are_named(tmp_path: Path, base_dir: Path, text: str, key: str) -> None:
    path = write_scenario(tmp_path, text)
    found = problems_of(path)
    assert len(found) == 1, found
    assert str(path) in found[0] and f"column {key}" in found[0]
    assert "unknown house 'nope'" in found[0] and "h4" in found[0]  # lists the known ones


def test_not_toml_missing_file_and_missing_base(tmp_path: Path, base_dir: Path) -> None:
    broken = write_scenario(tmp_path, "[houses\n", name="broken")
    assert "not valid TOML" in problems_of(broken)[0]
    assert "not found" in problems_of(tmp_path / "absent.toml")[0]
    nobase = write_scenario(tmp_path, 'base = "elsewhere"\n', name="nobase")
    found = problems_of(nobase)
    assert "column base" in found[0] and "not found" in found[0]


@pytest.mark.parametrize("command", ["run", "show"])
def test_cli_reports_bad_scenario_with_exit_2(tmp_path: Path, base_dir: Path, command: str) -> None:
    path = write_scenario(tmp_path, "[houses.nope]\nplaces = 2\ncolour = 'red'\n")
    result = run_cli("scenario", command, path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "column houses.nope.colour" in result.output
    assert "row 4" in result.output  # line 1 is the base written by write_scenario


def test_cli_run_rejects_bad_solver_options(tmp_path: Path, base_dir: Path) -> None:
    path = write_scenario(tmp_path, "")
    for option, value in (("--time-limit", "0"), ("--workers", "0")):
        result = run_cli("scenario", "run", path, option, value, "--out", tmp_path / "o")
        assert result.exit_code == 2 and option in result.output, result.output
    assert not (tmp_path / "o").exists()


def test_cli_capacity_rejects_bad_options(base_dir: Path) -> None:
    result = run_cli("scenario", "capacity", base_dir, "--target", "1.5")
    assert result.exit_code == 2 and "--target" in result.output
    result = run_cli("scenario", "capacity", base_dir, "--group", "9")
    assert result.exit_code == 2 and "unknown group '9'" in result.output


# Sweep files (scenarios/sweep.toml, scenarios/sweeps/) list scenarios; they are not scenarios.
SHIPPED = sorted(p for p in SCENARIOS.glob("*.toml") if not p.stem.startswith("sweep"))


def test_the_seed_scenarios_are_shipped() -> None:
    names = {p.stem for p in SHIPPED}
    expected = {
        "barnebolig-2",
        "barnebolig-3",
        "acute-0",
        "acute-2",
        "acute-4",
        "acute-6",
        "demand-10",
        "demand-25",
        "holbekken-closed-q2",
        "new-cat4-house",
    }
    assert expected <= names


@pytest.fixture(scope="module")
def bergen():  # type: ignore[no-untyped-def]
    return read_round(BERGEN)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_applies_to_bergen(path: Path, bergen) -> None:  # type: ignore[no-untyped-def]
    sc = load_scenario(path)
    assert sc.base_path.resolve() == BERGEN.resolve()
    assert sc.description, "a shipped scenario says what it is"
    applied = apply(sc, bergen)
    base, new = input_figures(bergen), input_figures(applied.inp)
    name = path.stem
    if name.startswith("acute-"):
        assert new["acute_reserve_total"] == int(name.split("-")[1])
        assert new["granted"] == base["granted"]
    if name == "barnebolig-2":
        assert new["places_total"] == base["places_total"] - 1
        residents = [c for c in applied.inp.children if c.level == 6]
        beds = sum(h.places for h in applied.inp.houses if h.kind.value == "barnebolig")
        assert len(residents) <= beds
    if name.startswith("demand-"):
        factor = 1 + int(name.split("-")[1]) / 100
        assert (
            base["granted"]
            < new["granted"]
            <= round(factor * base["granted"]) + len(bergen.children)
        )
    if name == "holbekken-closed-q2":
        assert new["acute_place_nights"] < base["acute_place_nights"]
        assert len(applied.inp.closures) == len(bergen.closures) + 1
    if name == "new-cat4-house":
        assert new["places_total"] == base["places_total"] + 6
        added = applied.inp.house("ny-kategori4")
        assert added.categories == frozenset({"4"}) and added.night_watch
