"""Fixtures of the scenario tests; helpers live in `a_scenario_helpers` (a module name no other
test folder uses, so the whole suite can import it beside the other folders' conftest)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from a_scenario_helpers import make_base


@pytest.fixture
def base_dir(tmp_path: Path) -> Path:
    """The tiny round (`a_scenario_helpers.tiny_round`) as a folder ``tmp_path/base``."""
    return make_base(tmp_path)
