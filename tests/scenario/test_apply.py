"""Each kind of change applies to the tiny base round (`conftest.tiny_round`), and a change
that cannot apply is an input error naming the scenario file and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from a_scenario_helpers import tiny_round, write_scenario
from factories import child, house, round_input

from allocator.io.errors import InputError
from allocator.io.write_input import write_round
from allocator.scenario.apply import Applied, apply
from allocator.scenario.compare import acute_place_nights
from allocator.scenario.run import input_hash
from allocator.scenario.spec import load_scenario
from models.inputs import HouseKind


def applied(tmp_path: Path, text: str) -> Applied:
    return apply(load_scenario(write_scenario(tmp_path, text)))


def rejected(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        applied(tmp_path, text)
    return [str(p) for p in info.value.problems]


def test_no_change_is_the_base(tmp_path: Path, base_dir: Path) -> None:
    a = applied(tmp_path, "")
    assert a.changes == []
    assert input_hash(a.inp) == input_hash(a.base) == input_hash(tiny_round())


def test_places_set_added_and_removed(tmp_path: Path, base_dir: Path) -> None:
    a = applied(tmp_path, "[houses.h4]\nadd_places = 2\n[houses.h23]\nplaces = 3\n")
    assert a.inp.house("h4").places == 4 and a.inp.house("h23").places == 3
    assert input_hash(a.inp) != input_hash(a.base)
    a = applied(tmp_path, "[houses.h4]\nadd_places = -1\n")
    assert a.inp.house("h4").places == 1
    assert any("places 2 → 1" in c for c in a.changes)
    assert "below zero" in rejected(tmp_path, "[houses.h4]\nadd_places = -3\n")[0]


def test_removed_house_takes_its_rows_and_home_houses(tmp_path: Path, base_dir: Path) -> None:
    a = applied(tmp_path, "[houses.h4]\nremove = true\n")
    assert not a.inp.has_house("h4")
    assert "h4" not in a.inp.config.acute_reserve
    assert a.inp.child("B0001").home_house is None  # was h4
    assert any("lose home house h4" in c for c in a.changes)


def test_house_categories_price_and_reserve(tmp_path: Path, base_dir: Path) -> None:
    a = applied(
        tmp_path,
        "[houses.h23]\ncategories = '2;3;4'\nconditional_categories = ''\nprice_per_night = 100\n"
        "[houses.h4]\nacute_reserve = 2\n",
    )
    h23 = a.inp.house("h23")
    assert h23.categories == frozenset({"2", "3", "4"}) and not h23.conditional_categories
    assert h23.price_per_night == 100
    assert a.inp.config.acute_reserve["h4"] == 2
    # A house that stops taking a child's category is no longer its home.
    a = applied(tmp_path, "[houses.h23]\ncategories = '2'\n")
    assert a.inp.child("B0003").home_house is None


def test_new_house(tmp_path: Path, base_dir: Path) -> None:
    a = applied(
        tmp_path,
        "[[new_houses]]\nhouse_id = 'n4'\nplaces = 6\ncategories = '4'\n"
        "conditional_categories = '5'\nprice_per_night = 7700\nacute_reserve = 1\n",
    )
    n4 = a.inp.house("n4")
    assert (n4.places, n4.night_watch, n4.nights_per_place_year) == (6, True, 350)
    assert n4.categories == frozenset({"4"}) and n4.conditional_categories == frozenset({"5"})
    assert n4.kind is HouseKind.AVLASTNINGSBOLIG and n4.price_per_night == 7700
    assert a.inp.config.acute_reserve["n4"] == 1
    # Category 2 only: no night watch unless asked for; an existing id is refused.
    a = applied(tmp_path, "[[new_houses]]\nhouse_id = 'n2'\nplaces = 2\ncategories = '2'\n")
    assert a.inp.house("n2").night_watch is False
    found = rejected(tmp_path, "[[new_houses]]\nhouse_id = 'h4'\nplaces = 1\ncategories = '4'\n")
    assert "already exists" in found[0] and "new_houses.0.house_id" in found[0]


def test_closures(tmp_path: Path, base_dir: Path) -> None:
    a = applied(
        tmp_path,
        "[[closures]]\nhouse_id = 'h4'\nfrom = 2027-01-05\nto = 2027-01-06\n"
        "[[closures]]\nhouse_id = 'h23'\nfrom = 2027-01-09\nto = 2027-01-10\nplaces_closed = 1\n",
    )
    new = a.inp.closures[len(a.base.closures) :]
    assert [(c.house_id, c.places_closed) for c in new] == [("h4", 2), ("h23", 1)]  # all = 2
    # The reserve of h4 (1 place) holds nothing on the two nights it is closed.
    assert acute_place_nights(a.inp) == acute_place_nights(a.base) - 2
    found = rejected(
        tmp_path,
        "[[closures]]\nhouse_id = 'h23'\nfrom = 2027-01-05\nto = 2027-01-05\nplaces_closed = 4\n",
    )
    assert "closures.0.places_closed" in found[0]


def test_acute_reserve_replaces_the_base_reserve(tmp_path: Path, base_dir: Path) -> None:
    a = applied(tmp_path, "[acute_reserve]\nh23 = 1\n")
    assert a.inp.config.acute_reserve == {"h23": 1}  # h4's reserve is released
    assert applied(tmp_path, "[acute_reserve]\n").inp.config.acute_reserve == {}
    assert "more than the 1 places" in rejected(tmp_path, "[acute_reserve]\nh23 = 2\n")[0]
    assert "barnebolig" in rejected(tmp_path, "[acute_reserve]\nbb = 1\n")[0]


def test_demand_scale_follows_the_level_bands(tmp_path: Path, base_dir: Path) -> None:
    """Over a 7-night round the bands are tiny; a grant inside its band that leaves it moves
    level, a grant already outside its band keeps its level, level 6 is untouched."""
    a = applied(tmp_path, "[demand]\nscale = 1.5\n")
    got = {c.child_id: (c.granted_nights, c.level) for c in a.inp.children}
    # Level-5 top over 7 nights is ceil(275 × 7 / 365) = 6: no grant passes it.
    assert got["B0001"] == (6, 2)  # 5 × 1.5 = 7.5 → 8, capped at 6; 5 was outside level 2's band
    assert got["B0002"][0] == 4 and got["B0003"][0] == 6
    assert got["B0004"] == (7, 6)  # barnebolig resident
    assert a.inp.config.acute_reserve == a.base.config.acute_reserve


def test_demand_scale_moves_a_level_on_a_half_year(tmp_path: Path) -> None:
    """On a 181-night round level 2's band is 18–36 nights: 30 × 1.25 = 38 is level 3."""
    inp = round_input(
        [house("h", places=1)],
        [child("B0001", 30, level=2), child("B0002", 20, level=2)],
        nights=181,
    )
    write_round(inp, tmp_path / "base")
    a = applied(tmp_path, "[demand]\nscale = 1.25\n")
    assert (a.inp.child("B0001").granted_nights, a.inp.child("B0001").level) == (38, 3)
    assert (a.inp.child("B0002").granted_nights, a.inp.child("B0002").level) == (25, 2)
    assert any("1 children change level" in c for c in a.changes)


