"""Write a `RoundInput` as a contract-v1 input folder (CSV files and round.toml).

Files are UTF-8, comma separated, with a header row even when empty; dates are ISO
``YYYY-MM-DD``; booleans are ``true``/``false``; category lists are ``;``-joined and sorted.
The folder is replaced atomically (`allocator.io.atomic.atomic_output_dir`): everything is
written to a temporary folder next to the target, which is then swapped in.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import tomli_w

from allocator.io.atomic import atomic_output_dir
from models.categories import Category
from models.config import RoundConfig
from models.round_input import RoundInput

Cell = str | int | float | bool | dt.date | None

HOUSES_HEADER = (
    "house_id",
    "name",
    "kind",
    "owner",
    "places",
    "categories",
    "conditional_categories",
    "night_watch",
    "nights_per_place_year",
    "price_per_night",
)
CHILDREN_HEADER = (
    "child_id",
    "birth_date",
    "category",
    "level",
    "granted_nights",
    "vedtak_from",
    "vedtak_to",
    "pattern",
    "home_house",
    "under_10_exception",
    "interdisciplinary_assessment",
)
UNAVAILABLE_HEADER = ("child_id", "from", "to", "reason")
WISHES_HEADER = ("child_id", "from", "to", "kind", "weight")
INCOMPATIBLE_HEADER = ("child_a", "child_b")
CLOSURES_HEADER = ("house_id", "from", "to", "places_closed")
CALENDAR_HEADER = ("from", "to", "kind", "name")
PINS_HEADER = ("child_id", "house_id", "from", "to", "kind")

#: The files `write_round` owns; other files already in the folder are carried over.
ROUND_FILES = (
    "houses.csv",
    "children.csv",
    "unavailable.csv",
    "wishes.csv",
    "incompatible.csv",
    "closures.csv",
    "calendar.csv",
    "pins.csv",
    "round.toml",
)


def _cell(value: Cell) -> str:
    """Format one CSV cell: ``true``/``false``, ISO dates, integral floats without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _categories(cats: Iterable[Category]) -> str:
    return ";".join(sorted(cats))


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([_cell(v) for v in row] for row in rows)


def _house_rows(inp: RoundInput) -> Iterator[tuple[Cell, ...]]:
    for h in inp.houses:
        yield (
            h.house_id,
            h.name,
            h.kind.value,
            h.owner.value,
            h.places,
            _categories(h.categories),
            _categories(h.conditional_categories),
            h.night_watch,
            h.nights_per_place_year,
            h.price_per_night,
        )


def _child_rows(inp: RoundInput) -> Iterator[tuple[Cell, ...]]:
    for c in inp.children:
        yield (
            c.child_id,
            c.birth_date,
            c.category,
            c.level,
            c.granted_nights,
            c.vedtak_from,
            c.vedtak_to,
            c.pattern.value,
            c.home_house,
            c.under_10_exception,
            c.interdisciplinary_assessment,
        )


def round_toml(config: RoundConfig) -> dict[str, object]:
    """The round.toml document of ``config`` (all weights written, to document them)."""
    return {
        "start": config.start,
        "end": config.end,
        "time_limit": config.time_limit,
        "seed": config.seed,
        "workers": config.workers,
        "method": config.method,
        "acute_reserve": dict(config.acute_reserve),
        "weights": config.weights.model_dump(),
    }


def write_files(inp: RoundInput, folder: Path) -> None:
    """Write the contract-v1 files of ``inp`` into an existing ``folder`` (not atomic).

    Parameters
    ----------
    inp
        The round to write.
    folder
        An existing directory; the files in `ROUND_FILES` are overwritten.
    """
    _write_csv(folder / "houses.csv", HOUSES_HEADER, _house_rows(inp))
    _write_csv(folder / "children.csv", CHILDREN_HEADER, _child_rows(inp))
    _write_csv(
        folder / "unavailable.csv",
        UNAVAILABLE_HEADER,
        ((u.child_id, u.from_, u.to, u.reason.value) for u in inp.unavailable),
    )
    _write_csv(
        folder / "wishes.csv",
        WISHES_HEADER,
        ((w.child_id, w.from_, w.to, w.kind.value, w.weight) for w in inp.wishes),
    )
    _write_csv(
        folder / "incompatible.csv",
        INCOMPATIBLE_HEADER,
        ((p.child_a, p.child_b) for p in inp.incompatible),
    )
    _write_csv(
        folder / "closures.csv",
        CLOSURES_HEADER,
        ((c.house_id, c.from_, c.to, c.places_closed) for c in inp.closures),
    )
    _write_csv(
        folder / "calendar.csv",
        CALENDAR_HEADER,
        ((d.from_, d.to, d.kind, d.name) for d in inp.calendar),
    )
    if inp.pins:
        _write_csv(
            folder / "pins.csv",
            PINS_HEADER,
            ((p.child_id, p.house_id or "", p.from_, p.to, p.kind.value) for p in inp.pins),
        )
    with (folder / "round.toml").open("wb") as handle:
        tomli_w.dump(round_toml(inp.config), handle)


def _carry_over(old: Path, new: Path) -> None:
    """Copy files of ``old`` that `write_round` does not own (README.md, notes) into ``new``."""
    if not old.is_dir():
        return
    for entry in old.iterdir():
        if entry.name in ROUND_FILES or entry.name.startswith("."):
            continue
        if entry.is_dir():
            shutil.copytree(entry, new / entry.name)
        else:
            shutil.copy2(entry, new / entry.name)


def write_round(inp: RoundInput, folder: Path) -> None:
    """Write ``inp`` as a contract-v1 round folder, atomically.

    Writes houses.csv, children.csv, unavailable.csv, wishes.csv, incompatible.csv,
    closures.csv, calendar.csv and round.toml. Other files already in ``folder`` (a README,
    notes) are kept. The new folder is built next to ``folder`` and swapped in whole.

    Parameters
    ----------
    inp
        The round to write.
    folder
        Target directory; created if missing, replaced if present.
    """
    folder = Path(folder)
    with atomic_output_dir(folder) as tmp:
        _carry_over(folder, tmp)
        write_files(inp, tmp)
