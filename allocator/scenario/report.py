"""A sweep's report: one self-contained HTML page with plots and the table, PNGs for slides.

``allocator scenario report DIR`` reads ``DIR/results.parquet`` (or ``.csv``), as written by
`allocator.scenario.sweep`, and writes ``DIR/report.html`` (plots embedded as base64 PNG, no
external file or script) and ``DIR/plots/*.png``, each atomically. Plots show every run with a
checked plan (status OPTIMAL or FEASIBLE) against the varied parameter: the mean over seeds as
a line, the spread (min–max) as a bar, each seed as a point. Runs without a plan are listed
with their error, and every run is in the table.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from allocator.io.atomic import atomic_write_bytes, atomic_write_text
from allocator.io.errors import InputError, Problem
from allocator.scenario.sweep import MARKER, PLAN_STATUSES, read_results

__all__ = ["Plot", "build_report", "choose_x"]

_DPI = 120
SPREAD_NOTE = "Marker and bar: mean and min–max over seeds; dots: single seeds."


@dataclass(frozen=True)
class Plot:
    """One plot: its file name in ``plots/``, title, caption and PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes


def choose_x(frame: Any, x: str | None = None) -> str:
    """The column to plot against: ``x`` when given; the grid's value when the whole sweep
    varies one parameter; the scenario name otherwise.

    Raises
    ------
    InputError
        ``x`` is not a column of the table.
    """
    if x is not None:
        if x not in frame.columns:
            columns = ", ".join(str(c) for c in frame.columns[:40])
            raise InputError([Problem("--x", None, x, f"no such column (columns: {columns})")])
        return x
    if "sweep_parameter" in frame.columns and "sweep_value" in frame.columns:
        params = set(frame["sweep_parameter"].dropna())
        if len(params) == 1 and params != {"scenario"}:
            return "sweep_value"
    return "scenario"


def _x_label(frame: Any, x: str) -> str:
    if x == "sweep_value" and "sweep_parameter" in frame.columns:
        params = frame["sweep_parameter"].dropna().unique()
        if len(params) == 1:
            return str(params[0])
    return x


def _positions(frame: Any, x: str) -> tuple[list[Any], bool]:
    """The x values in sweep order, and whether they are numbers (a numeric axis)."""
    import pandas as pd

    order = frame.sort_values(["sweep_order"]) if "sweep_order" in frame.columns else frame
    values = list(dict.fromkeys(order[x].tolist()))
    numeric = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    if len(values) > 1 and not numeric.isna().any():
        return sorted(values, key=float), True
    return values, False


def _spread(
    fig: Figure,
    frame: Any,
    x: str,
    series: Sequence[tuple[str, str]],
    ylabel: str,
    scale: float = 1.0,
) -> None:
    """Mean over seeds (line), min–max (bar) and each seed (point) of each column in
    ``series`` (column, legend label) against ``x``."""
    ax = fig.add_subplot()
    values, numeric = _positions(frame, x)
    where = {v: (float(v) if numeric else i) for i, v in enumerate(values)}
    offsets = _offsets(len(series), values, numeric)
    for k, (column, label) in enumerate(series):
        if column not in frame.columns:
            continue
        sub = frame[[x, column]].dropna()
        if sub.empty:
            continue
        stats = sub.groupby(x, sort=False)[column].agg(["mean", "min", "max"])
        xs = [where[v] + offsets[k] for v in stats.index]
        mean = stats["mean"].to_numpy() * scale
        low = mean - stats["min"].to_numpy() * scale
        high = stats["max"].to_numpy() * scale - mean
        order = sorted(range(len(xs)), key=lambda i: xs[i])
        ax.errorbar(
            [xs[i] for i in order],
            [mean[i] for i in order],
            yerr=[[low[i] for i in order], [high[i] for i in order]],
            marker="o",
            capsize=4,
            linestyle="-" if numeric else "none",
            label=label,
            color=f"C{k}",
        )
        ax.scatter(
            [where[v] + offsets[k] for v in sub[x]],
            sub[column].to_numpy() * scale,
            s=14,
            alpha=0.5,
            color=f"C{k}",
        )
    if numeric and all(float(v).is_integer() for v in values):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if not numeric:
        ax.set_xticks(range(len(values)))
        ax.set_xticklabels([str(v) for v in values], rotation=30, ha="right")
    ax.set_xlabel(_x_label(frame, x))
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _offsets(n: int, values: Sequence[Any], numeric: bool) -> list[float]:
    """Side-by-side series on a categorical axis; on a numeric one a small share of the range."""
    if n <= 1:
        return [0.0] * n
    width = 0.6 / n if not numeric else 0.02 * (float(max(values)) - float(min(values)) or 1.0)
    return [(k - (n - 1) / 2) * width for k in range(n)]


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _utilisation(frame: Any, x: str) -> Figure | None:
    """Heat map: mean utilisation (%) of each house's usable nights per value of ``x``."""
    import numpy as np

    columns = [c for c in frame.columns if str(c).startswith("util_")]
    if not columns:
        return None
    values, _ = _positions(frame, x)
    means = frame.groupby(x, sort=False)[columns].mean()
    grid = np.array(
        [[means.at[v, c] * 100 if v in means.index else np.nan for v in values] for c in columns],
        dtype=float,
    )
    fig = Figure(
        figsize=(max(6.0, 0.9 * len(values) + 3), max(3.0, 0.35 * len(columns) + 1.5)),
        layout="constrained",
    )
    ax = fig.add_subplot()
    image = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=0, vmax=100)
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels([str(v) for v in values], rotation=30, ha="right")
    ax.set_yticks(range(len(columns)))
    ax.set_yticklabels([str(c).removeprefix("util_") for c in columns])
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            if not math.isnan(grid[i, j]):
                colour = "white" if grid[i, j] < 60 else "black"
                ax.text(j, i, f"{grid[i, j]:.0f}", ha="center", va="center", fontsize=7, c=colour)
    ax.set_xlabel(_x_label(frame, x))
    fig.colorbar(image, ax=ax, label="utilisation of usable nights (%)")
    return fig


