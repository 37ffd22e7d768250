"""Independent checker: hard-rule checks, key figures and a max-flow upper bound.

Never imports ``allocator.cpsat``, ``allocator.instance`` or ``allocator.hint``: it judges a plan
from the `RoundInput` and the bookings alone.
"""

from allocator.check.bound import max_flow_bound
from allocator.check.figures import Figures, HouseFigures, compute_figures, format_figures
from allocator.check.rules import Violation, check_plan

__all__ = [
    "Figures",
    "HouseFigures",
    "Violation",
    "check_plan",
    "compute_figures",
    "format_figures",
    "max_flow_bound",
]
