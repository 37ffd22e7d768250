"""Name the children, houses and nights in conflict when the hard rules cannot all hold.

The only rules that can force an empty round are the barnebolig rules: a level-6 child lives in
a barnebolig every available night, and never more nights than granted. Everything else can be
met by giving fewer nights. So before solving we check, night by night, that the residents fit.
"""

from __future__ import annotations

from collections import defaultdict

from allocator.instance import Instance


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
    per_group: dict[tuple[int, ...], dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for child in residents:
        for n in child.available:
            per_group[child.candidates][n].append(child.child_id)
    for houses, by_night in per_group.items():
        if not houses:
            continue  # named above: no barnebolig takes the child
        capacity = [
            sum(inst.houses[h].nightly_capacity[n] for h in houses) for n in range(inst.n_nights)
        ]
        short = [n for n, ids in by_night.items() if len(ids) > capacity[n]]
        if not short:
            continue
        names = ", ".join(inst.houses[h].house_id for h in houses)
        for first, last in _ranges(short):
            ids = sorted({cid for n in range(first, last + 1) for cid in by_night.get(n, [])})
            conflicts.append(
                f"Barnebolig {names}: {len(by_night[first])} residents but "
                f"{capacity[first]} usable places on nights "
                f"{inst.nights[first]}–{inst.nights[last]}"
                f" (residents: {', '.join(ids)}). Open places, lift a closure or acute reserve,"
                " or move a resident."
            )
    conflicts.extend(_incompatible_residents(inst))
    conflicts.extend(_pins_without_room(inst))
    return conflicts


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
