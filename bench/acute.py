"""`python bench/acute.py PLAN_DIR`: acute requests on a Bergen plan, timed (issue 6).

One request that fits in a reserved place (category 4: Vestlund and Omsorgshjelperen keep one),
one that must move other families' nights (category P: Olav Bjordalsvei keeps no reserve and
is full). Prints one JSON line per request: seconds, nights moved, families touched, and the
checker's verdict on the new plan.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from allocator.acute import AcuteProposal, place_acute
from allocator.check import check_plan
from allocator.io.bookings import read_bookings
from allocator.io.reader import read_round
from models.inputs import Child

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    inp = read_round(ROOT / "data" / "bergen")
    plan = read_bookings(Path(sys.argv[1]))
    first = inp.config.start + dt.timedelta(days=60)
    for label, category in (("reserve", "4"), ("moves", "P")):
        child = Child.model_validate(
            {
                "child_id": f"AKUTT{category}",
                "birth_date": dt.date(2013, 1, 1),
                "category": category,
                "level": 1,
                "granted_nights": 0,
                "vedtak_from": inp.config.start,
                "vedtak_to": inp.config.end,
            }
        )
        result = place_acute(
            inp, plan, child, first, first + dt.timedelta(days=4), today=inp.config.start
        )
        row: dict[str, object] = {"case": label, "category": category}
        if isinstance(result, AcuteProposal):
            violations = check_plan(inp.with_children([child]), list(result.bookings))
            row |= {
                "seconds": round(result.seconds, 3),
                "house": result.house_id,
                "used_reserve": result.used_reserve,
                "nights_moved": len(result.moves),
                "families_touched": result.families_touched,
                "violations": len(violations),
            }
        else:
            row["refused"] = result.reason
        print(json.dumps(row))


if __name__ == "__main__":
    main()
