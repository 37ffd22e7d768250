"""Rule ids and the text each one enforces. The model and the checker quote the same rules.

Search for a rule id (e.g. ``R2_HOUSE_CAPACITY``) to find the constraint and its check.
"""

from __future__ import annotations

from enum import StrEnum


class Rule(StrEnum):
    R1_ONE_PLACE = "R1_ONE_PLACE"
    R1_INSIDE_VEDTAK = "R1_INSIDE_VEDTAK"
    R1_UNAVAILABLE = "R1_UNAVAILABLE"
    R2_HOUSE_CAPACITY = "R2_HOUSE_CAPACITY"
    R3_HOUSE_BUDGET = "R3_HOUSE_BUDGET"
    R4_CATEGORY_FIT = "R4_CATEGORY_FIT"
    R4_NIGHT_WATCH = "R4_NIGHT_WATCH"
    R4_BARNEBOLIG_LEVEL6 = "R4_BARNEBOLIG_LEVEL6"
    R4_BARNEBOLIG_EVERY_NIGHT = "R4_BARNEBOLIG_EVERY_NIGHT"
    R5_GRANTED = "R5_GRANTED"
    R6_INCOMPATIBLE = "R6_INCOMPATIBLE"
    R7_PINS = "R7_PINS"
    UNKNOWN_ID = "UNKNOWN_ID"
    # Shape rules the model keeps for the families (DOMAIN.md: "nights as few well-shaped
    # stays"); the checker reports them as figures, not as violations of the guideline.
    S1_MAX_STAY = "S1_MAX_STAY"
    S2_ONE_HOUSE_PER_STAY = "S2_ONE_HOUSE_PER_STAY"


RULE_TEXT: dict[Rule, str] = {
    Rule.R1_ONE_PLACE: "A child sleeps in at most one place a night.",
    Rule.R1_INSIDE_VEDTAK: "A child sleeps in respite only inside its vedtak dates and the round.",
    Rule.R1_UNAVAILABLE: (
        "Never on an unavailable night (summer camp, holiday trip, family holiday, other); "
        "'Forvaltningsenheten må påse at sommerleirperioden ikke sammenfaller med "
        "avlastningsperioden.'"
    ),
    Rule.R2_HOUSE_CAPACITY: (
        "A house never holds more children on a night than its places, minus closed places, "
        "minus the acute reserve set for that house ('sikre en ledig kapasitet i boligene til "
        "bruk for akuttavlastning')."
    ),
    Rule.R3_HOUSE_BUDGET: (
        "A respite house gives at most places × 350 × N / 365 nights in a round of N nights "
        "('Det regnes 350 avlastningsdøgn pr avlastningsplass pr år')."
    ),
    Rule.R4_CATEGORY_FIT: (
        "Only houses that accept the child's category (a conditional category such as '(4)' "
        "is allowed but costs); group P only where P is accepted."
    ),
    Rule.R4_NIGHT_WATCH: "Categories 3–5 only where there is night watch (nattevakt).",
    Rule.R4_BARNEBOLIG_LEVEL6: "Only level-6 children in a barnebolig, and level 6 lives there.",
    Rule.R4_BARNEBOLIG_EVERY_NIGHT: (
        "A barnebolig resident lives there every available night of the round "
        "('Barnebolig → 365 døgn pr år')."
    ),
    Rule.R5_GRANTED: "Never more nights than granted.",
    Rule.R6_INCOMPATIBLE: (
        "Two incompatible children are never in the same house on the same night."
    ),
    Rule.R7_PINS: (
        "A stay the coordinator pinned is kept, and a forbidden night is never booked "
        "(pins.csv; 'a re-run keeps every pin')."
    ),
    Rule.S1_MAX_STAY: (
        "No stay longer than the family's pattern allows: weekend 3 nights, weekdays 5, "
        "week and any 7 (stays 'in the family's pattern')."
    ),
    Rule.S2_ONE_HOUSE_PER_STAY: (
        "A stay is in one house: a house change needs a night at home between "
        "('children kept in a house they know')."
    ),
    Rule.UNKNOWN_ID: "Every booking names a known child and house and a night of the round.",
}


def budget_nights(places: int, nights_per_place_year: int, n_nights: int) -> int:
    """Rule R3: ``places × nights_per_place_year × N / 365``, rounded down."""
    return (places * nights_per_place_year * n_nights) // 365
