"""Export one version of the plan from the store as a plan folder (issue 6).

Issue 6, "A durable plan store": "any version can be exported and compared." `export_version`
writes, atomically (all files or none, `allocator.io.atomic.atomic_output_dir`):

* ``bookings.csv`` — contract v1 (``child_id, house_id, night``, one row per bed-night) plus the
  added column ``kind`` (``planned``, ``acute``, ``offered``), so that ``allocator check INPUT
  DIR`` judges the exported plan as the store has it;
* ``summary.json`` — the version, its parent, kind, who, when and why, the round, the recorded
  input (hash, source, whether the input used for the calendar is the same), counts per kind,
  the audit lines and per child granted and allocated nights;
* ``added_children.csv`` — the children a change added to the round (an acute child given
  inline, a new applicant offered free nights), in the columns of ``children.csv``, so that
  ``allocator check INPUT DIR`` knows them (`allocator.io.added_children`);
* ``calendar.xlsx`` — the coordinators' calendar workbook
  (`allocator.report.workbook.write_calendar_workbook`), only when the round's input is given.

The output folder is replaced as a whole, so it must be new, empty or an earlier plan folder
(it holds a ``summary.json``), and never the input: the same rule as ``allocator plan --out``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from allocator.io.added_children import ADDED_CHILDREN_FILE, added_child, write_added_children
from allocator.io.atomic import atomic_output_dir, write_csv_rows, write_json
from allocator.io.outdir import PLAN, unsafe_output_dir
from allocator.store.db import (
    RoundChildInfo,
    Store,
    StoreError,
    VersionInfo,
    input_fingerprint,
)
from models.inputs import Child
from models.outputs import BOOKING_KINDS, Booking
from models.round_input import RoundInput

__all__ = [
    "BOOKINGS_COLUMNS",
    "ExportError",
    "export_version",
    "unsafe_out_dir",
    "version_info",
]

BOOKINGS_COLUMNS = ["child_id", "house_id", "night", "kind"]
"""bookings.csv of an exported version: contract v1's columns plus ``kind``."""

BOOKINGS_FILE = "bookings.csv"
SUMMARY_FILE = "summary.json"
CALENDAR_FILE = "calendar.xlsx"


class ExportError(Exception):
    """The version cannot be exported there; the message is one plain sentence, nothing was
    written."""


def version_info(store: Store, version: int | None) -> VersionInfo:
    """The version as `Store.history` lists it (the newest when `version` is ``None``).

    Raises
    ------
    StoreError
        Nothing is published, or there is no such version.
    """
    history = store.history()
    if not history:
        raise StoreError(f"nothing is published in the store at {store.url} yet")
    if version is None:
        return history[-1]
    for info in history:
        if info.version == version:
            return info
    raise StoreError(f"there is no version {version} in the store (newest {history[-1].version})")


def unsafe_out_dir(out_dir: Path, *input_sources: str | None) -> str | None:
    """Why writing an export to `out_dir` could destroy data, or ``None`` when it is safe: the
    folder is replaced as a whole (`allocator.io.outdir.unsafe_output_dir`)."""
    return unsafe_output_dir(out_dir, PLAN, [s for s in input_sources if s and Path(s).exists()])


