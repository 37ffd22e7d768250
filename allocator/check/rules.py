"""Independent checker of a plan: one function per hard rule, quoting `models.rules.RULE_TEXT`.

The checker is written apart from the optimisation model so that it can catch the model's
mistakes. It works only from the `RoundInput` and the list of `Booking` rows and must never import
``allocator.cpsat``, ``allocator.instance`` or ``allocator.hint``. Every check is a plain loop over
bookings with dicts; nothing here is shared with the model's preprocessing.

Conventions
-----------
* A booking that names an unknown child or house, or a night outside the round, is reported once
  under ``UNKNOWN_ID`` and is left out of every other check (its rule cannot be judged).
* An exact duplicate row (same child, house and night twice) is reported under ``R1_ONE_PLACE``
  (the child is booked twice that night) and counted once by every other check.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from models.categories import Category
from models.inputs import Child, House, HouseKind, WishKind
from models.outputs import Booking
from models.round_input import RoundInput
from models.rules import Rule, budget_nights

# Rule R4_NIGHT_WATCH, written out from the rule text ("Categories 3–5 only where there is night
# watch") rather than imported from the model side, so that a slip there is caught here.
NIGHT_WATCH_CATEGORIES: frozenset[str] = frozenset({"3", "4", "5"})

#: How many missing nights an R4_BARNEBOLIG_EVERY_NIGHT message lists before "...".
_SHOW_NIGHTS = 5


@dataclass(frozen=True)
class Violation:
    """One broken hard rule.

    Attributes
    ----------
    rule
        The rule id (see `models.rules.Rule`).
    message
        A readable English sentence naming the child, house, night and the numbers involved.
    child_id, house_id, night
        Where the violation is, when it is about one child, house or night (else ``None``).
    """

    rule: Rule
    message: str
    child_id: str | None = None
    house_id: str | None = None
    night: dt.date | None = None


# ---------------------------------------------------------------------------------------------
# Helpers shared by the checks, the bound and the figures (all written from the rule text).
# ---------------------------------------------------------------------------------------------


def asked_nights(inp: RoundInput) -> dict[str, set[dt.date]]:
    """Each child's nights inside one of its own want-wishes."""
    asked: dict[str, set[dt.date]] = defaultdict(set)
    for wish in inp.wishes:
        if wish.kind is WishKind.WANT:
            asked[wish.child_id].update(wish.nights())
    return asked


def unavailable_ranges(inp: RoundInput) -> dict[str, list[tuple[dt.date, dt.date]]]:
    """Return each child's unavailable ranges ``(from, to)``, both ends included.

    Parameters
    ----------
    inp
        The round.

    Returns
    -------
    dict
        ``child_id`` → list of closed date ranges (rows for unknown children are kept; harmless).
    """
    ranges: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for row in inp.unavailable:
        ranges[row.child_id].append((row.from_, row.to))
    return dict(ranges)


def _in_any(night: dt.date, ranges: Iterable[tuple[dt.date, dt.date]]) -> bool:
    return any(lo <= night <= hi for lo, hi in ranges)


def available_nights(
    inp: RoundInput,
    child: Child,
    unavailable: dict[str, list[tuple[dt.date, dt.date]]] | None = None,
) -> list[dt.date]:
    """Return the nights the child may be in respite: in the round, in its vedtak, not unavailable.

    Parameters
    ----------
    inp
        The round.
    child
        The child.
    unavailable
        Pre-computed `unavailable_ranges(inp)`, to save work when called for every child.

    Returns
    -------
    list of datetime.date
        The available nights in date order.
    """
    if unavailable is None:
        unavailable = unavailable_ranges(inp)
    own = unavailable.get(child.child_id, [])
    return [
        night
        for night in inp.nights
        if child.vedtak_from <= night <= child.vedtak_to and not _in_any(night, own)
    ]


def closed_places(inp: RoundInput, house_id: str, night: dt.date) -> int:
    """Return the places closed in a house on a night: the sum over closures covering it."""
    return sum(
        c.places_closed for c in inp.closures if c.house_id == house_id and c.from_ <= night <= c.to
    )


def nightly_capacity(inp: RoundInput, house: House, night: dt.date) -> int:
    """Return rule R2's capacity of a house on a night.

    ``places − Σ places_closed of closures covering the night − acute_reserve[house]``, never
    below 0.
    """
    reserve = inp.config.acute_reserve.get(house.house_id, 0)
    return max(0, house.places - closed_places(inp, house.house_id, night) - reserve)


