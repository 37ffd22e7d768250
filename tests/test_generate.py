"""generate_round (synthetic Bergen rounds) and write_round (contract-v1 folders)."""

from __future__ import annotations

import csv
import datetime as dt
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from allocator.calendar import RoundCalendar
from allocator.generate import (
    GROUP_OF_CATEGORY,
    GROUPS,
    WEEKEND_SHARE,
    generate_round,
    granted_by_group,
    group_capacity,
    group_shares,
    level_band,
    main,
    open_places,
    usable_capacity,
)
from allocator.io.write_input import (
    CALENDAR_HEADER,
    CHILDREN_HEADER,
    CLOSURES_HEADER,
    HOUSES_HEADER,
    INCOMPATIBLE_HEADER,
    UNAVAILABLE_HEADER,
    WISHES_HEADER,
    write_round,
)
from models.inputs import HouseKind, Pattern, UnavailableReason, WishKind
from models.round_input import RoundInput

SEED_IDS = [
    "holbekken",
    "sandalstunet",
    "sverresborg",
    "svartedikerveien",
    "asane",
    "olav-bjordalsvei",
    "vadmyra",
    "vestlund",
    "utsikten",
    "ny-barnebolig",
    "fayehagen",
    "christiegarden",
    "omsorgshjelperen",
    "vevlestova",
    "svanetangen",
]


@pytest.fixture(scope="module")
def bergen() -> RoundInput:
    return generate_round(scale=1, seed=1, demand=1.0)


def _respite_share(inp: RoundInput) -> float:
    usable = sum(
        usable_capacity(h, inp.config, inp.closures)
        for h in inp.houses
        if h.kind is HouseKind.AVLASTNINGSBOLIG
    )
    granted = sum(c.granted_nights for c in inp.children if c.level < 6)
    return granted / usable


def _away(inp: RoundInput) -> dict[str, set[dt.date]]:
    away: dict[str, set[dt.date]] = {}
    for u in inp.unavailable:
        away.setdefault(u.child_id, set()).update(u.nights())
    return away


# ------------------------------------------------------------------------------ determinism


def test_same_seed_same_round() -> None:
    assert generate_round(seed=7) == generate_round(seed=7)
    assert generate_round(seed=7).children != generate_round(seed=8).children


# ------------------------------------------------------------------------------ houses


def test_houses_follow_the_seed_table(bergen: RoundInput) -> None:
    assert [h.house_id for h in bergen.houses] == SEED_IDS
    by_id = {h.house_id: h for h in bergen.houses}
    assert by_id["asane"].name == "Åsane avlastningsbolig"
    assert sum(h.places for h in bergen.houses) == 71
    assert bergen.barnebolig_ids() == ["utsikten", "ny-barnebolig"]
    assert by_id["olav-bjordalsvei"].categories == {"P"}
    assert by_id["sandalstunet"].categories == {"2", "3"}
    assert by_id["sandalstunet"].conditional_categories == {"4"}
    assert by_id["omsorgshjelperen"].categories == {"2", "3", "4", "5"}
    for house_id in ("vevlestova", "svanetangen"):
        house = by_id[house_id]
        assert house.places == 0 and not house.categories and not house.night_watch
    assert all(h.night_watch for h in bergen.houses if h.places > 0)
    assert all(h.price_per_night > 0 for h in bergen.houses)


def test_config_defaults(bergen: RoundInput) -> None:
    config = bergen.config
    assert config.acute_reserve == {
        "holbekken": 1,
        "vadmyra": 1,
        "vestlund": 1,
        "omsorgshjelperen": 1,
    }
    assert (config.time_limit, config.seed, config.workers) == (60, 1, 2)
    assert config.start == dt.date(2027, 1, 1) and config.end == dt.date(2027, 6, 30)


def test_one_closure_in_march(bergen: RoundInput) -> None:
    (closure,) = bergen.closures
    assert closure.house_id == "sverresborg" and closure.places_closed == 2
    assert closure.from_.month == 3 and (closure.to - closure.from_).days == 13


def test_calendar_rows_cover_the_round(bergen: RoundInput) -> None:
    kinds = Counter(row.kind for row in bergen.calendar)
    assert kinds["public_holiday"] == 11 and kinds["school_holiday"] >= 5


# ------------------------------------------------------------------------------ children


