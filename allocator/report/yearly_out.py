"""The yearly figures on screen (rich tables), as ``yearly.csv`` and as ``occupancy.png``.

"The municipality must be able to report, per year: bed-nights used, how many users had
respite, and how many had a visiting family" (DOMAIN.md). The figures are counted by
`allocator.report.yearly.yearly_figures`; this module only shows and writes them.

``yearly.csv`` holds tidy rows ``section, key, value``: section ``year`` (the year, the nights
covered, the versions counted), ``total`` (one row per figure), then ``house_*`` (per house),
``category_bed_nights`` and ``level_bed_nights``. Utilisation is a share (0.8123 = 81.23 %),
cost is in kroner. ``occupancy.png`` is a heatmap of the weekly share of places used per house.
Both are rendered in memory first and written atomically (`allocator.io.atomic`): a failure
leaves no half-written file.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, JustifyMethod
from rich.table import Table

from allocator.io.atomic import atomic_write_bytes, atomic_write_text
from allocator.report.yearly import YearlyFigures

if TYPE_CHECKING:
    from matplotlib.colors import Colormap
    from matplotlib.ticker import PercentFormatter

__all__ = [
    "CSV_FILE",
    "CSV_HEADER",
    "PNG_FILE",
    "occupancy_png",
    "print_yearly",
    "write_yearly",
    "yearly_csv_rows",
    "yearly_csv_text",
    "yearly_tables",
]

CSV_FILE = "yearly.csv"
PNG_FILE = "occupancy.png"
CSV_HEADER: tuple[str, str, str] = ("section", "key", "value")

CsvRow = tuple[str, str, str]


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


def _number(value: float, decimals: int = 2) -> str:
    """``12`` for a whole number, else rounded to `decimals` (a dot as decimal mark)."""
    rounded = round(value, decimals)
    if float(rounded).is_integer():
        return str(int(rounded))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _kroner(value: float) -> str:
    """``1 234 567 kr`` (Norwegian thousands separator)."""
    return f"{value:,.0f}".replace(",", " ") + " kr"


def _whole(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


def yearly_csv_rows(figures: YearlyFigures) -> list[CsvRow]:
    """The rows of ``yearly.csv`` (without the header), as text.

    Parameters
    ----------
    figures
        The year's figures.

    Returns
    -------
    list of (section, key, value)
    """
    f = figures
    rows: list[CsvRow] = [
        ("year", "year", str(f.year)),
        ("year", "covered_from", f.covered_from.isoformat() if f.covered_from else ""),
        ("year", "covered_to", f.covered_to.isoformat() if f.covered_to else ""),
        ("year", "covered_days", str(f.covered_days)),
        ("year", "days_in_year", str(f.days_in_year)),
        ("year", "versions", ";".join(str(v) for v in f.versions)),
        ("total", "bed_nights", str(f.bed_nights)),
        ("total", "planned_nights", str(f.planned_nights)),
        ("total", "acute_nights", str(f.acute_nights)),
        ("total", "acute_stays", str(f.acute_stays)),
        ("total", "offered_nights", str(f.offered_nights)),
    ]
    rows += [
        ("total", f"{kind}_nights", str(n))
        for kind, n in f.nights_by_kind.items()
        if kind not in ("planned", "acute", "offered")
    ]
    rows += [
        ("total", "users_with_respite", str(f.users_with_respite)),
        ("total", "users_with_acute", str(f.users_with_acute)),
        ("total", "users_with_visiting_family", str(f.users_with_visiting_family)),
        ("total", "potential_nights", _number(f.potential_nights, 1)),
        ("total", "utilisation", _share(f.utilisation)),
        ("total", "cost", _number(f.cost)),
    ]
    for h in f.houses:
        rows += [
            ("house_places", h.house_id, str(h.places)),
            ("house_covered_nights", h.house_id, str(h.covered_nights)),
            ("house_bed_nights", h.house_id, str(h.bed_nights)),
            ("house_potential_nights", h.house_id, _number(h.potential_nights, 1)),
            ("house_utilisation", h.house_id, _share(h.utilisation)),
            ("house_cost", h.house_id, _number(h.cost)),
        ]
    rows += [("category_bed_nights", k, str(n)) for k, n in f.by_category.items()]
    rows += [("level_bed_nights", k, str(n)) for k, n in f.by_level.items()]
    return rows


def yearly_csv_text(figures: YearlyFigures) -> str:
    """``yearly.csv`` as text: UTF-8, comma separated, ``\\n`` line ends, header first."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(yearly_csv_rows(figures))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Plot
# ---------------------------------------------------------------------------------------------


