"""Name the children, houses and nights in conflict when the hard rules cannot all hold.

The only rules that can force an empty round are the barnebolig rules: a level-6 child lives in
a barnebolig every available night, and never more nights than granted. Everything else can be
met by giving fewer nights. So before solving we check, night by night, that the residents fit:
not resident by resident, nor by the houses each resident may use, but for every group of
residents together against the places of all the houses they may use (`_outnumbered`), so two
barneboliger that share their residents are counted as one.
"""

from __future__ import annotations

from collections import defaultdict

from allocator.beds import match_to_places
from allocator.instance import ChildData, ChildIdx, HouseIdx, Instance, NightIdx


def _ranges(nights: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for n in sorted(nights):
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def diagnose(inst: Instance) -> list[str]:
    """Plain-words conflicts that make the round infeasible; empty when none is found."""
    conflicts: list[str] = []
    residents = [c for c in inst.children if c.is_resident]
    for child in residents:
        if not child.candidates:
            conflicts.append(
                f"{child.child_id} (level 6) has no barnebolig that accepts its category "
                "with a usable place: it cannot live in a barnebolig."
            )
        elif child.granted < len(child.available):
            conflicts.append(
                f"{child.child_id} (level 6) is granted {child.granted} nights but is available "
                f"{len(child.available)} nights; a barnebolig resident lives there every "
                "available night. Raise the grant or register the nights at home as unavailable."
            )
    conflicts.extend(_residents_without_beds(inst))
    conflicts.extend(_incompatible_residents(inst))
    conflicts.extend(_pins_without_room(inst))
    return conflicts


#: How many runs of nights a conflict line spells out before "and N more".
SHOWN_RUNS = 3


def _nights_text(inst: Instance, nights: list[NightIdx]) -> str:
    """Runs of consecutive nights as dates, the first `SHOWN_RUNS` of them."""
    runs = _ranges(nights)
    shown = [
        str(inst.nights[a]) if a == b else f"{inst.nights[a]}–{inst.nights[b]}"
        for a, b in runs[:SHOWN_RUNS]
    ]
    more = f" and {len(runs) - SHOWN_RUNS} more" if len(runs) > SHOWN_RUNS else ""
    return ", ".join(shown) + more


def _usable(inst: Instance, child: ChildData, n: NightIdx) -> tuple[HouseIdx, ...]:
    """The barnebolig houses the model may put resident ``child`` in on night ``n``: its
    candidates with a place open that night and not forbidden to it (only a pinned one when
    the night is pinned), exactly those with a night variable (`allocator.cpsat.variables`)."""
    pinned = {h for h, m in child.pinned if m == n}
    return tuple(
        h
        for h in child.candidates
        if inst.houses[h].nightly_capacity[n] > 0
        and (h, n) not in child.blocked
        and child.offered(n)
        and (not pinned or h in pinned)
    )


def _outnumbered(
    usable: dict[ChildIdx, tuple[HouseIdx, ...]], places: dict[HouseIdx, int]
) -> list[tuple[frozenset[HouseIdx], frozenset[ChildIdx]]]:
    """One night: groups of residents who outnumber the places of the houses they may use.

    A bed for every resident exists exactly when no set of residents may use fewer places
    than they are (Hall's condition). A largest matching of residents to places shows it: the
    residents left without a bed, the houses they may use, those houses' residents, the houses
    those may use, and so on, form groups whose houses are full and whose residents may use no
    other house. Each connected group is returned as (houses, residents); a resident with no
    usable house is a group of its own with no houses."""
    in_house = match_to_places(usable, places)
    placed = {c for members in in_house.values() for c in members}
    unplaced = [c for c in sorted(usable) if c not in placed]
    if not unplaced:
        return []
    reached: set[ChildIdx] = set()
    queue = list(unplaced)
    while queue:
        c = queue.pop()
        if c in reached:
            continue
        reached.add(c)
        for h in usable[c]:
            queue.extend(in_house[h])
    # Connected groups: residents who share a usable house, directly or through others.
    group_of: dict[HouseIdx, int] = {}
    groups: list[tuple[set[HouseIdx], set[ChildIdx]]] = []
    for c in sorted(reached):
        joined = sorted({group_of[h] for h in usable[c] if h in group_of})
        if joined:
            houses, members = groups[joined[0]]
            for g in joined[1:]:
                houses |= groups[g][0]
                members |= groups[g][1]
                groups[g] = (set(), set())
        else:
            houses, members = set(), set()
            groups.append((houses, members))
            joined = [len(groups) - 1]
        houses.update(usable[c])
        members.add(c)
        for h in houses:
            group_of[h] = joined[0]
    return [(frozenset(hs), frozenset(cs)) for hs, cs in groups if cs]


def _residents_without_beds(inst: Instance) -> list[str]:
    """Nights on which residents outnumber the barnebolig places they may use (see
    `_outnumbered`), one line per set of houses, and residents with no usable place at all."""
    residents = [c for c in inst.children if c.is_resident and c.candidates]
    if not residents:
        return []
    available = {c.idx: set(c.available) for c in residents}
    short: dict[frozenset[HouseIdx], dict[NightIdx, frozenset[ChildIdx]]] = defaultdict(dict)
    homeless: dict[ChildIdx, list[NightIdx]] = defaultdict(list)
    seen: dict[tuple[object, ...], list[tuple[frozenset[HouseIdx], frozenset[ChildIdx]]]] = {}
    for n in range(inst.n_nights):
        usable = {c.idx: _usable(inst, c, n) for c in residents if n in available[c.idx]}
        places = {h: inst.houses[h].nightly_capacity[n] for hs in usable.values() for h in hs}
        key = (tuple(sorted(usable.items())), tuple(sorted(places.items())))
        if key not in seen:
            seen[key] = _outnumbered(usable, places)
        for houses, members in seen[key]:
            if houses:
                short[houses][n] = members
            else:
                for c in members:
                    homeless[c].append(n)
    found: list[tuple[NightIdx, str]] = []
    for c, nights in homeless.items():
        child = inst.children[c]
        names = ", ".join(inst.houses[h].house_id for h in child.candidates)
        found.append(
            (
                nights[0],
                f"{child.child_id} (level 6) has no barnebolig place it may use on "
                f"{len(nights)} night(s): {_nights_text(inst, nights)}: {names} closed, held "
                "for acute cases or forbidden to it by a pin. Open places, lift a closure or "
                "acute reserve, or lift the pin.",
            )
        )
    for houses, by_night in short.items():
        nights = sorted(by_night)
        first = nights[0]
        ids = sorted({inst.children[c].child_id for cs in by_night.values() for c in cs})
        beds = sum(inst.houses[h].nightly_capacity[first] for h in houses)
        where = (
            f"Barnebolig {inst.houses[next(iter(houses))].house_id}"
            if len(houses) == 1
            else "Barnebolig houses "
            + ", ".join(inst.houses[h].house_id for h in sorted(houses))
            + " together"
        )
        found.append(
            (
                first,
                f"{where}: {len(by_night[first])} residents but {beds} usable "
                f"place{'' if beds == 1 else 's'} on {inst.nights[first]}; residents "
                f"outnumber places on {len(nights)} night(s): {_nights_text(inst, nights)} "
                f"(residents with no other barnebolig: {', '.join(ids)}). Open places, lift a "
                "closure or acute reserve, or move a resident to another barnebolig.",
            )
        )
    return [line for _, line in sorted(found)]


def _pins_without_room(inst: Instance) -> list[str]:
    """Pinned stays that need more places on a night than the house has."""
    wanted: dict[tuple[int, int], list[str]] = defaultdict(list)
    for child in inst.children:
        for h, n in child.pinned:
            wanted[(h, n)].append(child.child_id)
    found = []
    for (h, n), ids in sorted(wanted.items()):
        capacity = inst.houses[h].nightly_capacity[n]
        if len(ids) > capacity:
            found.append(
                f"Pins for {', '.join(sorted(ids))} need {len(ids)} places in "
                f"{inst.houses[h].house_id} on {inst.nights[n]} but it has {capacity} usable."
            )
    return found


def _incompatible_residents(inst: Instance) -> list[str]:
    """Two incompatible residents whose only barnebolig is the same house, on shared nights."""
    found = []
    for a, b in inst.incompatible:
        ca, cb = inst.children[a], inst.children[b]
        if not (ca.is_resident and cb.is_resident):
            continue
        if len(ca.candidates) != 1 or ca.candidates != cb.candidates:
            continue
        shared = sorted(set(ca.available) & set(cb.available))
        if shared:
            house = inst.houses[ca.candidates[0]].house_id
            found.append(
                f"{ca.child_id} and {cb.child_id} are incompatible but both must live in "
                f"barnebolig {house} on {len(shared)} nights from {inst.nights[shared[0]]}."
                " Give one of them another barnebolig."
            )
    return found


def unexplained_infeasibility(inst: Instance) -> str:
    """CP-SAT proved the rules cannot all hold and no simple cause was found."""
    residents = [c.child_id for c in inst.children if c.is_resident]
    return (
        "The hard rules cannot all hold. The only rules that force nights are the barnebolig "
        f"rules; check the residents ({', '.join(residents) or 'none'}): their barnebolig places, "
        "closures, acute reserve and incompatible pairs."
    )