def test_roster_size_levels_and_categories(bergen: RoundInput) -> None:
    assert 300 <= len(bergen.children) <= 400
    assert {c.level for c in bergen.children} == {1, 2, 3, 4, 5, 6}
    assert {c.category for c in bergen.children} == {"2", "3", "4", "5", "P"}
    levels = Counter(c.level for c in bergen.children)
    assert levels[1] + levels[2] + levels[3] > 3 * (levels[4] + levels[5])


def test_ids_are_unique_pseudonyms(bergen: RoundInput) -> None:
    ids = [c.child_id for c in bergen.children]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"B\d{4,}", i) for i in ids)


def test_barnebolig_residents_fill_the_places(bergen: RoundInput) -> None:
    residents = [c for c in bergen.children if c.level == 6]
    places = {h.house_id: h.places for h in bergen.houses if h.kind is HouseKind.BARNEBOLIG}
    assert len(residents) == sum(places.values()) == 6
    assert Counter(c.home_house for c in residents) == places
    for child in residents:
        assert child.category == "5" and child.interdisciplinary_assessment
        assert child.granted_nights == len(bergen.nights)
        assert (child.vedtak_from, child.vedtak_to) == (bergen.config.start, bergen.config.end)
    assert all(c.home_house not in places for c in bergen.children if c.level < 6)


def test_grants_fill_usable_capacity(bergen: RoundInput) -> None:
    assert 0.95 <= _respite_share(bergen) <= 1.03
    capacity, granted = group_capacity(bergen), granted_by_group(bergen)
    for group in GROUPS:
        assert 0.97 <= granted[group] / capacity[group] <= 1.0, group


def test_demand_115_oversubscribes() -> None:
    inp = generate_round(demand=1.15)
    assert 1.11 <= _respite_share(inp) <= 1.17
    capacity, granted = group_capacity(inp), granted_by_group(inp)
    assert all(1.11 <= granted[g] / capacity[g] <= 1.17 for g in GROUPS)


def test_grants_inside_level_bands_and_available_nights(bergen: RoundInput) -> None:
    away = _away(bergen)
    for child in bergen.children:
        if child.level == 6:
            continue
        span = (child.vedtak_to - child.vedtak_from).days + 1
        low, high = level_band(child.level, span)
        assert low <= child.granted_nights <= high, child
        free = span - len(away.get(child.child_id, set()))
        assert child.granted_nights <= free, child
        assert child.interdisciplinary_assessment is (child.level == 5)


def test_level_bands_for_a_half_year() -> None:
    bands = [level_band(level, 181) for level in range(1, 6)]
    assert bands == [(4, 18), (19, 36), (37, 60), (61, 90), (91, 137)]


def test_home_houses_accept_the_child(bergen: RoundInput) -> None:
    respite = [c for c in bergen.children if c.level < 6]
    with_home = [c for c in respite if c.home_house]
    assert 0.6 <= len(with_home) / len(respite) <= 0.8
    for child in with_home:
        house = bergen.house(child.home_house or "")
        assert house.accepts(child.category)
        assert group_shares(house).get(GROUP_OF_CATEGORY[child.category], 0) > 0


def test_ages_and_under_10_exception(bergen: RoundInput) -> None:
    start = bergen.config.start
    for child in bergen.children:
        born = child.birth_date
        age = start.year - born.year - ((start.month, start.day) < (born.month, born.day))
        assert 6 <= age <= 17
        assert child.under_10_exception is (age < 10)
        if child.under_10_exception:
            assert child.category in {"4", "5", "P"}


def test_some_vedtak_are_partial(bergen: RoundInput) -> None:
    respite = [c for c in bergen.children if c.level < 6]
    partial = [
        c
        for c in respite
        if (c.vedtak_from, c.vedtak_to) != (bergen.config.start, bergen.config.end)
    ]
    assert 0.04 <= len(partial) / len(respite) <= 0.18
    assert all(
        bergen.config.start <= c.vedtak_from <= c.vedtak_to <= bergen.config.end for c in partial
    )


def test_patterns(bergen: RoundInput) -> None:
    patterns = Counter((c.level, c.pattern) for c in bergen.children)
    assert set(c.pattern for c in bergen.children) == set(Pattern)
    low_weekend = patterns[1, Pattern.WEEKEND] + patterns[2, Pattern.WEEKEND]
    assert low_weekend > patterns[4, Pattern.WEEKEND] + patterns[5, Pattern.WEEKEND]


