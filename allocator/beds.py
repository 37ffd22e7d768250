"""Barnebolig residents matched to places for one night: one matching for the check before the
solve (`allocator.diagnose`) and the greedy plan (`allocator.hint`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from allocator.instance import ChildIdx, HouseIdx


def match_to_places(
    usable: Mapping[ChildIdx, Sequence[HouseIdx]], places: Mapping[HouseIdx, int]
) -> dict[HouseIdx, list[ChildIdx]]:
    """A largest matching of residents to places: each house's residents.

    Each resident first takes the first of its usable houses (the preferred one) where there
    is room, then every resident still without a bed is given one by an augmenting path, moving
    others to another usable house, so that no resident goes without a bed while the places
    allow one (first fit left a resident who may use one barnebolig without a bed when another,
    free to use either, took its place). ``places`` holds every usable house's places; a
    resident missing from the result has no bed because the places cannot take everyone."""
    guests: dict[HouseIdx, list[ChildIdx]] = {h: [] for h in places}

    def place(c: ChildIdx, seen: set[HouseIdx]) -> bool:
        for h in usable[c]:
            if h in seen:
                continue
            seen.add(h)
            if len(guests[h]) < places[h]:
                guests[h].append(c)
                return True
            for other in list(guests[h]):
                guests[h].remove(other)
                if place(other, seen):
                    guests[h].append(c)
                    return True
                guests[h].append(other)
        return False

    for c, houses in usable.items():
        if houses and len(guests[houses[0]]) < places[houses[0]]:
            guests[houses[0]].append(c)
    placed = {c for members in guests.values() for c in members}
    for c in usable:
        if c not in placed:
            place(c, set())
    return guests
