"""Atomic writers: a reader never sees a half-written file or output folder.

Files are written to a temporary file in the same directory and moved into place with
`os.replace`, which is atomic on POSIX and Windows when source and target share a file system.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import enum
import io
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

_NEW_FILE_MODE = 0o644
_NEW_DIR_MODE = 0o755


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically.

    Parameters
    ----------
    path
        Target file; its directory is created if needed. An existing file is replaced.
    data
        The complete new contents.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else _NEW_FILE_MODE
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write `text` to `path` atomically, without newline translation.

    Parameters
    ----------
    path
        Target file.
    text
        The complete new contents.
    encoding
        Text encoding, UTF-8 by default.
    """
    atomic_write_bytes(path, text.encode(encoding))


@contextlib.contextmanager
def atomic_output_dir(out: Path) -> Iterator[Path]:
    """Build an output folder in a temporary directory and swap it in on success.

    Parameters
    ----------
    out
        The folder to create or replace.

    Yields
    ------
    Path
        A fresh, empty directory next to `out`. Write everything there.

    Notes
    -----
    On normal exit the old `out` (if any) is moved aside, the temporary directory is renamed to
    `out` and the old one is removed. If the body raises, the temporary directory is deleted and
    any old `out` is left untouched.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        os.chmod(tmp, _NEW_DIR_MODE)
        yield tmp
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(new: Path, out: Path) -> None:
    """Replace `out` by `new`; on failure put the old `out` back."""
    aside: Path | None = None
    if out.exists() or out.is_symlink():
        aside = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:12]}"
        os.replace(out, aside)
    try:
        os.replace(new, out)
    except BaseException:
        if aside is not None:
            os.replace(aside, out)
        raise
    if aside is not None:
        _remove(aside)


def _remove(path: Path) -> None:
    """Remove a file, symlink or directory tree."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def write_csv_rows(path: Path, header: list[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV file (UTF-8, comma, ``\\n`` line ends) atomically.

    Parameters
    ----------
    path
        Target file.
    header
        Column names, written as the first line.
    rows
        One sequence of cells per row. Dates become ISO ``YYYY-MM-DD``, booleans ``true``/``false``,
        ``None`` an empty cell, enums their value.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    atomic_write_text(path, buffer.getvalue())


def _csv_cell(value: object) -> str:
    """Format one cell the way the data contract spells values."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def write_json(path: Path, obj: object) -> None:
    """Write `obj` as JSON (UTF-8, indent 2, non-ASCII kept) atomically.

    Parameters
    ----------
    path
        Target file.
    obj
        JSON-able data; dates and datetimes become ISO strings, enums their value, sets sorted
        lists, paths strings, dataclasses and pydantic models dictionaries.
    """
    text = json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default)
    atomic_write_text(path, text + "\n")


def _json_default(value: Any) -> Any:
    """Convert what `json` cannot encode by itself."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON: {value!r}")