def test_weekend_pattern_fits_weekend_places(bergen: RoundInput) -> None:
    cal = RoundCalendar.build(bergen.config.start, bergen.config.end, bergen.calendar)
    weekend = cal.weekend_indices()
    places = dict.fromkeys(GROUPS, 0.0)
    for house in bergen.houses:
        free = open_places(house, bergen.config, bergen.closures)
        for group, share in group_shares(house).items():
            places[group] += share * sum(free[i] for i in weekend)
    demand = Counter[str]()
    for child in bergen.children:
        if child.pattern is Pattern.WEEKEND:
            demand[GROUP_OF_CATEGORY[child.category]] += child.granted_nights
    for group in GROUPS:
        assert demand[group] <= WEEKEND_SHARE * places[group] + 1e-9, group


# ------------------------------------------------------------------------------ absences, wishes


def test_unavailable_rows(bergen: RoundInput) -> None:
    reasons = Counter(u.reason for u in bergen.unavailable)
    assert reasons[UnavailableReason.SOMMERLEIR] > 0
    assert reasons[UnavailableReason.FERIETILBUD] > 0
    assert reasons[UnavailableReason.FAMILY] > 0
    for u in bergen.unavailable:
        child = bergen.child(u.child_id)
        assert child.vedtak_from <= u.from_ <= u.to <= child.vedtak_to
        if u.reason is UnavailableReason.SOMMERLEIR:
            assert child.category == "2" and u.from_ >= dt.date(2027, 6, 28)
            assert (u.to - u.from_).days < 12
        if u.reason is UnavailableReason.FERIETILBUD:
            assert child.birth_date.year + 18 == 2027 and child.category != "P"
            assert u.from_ >= dt.date(2027, 6, 21)
    for child_id, rows in Counter(u.child_id for u in bergen.unavailable).items():
        nights = [n for u in bergen.unavailable if u.child_id == child_id for n in u.nights()]
        assert len(nights) == len(set(nights)), f"overlapping absences for {child_id} ({rows})"


def test_wishes(bergen: RoundInput) -> None:
    respite = [c for c in bergen.children if c.level < 6]
    wanting = {w.child_id for w in bergen.wishes if w.kind is WishKind.WANT}
    avoiding = {w.child_id for w in bergen.wishes if w.kind is WishKind.AVOID}
    assert 0.3 <= len(wanting) / len(respite) <= 0.5
    assert 0.12 <= len(avoiding) / len(respite) <= 0.28
    away = _away(bergen)
    for wish in bergen.wishes:
        child = bergen.child(wish.child_id)
        assert child.vedtak_from <= wish.from_ <= wish.to <= child.vedtak_to
        if wish.kind is WishKind.WANT:
            assert 1 <= wish.weight <= 5 and (wish.to - wish.from_).days <= 3
            assert not away.get(wish.child_id, set()) & set(wish.nights())
        else:
            assert 5 <= wish.weight <= 10


def test_incompatible_pairs_within_a_group(bergen: RoundInput) -> None:
    pairs = bergen.incompatible
    assert abs(len(pairs) - len(bergen.children) / 40) <= 2
    for pair in pairs:
        a, b = bergen.child(pair.child_a), bergen.child(pair.child_b)
        assert GROUP_OF_CATEGORY[a.category] == GROUP_OF_CATEGORY[b.category]
        assert a.level < 6 and b.level < 6
    assert len({(p.child_a, p.child_b) for p in pairs}) == len(pairs)


def test_max_flow_bound_reaches_the_grants(bergen: RoundInput) -> None:
    bound = pytest.importorskip("allocator.check.bound")
    away = _away(bergen)
    reachable = sum(
        min(c.granted_nights, len(bergen.nights) - len(away.get(c.child_id, set())))
        for c in bergen.children
    )
    assert bound.max_flow_bound(bergen) == reachable


# ------------------------------------------------------------------------------ scale, dates


@pytest.mark.parametrize("scale", [5, 10])
def test_scaled_rounds(scale: int) -> None:
    inp = generate_round(scale=scale)
    assert len(inp.houses) == 15 * scale
    assert inp.has_house(f"vestlund-{scale}")
    assert inp.house(f"asane-{scale}").name == f"Åsane avlastningsbolig {scale}"
    assert sum(c.level == 6 for c in inp.children) == 6 * scale
    assert 300 * scale <= len(inp.children) <= 400 * scale
    assert len(inp.config.acute_reserve) == 4 * scale
    assert 0.95 <= _respite_share(inp) <= 1.03
    assert len({c.child_id for c in inp.children}) == len(inp.children)