def export_version(
    store: Store, version: int | None, out_dir: Path, inp: RoundInput | None
) -> Path:
    """Write one version of the plan to `out_dir` as a plan folder, atomically.

    Parameters
    ----------
    store
        An open store.
    version
        A version number, or ``None`` for the newest.
    out_dir
        The folder to write: new, empty or an earlier plan folder (it is replaced as a whole).
    inp
        The version's round input, for ``calendar.xlsx``; ``None`` writes only
        ``bookings.csv`` and ``summary.json``. It must be the version's round (same first and
        last night); whether its files are the ones recorded (same SHA-256) is said in
        ``summary.json`` under ``input.matches``.

    Returns
    -------
    Path
        `out_dir`.

    Raises
    ------
    StoreError
        Nothing is published, no such version, the store cannot be read.
    ExportError
        `out_dir` is not safe to replace or cannot be written, or `inp` is another round.
        Nothing is written then (an earlier folder at `out_dir` is left as it was).
    """
    out_dir = Path(out_dir)
    info = version_info(store, version)
    bookings = store.bookings(info.version)
    children = store.round_children(info.version)
    if inp is not None and (inp.config.start, inp.config.end) != (
        info.round_start,
        info.round_end,
    ):
        raise ExportError(
            f"the input is the round {inp.config.start} – {inp.config.end}, version"
            f" {info.version} is the round {info.round_start} – {info.round_end}: give that"
            " round's input, or none; nothing was written"
        )
    problem = unsafe_out_dir(out_dir, inp.source if inp is not None else None, info.input_source)
    database = _sqlite_file(store)
    if problem is None and database is not None and database.is_relative_to(out_dir.resolve()):
        problem = "it holds the store's database file; choose another folder"
    if problem is not None:
        raise ExportError(f"not exporting to {out_dir}: {problem}; nothing was written")
    summary = _summary(store, info, bookings, children, inp)
    added = _added_children(store, info, children, inp)
    try:
        with atomic_output_dir(out_dir) as tmp:
            write_csv_rows(
                tmp / BOOKINGS_FILE,
                BOOKINGS_COLUMNS,
                (
                    (b.child_id, b.house_id, b.night, b.kind)
                    for b in sorted(bookings, key=lambda b: (b.child_id, b.night))
                ),
            )
            if added:
                write_added_children(tmp / ADDED_CHILDREN_FILE, added)
            if inp is not None:
                from allocator.report.workbook import write_calendar_workbook

                write_calendar_workbook(inp, bookings, tmp / CALENDAR_FILE)
            write_json(tmp / SUMMARY_FILE, summary)
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ExportError(f"cannot write {out_dir}: {reason}; nothing was written") from None
    return out_dir


def _added_children(
    store: Store, info: VersionInfo, children: list[RoundChildInfo], inp: RoundInput | None
) -> list[Child]:
    """The children of the version that are not children of its round's input: those not in
    `inp` when it is given, else those not in the published round the version descends from."""
    if inp is not None:
        known = {c.child_id for c in inp.children}
    else:
        by_version = {v.version: v for v in store.history()}
        root = by_version[info.version]
        while root.kind != "round" and root.parent_version in by_version:
            root = by_version[root.parent_version]
        known = {c.child_id for c in store.round_children(root.version)}
    return [
        added_child(
            c.child_id,
            category=c.category,
            level=c.level,
            granted=c.granted,
            start=info.round_start,
            end=info.round_end,
            pattern=c.pattern,
        )
        for c in children
        if c.child_id not in known
    ]


def _sqlite_file(store: Store) -> Path | None:
    """The store's SQLite file, when it is one (an export must never replace it)."""
    url = make_url(store.url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database)).resolve()


def _summary(
    store: Store,
    info: VersionInfo,
    bookings: list[Booking],
    children: list[RoundChildInfo],
    inp: RoundInput | None,
) -> dict[str, Any]:
    """summary.json of an exported version."""
    by_kind = Counter(b.kind for b in bookings)
    matches: bool | None = None
    if inp is not None:
        matches = input_fingerprint(inp)[0] == info.input_hash
    return {
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "store": store.url,
        "version": info.version,
        "parent": info.parent_version,
        "kind": info.kind,
        "who": info.who,
        "why": info.why,
        "created_at": info.created_at.isoformat(timespec="seconds"),
        "round": {"start": info.round_start, "end": info.round_end},
        "input": {
            "sha256": info.input_hash,
            "source": info.input_source,
            "used": inp.source if inp is not None else None,
            "matches": matches,
        },
        "counts": {
            "bed_nights": len(bookings),
            "families_with_nights": len({b.child_id for b in bookings}),
            "round_children": len(children),
            "by_kind": {kind: by_kind.get(kind, 0) for kind in BOOKING_KINDS},
        },
        "audit": [
            {
                "at": a.at.isoformat(timespec="seconds"),
                "who": a.who,
                "action": a.action,
                "detail": a.detail,
            }
            for a in info.audit
        ],
        "children": [
            {"child_id": c.child_id, "granted": c.granted, "allocated": c.allocated}
            for c in children
        ],
    }