def make_plots(frame: Any, x: str) -> list[Plot]:
    """The report's plots from the runs with a checked plan (``frame`` holds only those)."""
    plots: list[Plot] = []
    axis = _x_label(frame, x)
    if "fulfilment" in frame.columns:
        fig = Figure(figsize=(8, 4), layout="constrained")
        _spread(fig, frame, x, [("fulfilment", "all children")], "nights given / granted (%)", 100)
        plots.append(
            Plot(
                "fulfilment",
                "Fulfilment",
                f"Nights given as a share of nights granted, by {axis}. " + SPREAD_NOTE,
                _png(fig),
            )
        )
    if "under_80" in frame.columns:
        fig = Figure(figsize=(8, 4), layout="constrained")
        series = [("under_80", "under 80% of grant"), ("under_50", "under 50% of grant")]
        _spread(fig, frame, x, series, "children")
        plots.append(
            Plot(
                "under_80",
                "Children short of their grant",
                f"Children given less than 80% (and 50%) of their grant, by {axis}. " + SPREAD_NOTE,
                _png(fig),
            )
        )
    cats = [
        c for c in frame.columns if str(c).startswith("fulfilment_cat_") and frame[c].notna().any()
    ]
    if cats:
        fig = Figure(figsize=(8, 4), layout="constrained")
        series = [(c, f"category {str(c).removeprefix('fulfilment_cat_')}") for c in cats]
        _spread(fig, frame, x, series, "nights given / granted (%)", 100)
        plots.append(
            Plot(
                "fulfilment_by_category",
                "Fulfilment by category",
                f"Fulfilment per category of children, by {axis}. " + SPREAD_NOTE,
                _png(fig),
            )
        )
    if "cost_per_night" in frame.columns:
        fig = Figure(figsize=(8, 4), layout="constrained")
        _spread(fig, frame, x, [("cost_per_night", "cost per night")], "kr per allocated night")
        plots.append(
            Plot(
                "cost_per_night",
                "Cost per allocated night",
                f"The houses' price per night, averaged over the nights given, by {axis}. "
                + SPREAD_NOTE,
                _png(fig),
            )
        )
    heat = _utilisation(frame, x)
    if heat is not None:
        plots.append(
            Plot(
                "utilisation",
                "Utilisation per house",
                f"Mean over seeds of each house's nights used / usable nights (%), by {axis}.",
                _png(heat),
            )
        )
    return plots


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1400px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; max-width: 840px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.75em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; position: sticky; top: 0; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: 600; }
.bad { color: #a00; }
"""


def _meta(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _unique(frame: Any, column: str) -> str:
    if column not in frame.columns:
        return "–"
    return ", ".join(str(v) for v in dict.fromkeys(frame[column].dropna().tolist())) or "–"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.4g}"
    return str(value)


def _table_html(frame: Any, table_id: str) -> str:
    """The table, every cell escaped; one ``<tr>`` in ``<tbody>`` per run."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False, name=None):
        cells = "".join(
            f"<td>{html.escape(_cell(v) if v is not None else '')}</td>" for v in record
        )
        rows.append(f"<tr>{cells}</tr>")
    body = "\n".join(rows)
    return (
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>'
    )


def render_html(frame: Any, plots: Sequence[Plot], x: str, meta: dict[str, Any]) -> str:
    """The whole page as one string (no external resource)."""
    esc = html.escape
    name = meta.get("sweep") or _unique(frame, "sweep")
    ok = frame["status"].isin(PLAN_STATUSES) if "status" in frame.columns else None
    statuses = frame["status"].value_counts().to_dict() if "status" in frame.columns else {}
    status_text = ", ".join(f"{k} {v}" for k, v in statuses.items()) or "–"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Sweep {esc(str(name))}</title><style>{_CSS}</style></head><body>",
        f"<h1>Capacity sweep: {esc(str(name))}</h1>",
    ]
    if meta.get("description"):
        parts.append(f"<p>{esc(str(meta['description']))}</p>")
    facts = [
        ("sweep file", meta.get("file", "–")),
        ("runs", f"{len(frame)} ({status_text})"),
        ("scenarios", _unique(frame, "scenario")),
        ("seeds", _unique(frame, "seed")),
        ("time limit per run (s)", _unique(frame, "time_limit")),
        ("CP-SAT workers per run", _unique(frame, "workers")),
        ("plotted against", _x_label(frame, x)),
        ("project version", _unique(frame, "project_version")),
        ("OR-Tools version", _unique(frame, "ortools_version")),
        ("report made", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]
    parts.append("<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(str(v))}</dd>" for k, v in facts))
    parts.append("</dl>")
    parts.append(
        "<p>Every row of the table records what produced it (scenario file, input hash, seed,"
        " time limit, solver status and gap, project and OR-Tools versions), so each point can"
        " be reproduced with <code>allocator scenario run</code>. Plots use the runs whose plan"
        " the independent checker accepted.</p>"
    )
    if ok is not None and (~ok).any():
        bad = frame.loc[~ok, [c for c in ("scenario", "seed", "status", "error") if c in frame]]
        parts.append('<h2 class="bad">Runs without a checked plan</h2>')
        parts.append(f'<div class="scroll">{_table_html(bad, "problems")}</div>')
    parts.append("<h2>Plots</h2>")
    if not plots:
        parts.append("<p>No run has a checked plan yet: nothing to plot.</p>")
    for plot in plots:
        data = base64.b64encode(plot.png).decode("ascii")
        parts.append(
            f'<figure id="plot-{esc(plot.name)}"><img alt="{esc(plot.title)}"'
            f' src="data:image/png;base64,{data}"><figcaption><b>{esc(plot.title)}.</b>'
            f" {esc(plot.caption)} PNG: plots/{esc(plot.name)}.png</figcaption></figure>"
        )
    parts.append(f"<h2>All runs ({len(frame)})</h2>")
    parts.append(f'<div class="scroll">{_table_html(frame, "runs")}</div>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def build_report(out: Path, x: str | None = None) -> Path:
    """Write ``out/report.html`` and ``out/plots/*.png`` from the sweep's table.

    Parameters
    ----------
    out
        A sweep's folder (``allocator scenario sweep --out``).
    x
        The column to plot against (default: `choose_x`).

    Returns
    -------
    Path
        The report file.

    Raises
    ------
    InputError
        No table in ``out``, or ``x`` is not a column.
    """
    frame = read_results(out)
    if "sweep_order" in frame.columns and "seed" in frame.columns:
        frame = frame.sort_values(["sweep_order", "seed"], kind="stable").reset_index(drop=True)
    x_col = choose_x(frame, x)
    ok = frame[frame["status"].isin(PLAN_STATUSES)] if "status" in frame.columns else frame
    plots = make_plots(ok, x_col) if len(ok) else []
    for plot in plots:
        atomic_write_bytes(out / "plots" / f"{plot.name}.png", plot.png)
    page = out / "report.html"
    atomic_write_text(page, render_html(frame, plots, x_col, _meta(out)))
    return page