def test_second_half_year() -> None:
    inp = generate_round(start=dt.date(2027, 7, 1), end=dt.date(2027, 12, 31))
    assert 0.95 <= _respite_share(inp) <= 1.03
    trips = [u for u in inp.unavailable if u.reason is UnavailableReason.FERIETILBUD]
    assert trips and all(u.from_.isocalendar().week == 28 for u in trips)
    (closure,) = inp.closures
    assert inp.config.start <= closure.from_ <= closure.to <= inp.config.end


def test_small_scale_and_bad_arguments() -> None:
    small = generate_round(scale=0.3)
    assert sum(h.places for h in small.houses) < 71
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="scale"):
            generate_round(scale=bad)
    with pytest.raises(ValueError, match="demand"):
        generate_round(demand=-0.1)


# ------------------------------------------------------------------------------ write_round


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_write_round_files_and_headers(bergen: RoundInput, tmp_path: Path) -> None:
    out = tmp_path / "round"
    write_round(bergen, out)
    headers = {
        "houses.csv": HOUSES_HEADER,
        "children.csv": CHILDREN_HEADER,
        "unavailable.csv": UNAVAILABLE_HEADER,
        "wishes.csv": WISHES_HEADER,
        "incompatible.csv": INCOMPATIBLE_HEADER,
        "closures.csv": CLOSURES_HEADER,
        "calendar.csv": CALENDAR_HEADER,
    }
    assert sorted(p.name for p in out.iterdir()) == sorted([*headers, "round.toml"])
    for name, header in headers.items():
        rows = _read(out / name)
        assert tuple(rows[0]) == header, name
    assert tuple(_read(out / "houses.csv")[0][:5]) == (
        "house_id",
        "name",
        "kind",
        "owner",
        "places",
    )
    houses = {row[0]: row for row in _read(out / "houses.csv")[1:]}
    assert houses["sandalstunet"][5:8] == ["2;3", "4", "true"]
    assert houses["vevlestova"][4:8] == ["0", "", "", "false"]
    assert houses["asane"][1] == "Åsane avlastningsbolig"
    assert len(_read(out / "children.csv")) == len(bergen.children) + 1
    child = _read(out / "children.csv")[1]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", child[1]) and child[9] in {"true", "false"}
    config = tomllib.loads((out / "round.toml").read_text(encoding="utf-8"))
    assert config["start"] == dt.date(2027, 1, 1) and config["end"] == dt.date(2027, 6, 30)
    assert config["acute_reserve"]["vestlund"] == 1
    assert config["weights"] == bergen.config.weights.model_dump()
    assert (config["time_limit"], config["seed"], config["workers"]) == (60, 1, 2)


def test_write_round_empty_tables_keep_headers(bergen: RoundInput, tmp_path: Path) -> None:
    bare = RoundInput(config=bergen.config, houses=bergen.houses, children=bergen.children[:3])
    write_round(bare, tmp_path / "bare")
    for name, header in [("wishes.csv", WISHES_HEADER), ("closures.csv", CLOSURES_HEADER)]:
        assert _read(tmp_path / "bare" / name) == [list(header)]


def test_write_round_replaces_the_folder_and_keeps_other_files(
    bergen: RoundInput, tmp_path: Path
) -> None:
    out = tmp_path / "round"
    out.mkdir()
    (out / "README.md").write_text("keep me", encoding="utf-8")
    (out / "children.csv").write_text("stale", encoding="utf-8")
    write_round(bergen, out)
    assert (out / "README.md").read_text(encoding="utf-8") == "keep me"
    assert _read(out / "children.csv")[0] == list(CHILDREN_HEADER)
    assert [p.name for p in tmp_path.iterdir()] == ["round"]  # no temporary folders left


def test_write_then_read_round_trips(bergen: RoundInput, tmp_path: Path) -> None:
    reader = pytest.importorskip("allocator.io.reader")
    write_round(bergen, tmp_path / "round")
    back = reader.read_round(tmp_path / "round")
    assert back.config == bergen.config
    assert back.houses == bergen.houses and back.children == bergen.children
    assert back.unavailable == bergen.unavailable and back.wishes == bergen.wishes
    assert back.incompatible == bergen.incompatible and back.closures == bergen.closures
    assert back.calendar == bergen.calendar


def test_main_writes_a_round(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seed", "3", "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "houses.csv").exists()
    assert "group 23" in capsys.readouterr().out
    assert main(["--scale", "1.5", "--out", str(tmp_path / "bad")]) == 2