def nightly_capacities(inp: RoundInput, house: House) -> list[int]:
    """Return rule R2's capacity of a house for every night of the round, in night order."""
    closures = [c for c in inp.closures if c.house_id == house.house_id]
    reserve = inp.config.acute_reserve.get(house.house_id, 0)
    caps: list[int] = []
    for night in inp.nights:
        closed = sum(c.places_closed for c in closures if c.from_ <= night <= c.to)
        caps.append(max(0, house.places - closed - reserve))
    return caps


def house_budget(inp: RoundInput, house: House) -> int | None:
    """Return rule R3's budget of nights for an avlastningsbolig, ``None`` for a barnebolig."""
    if house.kind is HouseKind.BARNEBOLIG:
        return None
    return budget_nights(house.places, house.nights_per_place_year, inp.config.n_nights)


def accepts_category(house: House, category: Category | str) -> bool:
    """Rule R4_CATEGORY_FIT: the house lists the category as accepted or conditional."""
    return category in house.categories or category in house.conditional_categories


def is_eligible(child: Child, house: House) -> bool:
    """Return whether the child may sleep in the house under all R4 rules.

    Category fit (accepted or conditional), night watch for categories 3–5, and barnebolig if and
    only if the child has level 6.
    """
    if not accepts_category(house, child.category):
        return False
    if child.category in NIGHT_WATCH_CATEGORIES and not house.night_watch:
        return False
    return (house.kind is HouseKind.BARNEBOLIG) == (child.level == 6)


def _fmt_nights(nights: Sequence[dt.date]) -> str:
    shown = ", ".join(n.isoformat() for n in nights[:_SHOW_NIGHTS])
    return shown + (", ..." if len(nights) > _SHOW_NIGHTS else "")


def _split_known(
    inp: RoundInput, bookings: Sequence[Booking]
) -> tuple[list[Violation], list[Booking]]:
    """Check UNKNOWN_ID and return ``(violations, known bookings in input order, with repeats)``."""
    start, end = inp.config.start, inp.config.end
    violations: list[Violation] = []
    known: list[Booking] = []
    for b in bookings:
        problems: list[str] = []
        if not inp.has_child(b.child_id):
            problems.append(f"unknown child {b.child_id!r}")
        if not inp.has_house(b.house_id):
            problems.append(f"unknown house {b.house_id!r}")
        if not start <= b.night <= end:
            problems.append(
                f"night {b.night.isoformat()} outside the round "
                f"{start.isoformat()}..{end.isoformat()}"
            )
        if problems:
            violations.append(
                Violation(
                    Rule.UNKNOWN_ID,
                    f"booking ({b.child_id}, {b.house_id}, {b.night.isoformat()}): "
                    + "; ".join(problems),
                    child_id=b.child_id,
                    house_id=b.house_id,
                    night=b.night,
                )
            )
        else:
            known.append(b)
    return violations, known


def _distinct(bookings: Sequence[Booking]) -> list[Booking]:
    """Drop exact duplicate rows, keeping the first of each and the input order."""
    return list(dict.fromkeys(bookings))


# ---------------------------------------------------------------------------------------------
# One function per hard rule. Each takes the round and the known bookings.
# ---------------------------------------------------------------------------------------------


