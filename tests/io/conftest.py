"""Fixtures for the io tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from io_helpers import VALID, RoundWriter, write_files


@pytest.fixture
def make_round(tmp_path: Path) -> RoundWriter:
    """Write the valid round, with some files replaced (text/bytes) or removed (None)."""

    def make(**overrides: str | bytes | None) -> Path:
        files: dict[str, str | bytes | None] = dict(VALID)
        for key, value in overrides.items():
            files[key.replace("_csv", ".csv").replace("_toml", ".toml")] = value
        return write_files(tmp_path / "round", files)

    return make
