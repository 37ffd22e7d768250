"""Independent checker: hard-rule checks, key figures and a max-flow upper bound.

Never imports ``allocator.cpsat``, ``allocator.instance`` or ``allocator.hint``: it judges a plan
from the `RoundInput` and the bookings alone.

The figures and the bound (numpy, OR-Tools' max flow) are loaded on first use, so a command
that only checks the rules (``allocator acute``, ``cancel``, ...) starts without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allocator.check.rules import Violation, check_plan

if TYPE_CHECKING:
    from allocator.check.bound import max_flow_bound
    from allocator.check.figures import Figures, HouseFigures, compute_figures, format_figures

__all__ = [
    "Figures",
    "HouseFigures",
    "Violation",
    "check_plan",
    "compute_figures",
    "format_figures",
    "max_flow_bound",
]

_LAZY = {
    "max_flow_bound": "allocator.check.bound",
    "Figures": "allocator.check.figures",
    "HouseFigures": "allocator.check.figures",
    "compute_figures": "allocator.check.figures",
    "format_figures": "allocator.check.figures",
}


def __getattr__(name: str) -> Any:
    """Load the figures and the bound on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
