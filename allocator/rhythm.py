"""A steady rhythm: a family's stays spread evenly over the half-year.

"The family's pattern holds across the half-year (every other weekend, one week a month, fixed
weekdays): gaps between stays are even" (issue 5). A family's *even gap* is the span of its
available nights divided by the stays its grant makes at its pattern's usual stay length; a
*rhythm window* is a stretch of one and a half even gaps, one starting every week. A window
with no night in respite is a break in the rhythm, and costs (`objective.long_gaps`).
"""

from __future__ import annotations

import math

from allocator.instance import ChildData, NightIdx
from models.inputs import Pattern

#: The usual stay of each pattern (nights): two weekend nights, a week, a school week.
USUAL_STAY: dict[Pattern, int] = {
    Pattern.WEEKEND: 2,
    Pattern.WEEKDAYS: 4,
    Pattern.WEEK: 7,
    Pattern.ANY: 4,
}

#: A window is this many even gaps long.
WINDOW_IN_GAPS = 1.5

#: Windows start this many nights apart.
WINDOW_STRIDE = 7


def even_gap(child: ChildData) -> float | None:
    """Nights from one stay's start to the next when the child's stays are evenly spread;
    None for residents and for a child whose grant makes fewer than three stays."""
    if child.is_resident or not child.available or child.target <= 0:
        return None
    stays = math.ceil(child.target / USUAL_STAY[child.pattern])
    if stays < 3:
        return None
    span = child.available[-1] - child.available[0] + 1
    return span / stays


def rhythm_windows(child: ChildData) -> list[tuple[NightIdx, ...]]:
    """The child's rhythm windows, each as the available nights in it (windows the child is
    away for all of are left out: a camp is no break in the rhythm)."""
    gap = even_gap(child)
    if gap is None:
        return []
    length = max(WINDOW_STRIDE, math.ceil(WINDOW_IN_GAPS * gap))
    first, last = child.available[0], child.available[-1]
    free = set(child.available)
    windows = []
    for start in range(first, last - length + 2, WINDOW_STRIDE):
        nights = tuple(n for n in range(start, start + length) if n in free and child.offered(n))
        if nights:
            windows.append(nights)
    return windows