def occupancy_png(figures: YearlyFigures) -> bytes:
    """A heatmap of the weekly share of places used per house, as PNG bytes.

    One row per house, one column per ISO week of the year; grey where the house had no places
    in the nights published rounds cover. Drawn with matplotlib's Agg canvas (no display).

    Parameters
    ----------
    figures
        The year's figures.

    Returns
    -------
    bytes
        A PNG image.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    houses = figures.houses
    height = 1.6 + 0.35 * max(len(houses), 3)
    fig = Figure(figsize=(12, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    title = f"Occupancy per house, {figures.year}: weekly share of places used"
    if not houses:
        ax.set_axis_off()
        ax.text(
            0.5, 0.5, f"No published nights in {figures.year}", ha="center", va="center", size=14
        )
        ax.set_title(title)
    else:
        data = np.array(
            [[np.nan if v is None else v for v in h.weekly] for h in houses], dtype=float
        )
        top = max(1.0, float(np.nanmax(data)) if np.isfinite(data).any() else 1.0)
        cmap = _colormap()
        image = ax.imshow(
            np.ma.masked_invalid(data),
            aspect="auto",
            interpolation="nearest",
            cmap=cmap,
            vmin=0.0,
            vmax=top,
        )
        ax.set_yticks(range(len(houses)))
        ax.set_yticklabels([f"{h.name} ({h.house_id})" for h in houses], fontsize=8)
        ticks = [i for i, w in enumerate(figures.weeks) if w.iso_week % 4 == 1 or i == 0]
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(figures.weeks[i].iso_week) for i in ticks], fontsize=8)
        ax.set_xlabel("ISO week (uke)")
        ax.set_title(title)
        bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
        bar.set_label("share of places used")
        bar.ax.yaxis.set_major_formatter(_percent_formatter())
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _colormap() -> Colormap:
    """Light yellow (free) to dark red (full); grey where a house had no places."""
    import matplotlib as mpl

    return mpl.colormaps["YlOrRd"].with_extremes(bad="#d9d9d9")


def _percent_formatter() -> PercentFormatter:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


# ---------------------------------------------------------------------------------------------
# Screen
# ---------------------------------------------------------------------------------------------


def yearly_tables(figures: YearlyFigures) -> list[Table]:
    """Rich tables for a coordinator: the year's figures, per house, per category and level.

    Parameters
    ----------
    figures
        The year's figures.

    Returns
    -------
    list of Table
    """
    f = figures
    covered = (
        f"{f.covered_from} – {f.covered_to} ({f.covered_days} of {f.days_in_year} nights)"
        if f.covered_from
        else "no published round"
    )
    summary = Table(
        title=f"Respite {f.year}: yearly figures", title_justify="left", box=box.SIMPLE_HEAD
    )
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    lines: Sequence[tuple[str, str]] = (
        ("Nights covered by published rounds", covered),
        (
            "Store versions read (newest of each round)",
            ", ".join(str(v) for v in f.versions) or "–",
        ),
        ("Bed-nights used", _whole(f.bed_nights)),
        ("  planned", _whole(f.planned_nights)),
        ("  acute", _whole(f.acute_nights)),
        ("  offered (free nights handed out)", _whole(f.offered_nights)),
        *(
            (f"  {kind}", _whole(n))
            for kind, n in f.nights_by_kind.items()
            if kind not in ("planned", "acute", "offered")
        ),
        ("Acute stays", _whole(f.acute_stays)),
        ("Users with respite", _whole(f.users_with_respite)),
        ("  of them with acute respite", _whole(f.users_with_acute)),
        ("Users with a visiting family (besøkshjem)", _whole(f.users_with_visiting_family)),
        ("Potential bed-nights", _whole(f.potential_nights)),
        ("Utilisation", _percent(f.utilisation)),
        ("Cost", _kroner(f.cost)),
    )
    for name, value in lines:
        summary.add_row(name, value)

    houses = Table(title="Per house", title_justify="left", box=box.SIMPLE_HEAD)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("house", "left"),
        ("name", "left"),
        ("places", "right"),
        ("bed-nights", "right"),
        ("potential", "right"),
        ("utilisation", "right"),
        ("cost", "right"),
    )
    for name, justify in columns:
        houses.add_column(name, justify=justify)
    for h in f.houses:
        houses.add_row(
            h.house_id,
            h.name,
            str(h.places),
            _whole(h.bed_nights),
            _whole(h.potential_nights),
            _percent(h.utilisation),
            _kroner(h.cost),
        )
    if not f.houses:
        houses.caption = "No houses in the published rounds."

    groups = Table(
        title="Bed-nights per category and level", title_justify="left", box=box.SIMPLE_HEAD
    )
    groups.add_column("category")
    groups.add_column("bed-nights", justify="right")
    groups.add_column("level")
    groups.add_column("bed-nights", justify="right")
    cats = list(f.by_category.items())
    levels = list(f.by_level.items())
    for i in range(max(len(cats), len(levels))):
        cat = cats[i] if i < len(cats) else ("", None)
        lev = levels[i] if i < len(levels) else ("", None)
        groups.add_row(
            cat[0],
            "" if cat[1] is None else _whole(cat[1]),
            lev[0],
            "" if lev[1] is None else _whole(lev[1]),
        )
    return [summary, houses, groups]


def print_yearly(figures: YearlyFigures, console: Console) -> None:
    """Print the year's tables on `console`."""
    for table in yearly_tables(figures):
        console.print(table)


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def write_yearly(figures: YearlyFigures, out_dir: Path) -> list[Path]:
    """Write ``yearly.csv`` and ``occupancy.png`` into `out_dir`, each atomically.

    Both are rendered in memory before either is written, so a failure while drawing writes
    nothing; other files in `out_dir` are left alone.

    Parameters
    ----------
    figures
        The year's figures.
    out_dir
        The folder; created if needed.

    Returns
    -------
    list of Path
        The files written.
    """
    out_dir = Path(out_dir)
    text = yearly_csv_text(figures)
    png = occupancy_png(figures)
    csv_path, png_path = out_dir / CSV_FILE, out_dir / PNG_FILE
    atomic_write_text(csv_path, text)
    atomic_write_bytes(png_path, png)
    return [csv_path, png_path]