def test_add_children(tmp_path: Path, base_dir: Path) -> None:
    a = applied(
        tmp_path,
        "[[demand.add_children]]\ncount = 3\ncategory = '4'\nlevel = 1\npattern = 'weekend'\n"
        "[[demand.add_children]]\ncount = 1\ncategory = 5\nlevel = 6\nprefix = 'R'\n",
    )
    new = [c for c in a.inp.children if not a.base.has_child(c.child_id)]
    assert [c.child_id for c in new] == ["S0001", "S0002", "S0003", "R0001"]
    assert all(c.category == "4" and c.pattern.value == "weekend" for c in new[:3])
    assert all(1 <= c.granted_nights <= 7 for c in new[:3])
    assert new[3].granted_nights == 7 and new[3].level == 6  # every night of the round
    assert all(c.vedtak_from == a.inp.config.start for c in new)


def test_generator_replaces_the_roster(tmp_path: Path, base_dir: Path) -> None:
    text = "[demand.generate]\nseed = {seed}\nscale = 0.2\n"
    one = applied(tmp_path, text.format(seed=4))
    again = applied(tmp_path, text.format(seed=4))
    other = applied(tmp_path, text.format(seed=5))
    assert input_hash(one.inp) == input_hash(again.inp) != input_hash(other.inp)
    assert one.inp.houses == one.base.houses  # the base's houses stay
    assert {c.child_id for c in one.inp.children} != {c.child_id for c in one.base.children}
    ids = {h.house_id for h in one.inp.houses}
    assert all(c.home_house is None or c.home_house in ids for c in one.inp.children)


def test_round_length(tmp_path: Path, base_dir: Path) -> None:
    a = applied(tmp_path, "[round]\nstart = 2027-01-07\nend = 2027-01-10\n")
    cfg = a.inp.config
    assert (cfg.start, cfg.end, cfg.n_nights) == (dt.date(2027, 1, 7), dt.date(2027, 1, 10), 4)
    # Grants scale with the vedtak's round nights (7 → 4): 5 → 3, 3 → 2, 4 → 2; level 6 → 4.
    got = {c.child_id: c.granted_nights for c in a.inp.children}
    assert got == {"B0001": 3, "B0002": 2, "B0003": 2, "B0004": 4}
    assert "end 2027-01-01 is before" in rejected(tmp_path, "[round]\nend = 2027-01-01\n")[0]


def test_weights_and_solver_settings(tmp_path: Path, base_dir: Path) -> None:
    a = applied(
        tmp_path,
        "[weights]\nhouse_used = 5\n[round]\ntime_limit = 3\nseed = 9\nmethod = 'monolithic'\n",
    )
    cfg = a.inp.config
    assert cfg.weights.house_used == 5 and cfg.weights.nights == a.base.config.weights.nights
    assert (cfg.time_limit, cfg.seed, cfg.method) == (3, 9, "monolithic")


def test_residents_over_capacity(tmp_path: Path, base_dir: Path) -> None:
    text = "[houses.bb]\nplaces = 0\n"
    kept = applied(tmp_path, text)
    assert kept.inp.child("B0004").level == 6  # left for the planner to name
    moved = applied(tmp_path, text + "[demand]\nresidents_over_capacity = 'respite'\n")
    b4 = moved.inp.child("B0004")
    assert (b4.level, b4.granted_nights, b4.home_house) == (5, 6, None)