def check_unknown_id(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """UNKNOWN_ID: "Every booking names a known child and house and a night of the round."

    One violation per offending booking row, naming every problem of that row.
    """
    return _split_known(inp, bookings)[0]


def check_one_place(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R1_ONE_PLACE: "A child sleeps in at most one place a night."

    One violation per child and night booked more than once (in any houses, including the same
    house twice).
    """
    houses: dict[tuple[str, dt.date], list[str]] = defaultdict(list)
    for b in bookings:
        houses[(b.child_id, b.night)].append(b.house_id)
    return [
        Violation(
            Rule.R1_ONE_PLACE,
            f"child {child_id} is booked {len(hs)} times on {night.isoformat()} "
            f"(houses {', '.join(sorted(hs))})",
            child_id=child_id,
            night=night,
        )
        for (child_id, night), hs in sorted(houses.items())
        if len(hs) > 1
    ]


def check_inside_vedtak(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R1_INSIDE_VEDTAK: "A child sleeps in respite only inside its vedtak dates and the round."

    DOMAIN.md: grants are "date-fixed periods". One violation per booking whose night is outside
    the child's ``vedtak_from..vedtak_to`` (nights outside the round are UNKNOWN_ID).
    """
    out: list[Violation] = []
    for b in sorted(_distinct(bookings)):
        child = inp.child(b.child_id)
        if not child.vedtak_from <= b.night <= child.vedtak_to:
            out.append(
                Violation(
                    Rule.R1_INSIDE_VEDTAK,
                    f"child {b.child_id} is booked in {b.house_id} on {b.night.isoformat()}, "
                    f"outside its vedtak {child.vedtak_from.isoformat()}.."
                    f"{child.vedtak_to.isoformat()}",
                    child_id=b.child_id,
                    house_id=b.house_id,
                    night=b.night,
                )
            )
    return out


def check_unavailable(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R1_UNAVAILABLE: "Never on an unavailable night (summer camp, holiday trip, family holiday,
    other); 'Forvaltningsenheten må påse at sommerleirperioden ikke sammenfaller med
    avlastningsperioden.'"

    One violation per booking whose night lies in any of the child's unavailable ranges.
    """
    rows: dict[str, list[tuple[dt.date, dt.date, str]]] = defaultdict(list)
    for u in inp.unavailable:
        rows[u.child_id].append((u.from_, u.to, str(u.reason)))
    out: list[Violation] = []
    for b in sorted(_distinct(bookings)):
        hit = next((r for r in rows.get(b.child_id, []) if r[0] <= b.night <= r[1]), None)
        if hit is not None:
            out.append(
                Violation(
                    Rule.R1_UNAVAILABLE,
                    f"child {b.child_id} is booked in {b.house_id} on {b.night.isoformat()}, "
                    f"inside its unavailable range {hit[0].isoformat()}..{hit[1].isoformat()} "
                    f"({hit[2]})",
                    child_id=b.child_id,
                    house_id=b.house_id,
                    night=b.night,
                )
            )
    return out


def check_house_capacity(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R2_HOUSE_CAPACITY: "A house never holds more children on a night than its places, minus
    closed places, minus the acute reserve set for that house ('sikre en ledig kapasitet i
    boligene til bruk for akuttavlastning')."

    DOMAIN.md: a house gives "never more than its places on any one night". The capacity is
    ``places − Σ places_closed (closures covering the night) − acute_reserve[house]``, never below
    0; the count is of distinct children in the house that night. An acute stay (booking kind
    ``acute``, issue 6) is what the reserve is for: acute children may fill it, so with them the
    limit is ``places − closed``. One violation per house-night.
    """
    children: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    acute: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    for b in bookings:
        (acute if b.kind == "acute" else children)[(b.house_id, b.night)].add(b.child_id)
    out: list[Violation] = []
    for key in sorted(children.keys() | acute.keys()):
        house_id, night = key
        kids = children.get(key, set())
        house = inp.house(house_id)
        cap = nightly_capacity(inp, house, night)
        over_reserve = len(kids | acute.get(key, set())) > cap + inp.config.acute_reserve.get(
            house_id, 0
        )
        if len(kids) > cap or over_reserve:
            kids = kids | acute.get(key, set())
            closed = closed_places(inp, house_id, night)
            reserve = inp.config.acute_reserve.get(house_id, 0)
            out.append(
                Violation(
                    Rule.R2_HOUSE_CAPACITY,
                    f"house {house_id} holds {len(kids)} children on {night.isoformat()}, "
                    f"capacity {cap} (places {house.places}, closed {closed}, "
                    f"acute reserve {reserve})",
                    house_id=house_id,
                    night=night,
                )
            )
    return out


def check_house_budget(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R3_HOUSE_BUDGET: "A respite house gives at most places × 350 × N / 365 nights in a round of
    N nights ('Det regnes 350 avlastningsdøgn pr avlastningsplass pr år')."

    Only for houses of kind avlastningsbolig, with the house's ``nights_per_place_year`` and N the
    number of nights in the round (`models.rules.budget_nights`). A barnebolig is not
    budget-limited: "A barnebolig resident lives there every night of the round."
    """
    used: dict[str, int] = defaultdict(int)
    for b in _distinct(bookings):
        used[b.house_id] += 1
    out: list[Violation] = []
    for house_id, nights in sorted(used.items()):
        house = inp.house(house_id)
        budget = house_budget(inp, house)
        if budget is not None and nights > budget:
            out.append(
                Violation(
                    Rule.R3_HOUSE_BUDGET,
                    f"house {house_id} gives {nights} nights, budget {budget} "
                    f"({house.places} places × {house.nights_per_place_year} × "
                    f"{inp.config.n_nights} / 365)",
                    house_id=house_id,
                )
            )
    return out


def check_category_fit(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R4_CATEGORY_FIT: "Only houses that accept the child's category (a conditional category such
    as '(4)' is allowed but costs); group P only where P is accepted."

    DOMAIN.md: 'A category in parentheses, "(4)", is accepted only conditionally: allowed, but a
    worse fit.' One violation per booking in a house listing the category neither as accepted nor
    as conditional.
    """
    out: list[Violation] = []
    for b in sorted(_distinct(bookings)):
        child, house = inp.child(b.child_id), inp.house(b.house_id)
        if not accepts_category(house, child.category):
            accepted = ";".join(sorted(house.categories | house.conditional_categories)) or "none"
            out.append(
                Violation(
                    Rule.R4_CATEGORY_FIT,
                    f"child {b.child_id} (category {child.category}) is booked in {b.house_id} "
                    f"on {b.night.isoformat()}, which accepts {accepted}",
                    child_id=b.child_id,
                    house_id=b.house_id,
                    night=b.night,
                )
            )
    return out


def check_night_watch(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R4_NIGHT_WATCH: "Categories 3–5 only where there is night watch (nattevakt)."

    Seed: "Kategori 3 = ... og behov for nattevakt", likewise 4 and 5. One violation per booking
    of a category 3, 4 or 5 child in a house without ``night_watch``.
    """
    out: list[Violation] = []
    for b in sorted(_distinct(bookings)):
        child, house = inp.child(b.child_id), inp.house(b.house_id)
        if child.category in NIGHT_WATCH_CATEGORIES and not house.night_watch:
            out.append(
                Violation(
                    Rule.R4_NIGHT_WATCH,
                    f"child {b.child_id} (category {child.category}) needs night watch but is "
                    f"booked in {b.house_id} on {b.night.isoformat()}, which has none",
                    child_id=b.child_id,
                    house_id=b.house_id,
                    night=b.night,
                )
            )
    return out


def check_barnebolig_level6(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R4_BARNEBOLIG_LEVEL6: "Only level-6 children in a barnebolig, and level 6 lives there."

    Seed: "avlastningsnivå 6 BARNEBOLIG → 365 døgn pr år". One violation per booking of a child
    below level 6 in a barnebolig, and per booking of a level-6 child in any other house.
    """
    out: list[Violation] = []
    for b in sorted(_distinct(bookings)):
        child, house = inp.child(b.child_id), inp.house(b.house_id)
        in_barnebolig = house.kind is HouseKind.BARNEBOLIG
        if in_barnebolig and child.level != 6:
            why = f"level {child.level} child {b.child_id} is booked in barnebolig {b.house_id}"
        elif not in_barnebolig and child.level == 6:
            why = f"level-6 child {b.child_id} is booked in {house.kind} {b.house_id}"
        else:
            continue
        out.append(
            Violation(
                Rule.R4_BARNEBOLIG_LEVEL6,
                f"{why} on {b.night.isoformat()}",
                child_id=b.child_id,
                house_id=b.house_id,
                night=b.night,
            )
        )
    return out


def check_barnebolig_every_night(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R4_BARNEBOLIG_EVERY_NIGHT: "A barnebolig resident lives there every available night of the
    round ('Barnebolig → 365 døgn pr år')."

    A level-6 child must be booked in a barnebolig on every round night inside its vedtak and not
    in an unavailable range. One violation per child, giving the number of missing nights and the
    first few; ``night`` is the first missing night.
    """
    in_barnebolig: dict[str, set[dt.date]] = defaultdict(set)
    for b in bookings:
        if inp.house(b.house_id).kind is HouseKind.BARNEBOLIG:
            in_barnebolig[b.child_id].add(b.night)
    unavailable = unavailable_ranges(inp)
    out: list[Violation] = []
    for child in sorted(inp.children, key=lambda c: c.child_id):
        if child.level != 6:
            continue
        available = available_nights(inp, child, unavailable)
        missing = [n for n in available if n not in in_barnebolig.get(child.child_id, set())]
        if missing:
            out.append(
                Violation(
                    Rule.R4_BARNEBOLIG_EVERY_NIGHT,
                    f"level-6 child {child.child_id} is not in a barnebolig on {len(missing)} of "
                    f"{len(available)} available nights: {_fmt_nights(missing)}",
                    child_id=child.child_id,
                    night=missing[0],
                )
            )
    return out


def check_granted(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R5_GRANTED: "Never more nights than granted."

    One violation per child whose distinct booking rows outnumber its ``granted_nights``. Acute
    nights are counted apart from the grant (issue 6) and are not counted here.
    """
    booked: dict[str, int] = defaultdict(int)
    for b in _distinct(bookings):
        if b.kind != "acute":
            booked[b.child_id] += 1
    out: list[Violation] = []
    for child_id, nights in sorted(booked.items()):
        granted = inp.child(child_id).granted_nights
        if nights > granted:
            out.append(
                Violation(
                    Rule.R5_GRANTED,
                    f"child {child_id} is booked {nights} nights, granted {granted}",
                    child_id=child_id,
                )
            )
    return out


def check_incompatible(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R6_INCOMPATIBLE: "Two incompatible children are never in the same house on the same
    night."

    One violation per incompatible pair, house and night where both are booked.
    """
    places: dict[str, set[tuple[str, dt.date]]] = defaultdict(set)
    for b in bookings:
        places[b.child_id].add((b.house_id, b.night))
    out: list[Violation] = []
    seen: set[frozenset[str]] = set()
    for pair in inp.incompatible:
        key = frozenset((pair.child_a, pair.child_b))
        if key in seen:  # the same pair listed twice (or as b, a) is reported once
            continue
        seen.add(key)
        together = places.get(pair.child_a, set()) & places.get(pair.child_b, set())
        for house_id, night in sorted(together):
            out.append(
                Violation(
                    Rule.R6_INCOMPATIBLE,
                    f"incompatible children {pair.child_a} and {pair.child_b} are both in "
                    f"{house_id} on {night.isoformat()}",
                    child_id=pair.child_a,
                    house_id=house_id,
                    night=night,
                )
            )
    return out


#: The checks run by `check_plan` on known bookings, in rule order.
def check_pins(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """R7_PINS: "A stay the coordinator pinned is kept, and a forbidden night is never booked."

    One violation per pinned night not booked in its house, and per booking on a forbidden
    night (in the named house, or in any house when the forbid names none).
    """
    where = {(b.child_id, b.night): b.house_id for b in bookings}
    found: list[Violation] = []
    for pin in inp.pins:
        for night in pin.nights():
            if not inp.config.start <= night <= inp.config.end:
                continue
            booked = where.get((pin.child_id, night))
            if pin.kind.value == "pin" and booked != pin.house_id:
                found.append(
                    Violation(
                        Rule.R7_PINS,
                        f"{pin.child_id} is pinned to {pin.house_id} on {night} but is "
                        f"{'in ' + booked if booked else 'not booked'}",
                        pin.child_id,
                        pin.house_id,
                        night,
                    )
                )
            if (
                pin.kind.value == "forbid"
                and booked is not None
                and (pin.house_id is None or booked == pin.house_id)
            ):
                found.append(
                    Violation(
                        Rule.R7_PINS,
                        f"{pin.child_id} is booked in {booked} on {night}, a forbidden night",
                        pin.child_id,
                        booked,
                        night,
                    )
                )
    return found


CHECKS: tuple[Callable[[RoundInput, Sequence[Booking]], list[Violation]], ...] = (
    check_one_place,
    check_inside_vedtak,
    check_unavailable,
    check_house_capacity,
    check_house_budget,
    check_category_fit,
    check_night_watch,
    check_barnebolig_level6,
    check_barnebolig_every_night,
    check_granted,
    check_incompatible,
    check_pins,
)


def check_plan(inp: RoundInput, bookings: Sequence[Booking]) -> list[Violation]:
    """Check a plan against every hard rule and return all violations (empty if the plan is valid).

    Parameters
    ----------
    inp
        The round's input.
    bookings
        The plan: one `Booking` per bed-night.

    Returns
    -------
    list of Violation
        UNKNOWN_ID first, then R1 … R6 in `CHECKS` order; within a rule, sorted by child, house
        and night. Bookings with an unknown id or a night outside the round appear only under
        UNKNOWN_ID.
    """
    violations, known = _split_known(inp, bookings)
    for check in CHECKS:
        violations.extend(check(inp, known))
    return violations
