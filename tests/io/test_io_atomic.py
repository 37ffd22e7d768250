"""Atomic writers: no half-written files, no temp files left, old output kept on failure."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from allocator.io.atomic import (
    atomic_output_dir,
    atomic_write_bytes,
    atomic_write_text,
    write_csv_rows,
    write_json,
)
from models.inputs import Pattern


def test_atomic_write_text_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "note.txt"
    atomic_write_text(target, "første\n")
    atomic_write_text(target, "andre\n")
    assert target.read_text(encoding="utf-8") == "andre\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["note.txt"]


def test_atomic_write_bytes_failure_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    atomic_write_bytes(target, b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_output_dir_replaces_old_on_success(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.csv").write_text("old")
    with atomic_output_dir(out) as work:
        assert work.parent == tmp_path
        assert work != out
        (work / "bookings.csv").write_text("child_id,house_id,night\n")
    assert sorted(p.name for p in out.iterdir()) == ["bookings.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_output_dir_created_when_absent(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    with atomic_output_dir(out) as work:
        (work / "x.txt").write_text("x")
    assert (out / "x.txt").read_text() == "x"


def test_output_dir_exception_leaves_old_intact(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "bookings.csv").write_text("old plan")
    with pytest.raises(RuntimeError, match="solver crashed"), atomic_output_dir(out) as work:
        (work / "bookings.csv").write_text("half a plan")
        raise RuntimeError("solver crashed")
    assert (out / "bookings.csv").read_text() == "old plan"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_output_dir_exception_without_old_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyError), atomic_output_dir(tmp_path / "out"):
        raise KeyError("x")
    assert list(tmp_path.iterdir()) == []


def test_write_csv_rows(tmp_path: Path) -> None:
    path = tmp_path / "bookings.csv"
    rows = [
        ("B0001", "H01", dt.date(2027, 1, 8), True, None, Pattern.WEEKEND),
        ("B0002", "Åsane, avd 2", dt.date(2027, 1, 9), False, 1.5, Pattern.ANY),
    ]
    write_csv_rows(path, ["child_id", "house_id", "night", "ok", "x", "pattern"], rows)
    assert path.read_bytes().decode("utf-8") == (
        "child_id,house_id,night,ok,x,pattern\n"
        "B0001,H01,2027-01-08,true,,weekend\n"
        'B0002,"Åsane, avd 2",2027-01-09,false,1.5,any\n'
    )


def test_write_json(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_json(path, {"status": "OPTIMAL", "start": dt.date(2027, 1, 1), "hus": {"Åsane"}})
    text = path.read_text(encoding="utf-8")
    assert '"hus": [\n    "Åsane"\n  ]' in text
    assert json.loads(text) == {"status": "OPTIMAL", "start": "2027-01-01", "hus": ["Åsane"]}
    with pytest.raises(TypeError):
        write_json(path, {"bad": object()})
    assert json.loads(path.read_text(encoding="utf-8"))["status"] == "OPTIMAL"
