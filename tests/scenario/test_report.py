"""The sweep report: one self-contained page holding every run, PNG copies of its plots."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from a_scenario_helpers import run_cli
from b_helpers import FakeRunner, list_sweep, write_scenarios, write_sweep

from allocator.scenario.report import build_report, choose_x
from allocator.scenario.sweep import expand_sweep, load_sweep, read_results, run_sweep

PLOTS = ("fulfilment", "under_80", "fulfilment_by_category", "cost_per_night", "utilisation")


class _Page(HTMLParser):
    """Rows of each table (by id), image sources, and any external reference."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[str] = []
        self.external: list[str] = []
        self._table: str | None = None
        self._in_body = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(a.get("src") or "")
        for name in ("src", "href"):
            value = a.get(name) or ""
            if value and not value.startswith(("data:", "#")):
                self.external.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(page: Path) -> _Page:
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _sweep(tmp_path: Path, fail: frozenset[str] = frozenset()) -> Path:
    path = list_sweep(tmp_path, seeds="[1, 2, 3]")
    out = tmp_path / "out"
    runner = FakeRunner(tmp_path / "calls", fail=fail)
    run_sweep(expand_sweep(load_sweep(path), out), out, mode="serial", runner=runner)
    return out


def test_report_holds_every_run_and_its_plots(tmp_path: Path) -> None:
    out = _sweep(tmp_path, fail=frozenset({"bigger-h4"}))
    page = build_report(out)
    parsed = _parse(page)
    frame = read_results(out)
    runs = parsed.tables["runs"]
    assert len(runs) == len(frame) == 9
    keys = {row[list(frame.columns).index("run_key")] for row in runs}
    assert keys == set(frame["run_key"])
    assert len(parsed.tables["problems"]) == 3  # the failed runs, listed with their error
    assert all(
        "ValueError: no plan for bigger-h4" in " ".join(r) for r in parsed.tables["problems"]
    )
    assert parsed.external == []  # self-contained
    assert len(parsed.images) == len(PLOTS)
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    for name in PLOTS:
        png = (out / "plots" / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG"), name
    assert choose_x(frame) == "scenario"


def test_report_of_a_grid_plots_against_the_parameter(tmp_path: Path) -> None:
    write_scenarios(tmp_path, ("keep",))
    path = write_sweep(
        tmp_path,
        'seeds = [1, 2]\n[grid]\nscenario = "keep.toml"\n'
        'parameter = "acute_reserve.h4"\nvalues = [0, 1]\n',
    )
    out = tmp_path / "out"
    runner = FakeRunner(tmp_path / "calls")
    run_sweep(expand_sweep(load_sweep(path), out), out, mode="serial", runner=runner)
    frame = read_results(out)
    assert choose_x(frame) == "sweep_value"
    assert sorted(frame["sweep_value"]) == [0, 0, 1, 1]
    text = build_report(out).read_text(encoding="utf-8")
    assert "acute_reserve.h4" in text
    assert len(_parse(out / "report.html").tables["runs"]) == 4


def test_cli_report_and_its_errors(tmp_path: Path) -> None:
    out = _sweep(tmp_path)
    result = run_cli("scenario", "report", out)
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists() and "report.html" in result.output
    result = run_cli("scenario", "report", out, "--x", "colour")
    assert result.exit_code == 2 and "no such column" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("scenario", "report", empty)
    assert result.exit_code == 2 and "no results.csv" in result.output
    result = run_cli("scenario", "report", tmp_path / "nowhere")
    assert result.exit_code == 2 and "not a folder" in result.output


def test_report_of_a_sweep_without_a_plan_still_lists_its_runs(tmp_path: Path) -> None:
    out = _sweep(tmp_path, fail=frozenset({"keep", "no-reserve", "bigger-h4"}))
    parsed = _parse(build_report(out))
    assert len(parsed.tables["runs"]) == 9 and parsed.images == []
    assert "nothing to plot" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("x", ["seed", "param.acute_reserve_total"])
def test_report_against_any_column(tmp_path: Path, x: str) -> None:
    out = _sweep(tmp_path)
    build_report(out, x=x)
    assert (out / "plots" / "fulfilment.png").exists()
