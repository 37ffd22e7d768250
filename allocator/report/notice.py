"""The written notice to a family whose application is undecided after a month (bokmål).

"Dersom saken ikke kan avgjøres innen en måned, skal det gis skriftlig beskjed om årsaken og
når svar kan ventes" (the guideline's case handling).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from allocator.io.atomic import atomic_output_dir
from models.waiting import WaitingApplication

#: Weeks the notice promises an answer within.
ANSWER_WITHIN_WEEKS = 4

_MONTHS = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
]


def norwegian_date(day: dt.date) -> str:
    return f"{day.day}. {_MONTHS[day.month - 1]} {day.year}"


def notice_text(application: WaitingApplication, today: dt.date) -> str:
    """The letter, ready to send (the office adds the family's name and address)."""
    answer_by = today + dt.timedelta(weeks=ANSWER_WITHIN_WEEKS)
    return (
        f"Melding om saksbehandlingstid ({application.child_id})\n\n"
        "Vi viser til søknaden deres om avlastning, mottatt "
        f"{norwegian_date(application.applied)}.\n\n"
        "Vi har ikke kunnet avgjøre saken innen en måned. Årsaken er at det for tiden ikke er "
        "ledig kapasitet i avlastningsboligene som passer barnets behov, og at ledige døgn "
        "fordeles etter prioritet.\n\n"
        f"Vi regner med å kunne gi dere svar innen {norwegian_date(answer_by)}. Dersom det blir "
        "ledige døgn før det, tar vi kontakt.\n\n"
        "Ta gjerne kontakt med oss hvis dere har spørsmål.\n\n"
        "Med vennlig hilsen\nForvaltningsenheten\n"
    )


def write_notices(
    applications: Sequence[WaitingApplication], today: dt.date, out_dir: Path
) -> Path:
    """One text file per overdue application, written atomically into ``out_dir``."""
    with atomic_output_dir(out_dir) as tmp:
        for application in applications:
            path = tmp / f"melding_{application.child_id}.txt"
            path.write_text(notice_text(application, today), encoding="utf-8")
    return out_dir
