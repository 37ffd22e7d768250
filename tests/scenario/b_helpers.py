"""Helpers of the sweep and report tests: a tiny base round, sweep files, stand-in runners.

The base is made with the shared factories (pseudonyms B0001, ...; no names or IDs): two
houses, three children, one week. The stand-in runners are picklable (module-level classes),
so they run in a process pool or on a Dask worker too; each call leaves a file in ``calls``
so that tests can count calls across processes.
"""

from __future__ import annotations

import hashlib
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factories import child, house, round_input

from allocator.io.write_input import write_round
from models.round_input import RoundInput

SOLUTION_COLUMNS = (
    "scenario",
    "seed",
    "status",
    "violations",
    "objective",
    "granted",
    "allocated",
    "fulfilment",
    "under_80",
    "under_50",
    "cost",
    "cost_per_night",
    "input_hash",
    "run_key",
    "sweep_value",
)
"""Columns a plan decides (not wall time, host or finish time)."""


def tiny_base() -> RoundInput:
    """h4 (category 4, 2 places, 1 acute) and h23 (categories 2, 3; 1 place), 7 nights.

    Grants: B0001 (cat 4) 5, B0002 (cat 4) 4, B0003 (cat 3) 4. With the reserve h4 gives one
    place a night, so the category-4 children share 7 nights for 9 granted.
    """
    return round_input(
        [
            house("h4", places=2, categories="4", price_per_night=7000),
            house("h23", places=1, categories="2;3", price_per_night=5000),
        ],
        [
            child("B0001", 5, category="4", level=2, home_house="h4"),
            child("B0002", 4, category="4", level=1),
            child("B0003", 4, category="3", level=2, home_house="h23"),
        ],
        acute_reserve={"h4": 1},
    )


def make_base(folder: Path) -> Path:
    """Write the tiny round to ``folder/base`` and return it."""
    base = folder / "base"
    write_round(tiny_base(), base)
    return base


SCENARIOS = {
    "keep": "[acute_reserve]\nh4 = 1\n",
    "no-reserve": "[acute_reserve]\n",
    "bigger-h4": "[houses.h4]\nadd_places = 1\n",
}


def write_scenarios(folder: Path, names: tuple[str, ...] = tuple(SCENARIOS)) -> list[Path]:
    """Scenario files against ``folder/base`` (made if missing)."""
    if not (folder / "base").exists():
        make_base(folder)
    paths = []
    for name in names:
        path = folder / f"{name}.toml"
        path.write_text(f'base = "base"\n{SCENARIOS[name]}', encoding="utf-8")
        paths.append(path)
    return paths


def write_sweep(folder: Path, body: str, name: str = "sweep") -> Path:
    """A sweep file ``folder/<name>.toml``."""
    path = folder / f"{name}.toml"
    path.write_text(body, encoding="utf-8")
    return path


def list_sweep(folder: Path, seeds: str = "[1, 2]", extra: str = "") -> Path:
    """A sweep over every tiny scenario × ``seeds``, 5 s a run."""
    files = write_scenarios(folder)
    listed = ", ".join(f'"{p.name}"' for p in files)
    return write_sweep(folder, f"seeds = {seeds}\ntime_limit = 5\nscenarios = [{listed}]\n{extra}")


def calls(folder: Path) -> list[str]:
    """The calls recorded by the stand-in runners in ``folder`` ("<scenario>-<seed>")."""
    if not folder.exists():
        return []
    return sorted(p.name.rsplit("-", 1)[0] for p in folder.iterdir())


@dataclass(frozen=True)
class FakeRunner:
    """A stand-in for ``run_scenario_row``: a row decided by (scenario, seed), with plan
    figures for two houses and two categories; no solver.

    ``fail`` names scenarios that raise, ``sleep`` seconds each call takes, ``stop_after``
    makes the n-th call and later raise KeyboardInterrupt (a sweep killed mid-way).
    """

    calls: Path
    fail: frozenset[str] = frozenset()
    sleep: float = 0.0
    stop_after: int | None = None

    def __call__(
        self, scenario: Path, seed: int, time_limit: float, workers: int
    ) -> dict[str, Any]:
        if self.stop_after is not None and len(calls(self.calls)) >= self.stop_after:
            raise KeyboardInterrupt
        self.calls.mkdir(parents=True, exist_ok=True)
        (self.calls / f"{scenario.stem}.s{seed}-{uuid.uuid4().hex[:8]}").touch()
        if self.sleep:
            time.sleep(self.sleep)
        if scenario.stem in self.fail:
            raise ValueError(f"no plan for {scenario.stem}")
        digest = int(hashlib.sha256(f"{scenario.stem}/{seed}".encode()).hexdigest()[:6], 16)
        share = 0.7 + (digest % 300) / 1000
        granted = 100
        allocated = round(share * granted)
        return {
            "scenario": scenario.stem,
            "scenario_file": str(scenario),
            "param.acute_reserve_total": 1,
            "seed": seed,
            "time_limit": time_limit,
            "workers": workers,
            "status": "OPTIMAL",
            "violations": 0,
            "objective": float(allocated * 100),
            "gap": 0.0,
            "wall_time": 0.01,
            "granted": granted,
            "allocated": allocated,
            "fulfilment": allocated / granted,
            "fulfilment_cat_4": share - 0.05,
            "fulfilment_cat_3": min(1.0, share + 0.05),
            "under_80": digest % 4,
            "under_50": digest % 2,
            "util_h4": share,
            "util_h23": share / 2,
            "cost": allocated * 6000.0,
            "cost_per_night": 6000.0,
            "input_hash": hashlib.sha256(scenario.read_bytes()).hexdigest(),
            "project_version": "test",
            "ortools_version": "test",
        }
