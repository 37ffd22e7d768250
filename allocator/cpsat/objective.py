"""Objective terms, one function each, heaviest first (issue 4 "Objective").

Every term is a penalty to minimise (a reward enters with a minus sign) and has a stage:
stage 1 decides how many nights each child gets and how fairly a shortfall is shared; stage 2
holds that level and shapes the stays, the houses and the wishes. A term is added only when its
weight is above zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from allocator.cpsat.variables import Variables
from allocator.instance import ChildData, Instance, share_rows, shortfall_floors
from models.config import ObjectiveWeights
from models.inputs import Pattern


@dataclass(frozen=True)
class Term:
    name: str
    expr: cp_model.LinearExprT
    stage: int


def nights_given(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """Nights given: every bed-night counts ("bidra til full utnyttelse ... av samtlige 71
    avlastningsplasser")."""
    if w.nights <= 0:
        return None
    return Term("nights_given", -w.nights * sum(v.allocated.values()), 1)


def worst_child_share(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """Shortfall shared fairly: the worst child's share of its grant counts, not only the total
    ("likebehandling"). Share in percent of the nights the child can get (its grant, or fewer
    when it is away more), so a long summer camp does not pin the minimum."""
    if w.worst_child <= 0:
        return None
    worst = model.new_int_var(0, 100, "worst_share")
    v.worst_share = worst
    for child in inst.children:
        if child.target > 0 and not child.is_resident:
            model.add(100 * v.allocated[child.idx] >= child.target * worst)
    return Term("worst_child_share", -w.worst_child * worst, 1)


def deep_shortfall(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """Each night a child falls below ``fair_floor_percent`` of its grant costs extra, and again
    below each step under it (`allocator.instance.shortfall_floors`), so the shortfall is
    spread over many children rather than heaped on a few."""
    if w.deep_shortfall <= 0:
        return None
    terms = []
    for child in inst.children:
        if child.is_resident:
            continue
        for i, floor in enumerate(shortfall_floors(child.target, w)):
            deep = model.new_int_var(0, floor, f"deep_{child.idx}_{i}")
            model.add(deep >= floor - v.allocated[child.idx])
            v.deep_shortfall[(child.idx, i)] = deep
            v.deep_floor[(child.idx, i)] = floor
            terms.append(deep)
    return Term("deep_shortfall", w.deep_shortfall * sum(terms), 1)


def _define_stay_shape(model: cp_model.CpModel, inst: Instance, v: Variables) -> None:
    """``stay_start[c, n]`` ≥ in respite on n but not on n − 1; ``single_night[c, n]`` ≥ in
    respite on n but neither on n − 1 nor on n + 1. Both are minimised, so they are exact."""
    if v.stay_start:
        return
    for child in inst.children:
        if child.is_resident:
            continue
        c = child.idx
        for n in child.available:
            here = v.occupied(c, n)
            if here is None:
                continue
            neighbours = [y for y in (v.occupied(c, n - 1), v.occupied(c, n + 1)) if y is not None]
            before = v.occupied(c, n - 1)
            start = model.new_bool_var(f"start_{c}_{n}")
            model.add(start >= here - before) if before is not None else model.add(start >= here)
            single = model.new_bool_var(f"single_{c}_{n}")
            model.add(single >= here - cp_model.LinearExpr.sum(neighbours))
            v.stay_start[(c, n)] = start
            v.single_night[(c, n)] = single


def stays(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """Nights as few well-shaped stays rather than scattered single nights: each stay costs."""
    if w.stay <= 0:
        return None
    _define_stay_shape(model, inst, v)
    return Term("stays", w.stay * sum(v.stay_start.values()), 2)


def single_nights(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """ "As few single-night stays as the rules allow"."""
    if w.single_night <= 0:
        return None
    _define_stay_shape(model, inst, v)
    return Term("single_nights", w.single_night * sum(v.single_night.values()), 2)


def off_pattern_nights(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """Nights laid in the family's pattern: weekend = Friday and Saturday nights, weekdays =
    Sunday to Thursday nights. A night outside the pattern costs, unless the family asked for
    it (`Instance.off_pattern`)."""
    if w.off_pattern_night <= 0:
        return None
    off = []
    for child in inst.children:
        if child.pattern not in (Pattern.WEEKEND, Pattern.WEEKDAYS) or child.is_resident:
            continue
        off += [v.night[key] for key in v.by_child[child.idx] if inst.off_pattern(child, key[2])]
    return Term("off_pattern_nights", w.off_pattern_night * sum(off), 2)


def long_gaps(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """A steady rhythm: "gaps between stays are even" (issue 5). Each rhythm window (one and a
    half even gaps, see `allocator.rhythm`) in which the family has no night costs."""
    if w.long_gap <= 0:
        return None
    from allocator.rhythm import rhythm_windows

    breaks = []
    for child in inst.children:
        for k, window in enumerate(rhythm_windows(child)):
            present = [y for n in window if (y := v.occupied(child.idx, n)) is not None]
            if not present:
                continue
            gap = model.new_bool_var(f"gap_{child.idx}_{k}")
            model.add(cp_model.LinearExpr.sum(present) + gap >= 1)
            breaks.append(gap)
    if not breaks:
        return None
    return Term("long_gaps", w.long_gap * cp_model.LinearExpr.sum(breaks), 2)


def houses_used(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """One house per child: each house a child uses costs, so switches are rare."""
    if w.house_used <= 0:
        return None
    used = []
    for child in inst.children:
        per_house: dict[int, list] = {}
        for key in v.by_child[child.idx]:
            per_house.setdefault(key[1], []).append(v.night[key])
        for h, nights in per_house.items():
            u = model.new_bool_var(f"used_{child.idx}_{h}")
            model.add(sum(nights) <= min(len(nights), child.granted) * u)
            v.house_used[(child.idx, h)] = u
            used.append(u)
    return Term("houses_used", w.house_used * sum(used), 2)


def away_from_home(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """Children kept in a house they know: a night outside the home house costs."""
    if w.away_from_home_night <= 0:
        return None
    away = [
        v.night[key]
        for child in inst.children
        if child.home_house is not None
        for key in v.by_child[child.idx]
        if key[1] != child.home_house
    ]
    return Term("away_from_home", w.away_from_home_night * sum(away), 2)


def wishes(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """Families' wishes met: a night on a want-date earns its weight; a night on an avoid-date
    costs its weight."""
    parts = []
    for child in inst.children:
        for key in v.by_child[child.idx]:
            n = key[2]
            if n in child.want_weight and w.wish_night > 0:
                parts.append(-w.wish_night * child.want_weight[n] * v.night[key])
            if n in child.avoid_weight and w.avoid_night > 0:
                parts.append(w.avoid_night * child.avoid_weight[n] * v.night[key])
    if not any(child.want_weight or child.avoid_weight for child in inst.children):
        return None
    return Term("wishes", cp_model.LinearExpr.sum(parts), 2)


def wishes_met(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """Families' wishes met: a want-wish counts as met only when the child has every night of
    it, so a whole wish earns a bonus on top of its nights."""
    if w.wish_met <= 0:
        return None
    rewards = []
    for child in inst.children:
        for nights, weight in child.want_wishes:
            present = [v.occupied(child.idx, n) for n in nights]
            if not present or any(y is None for y in present) or weight <= 0:
                continue
            met = model.new_bool_var(f"wish_{child.idx}_{nights[0]}")
            for y in present:
                assert y is not None
                model.add_implication(met, y)
            rewards.append(weight * met)
    if not rewards:
        return None
    return Term("wishes_met", -w.wish_met * cp_model.LinearExpr.sum(rewards), 2)


def conditional_placements(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """A conditional category such as "(4)" is allowed but a worse fit: each night costs."""
    if w.conditional_night <= 0:
        return None
    nights = [
        v.night[key]
        for child in inst.children
        for key in v.by_child[child.idx]
        if key[1] in child.conditional
    ]
    return Term("conditional_placements", w.conditional_night * sum(nights), 2)


def fair_share(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """Weekends and holidays shared fairly ("likebehandling"): each family's nights of each
    high-demand kind follow its nights ("a family with twice the nights gets about twice the
    weekends"): share = its nights × the share of its available nights that are of that kind,
    scaled so that families of one pattern share what they get together, minus its balance
    from earlier rounds (a family that got less last time comes first now). Each night beyond
    ``share_tolerance_nights`` costs. See `allocator.demand.fair_shares`."""
    if w.share_deviation_night <= 0 or not inst.demand:
        return None
    if inst.shares_at_plan_level:
        deviations = _deviations_at_plan_level(model, inst, v)
    else:
        deviations = _deviations_from_shares(model, inst, v)
    if not deviations:
        return None
    return Term("fair_share", w.share_deviation_night * cp_model.LinearExpr.sum(deviations), 2)


def _deviations_from_shares(
    model: cp_model.CpModel, inst: Instance, v: Variables
) -> list[cp_model.IntVar]:
    """Nights beyond the tolerance by which each family strays from its share at the level
    set beforehand (`Instance.demand_scale`)."""
    deviations = []
    for child in inst.children:
        for row in share_rows(inst, child):
            got = [y for n in row.nights if (y := v.occupied(child.idx, n)) is not None]
            gap = (
                row.per_got * cp_model.LinearExpr.sum(got)
                - row.per_night * v.allocated[child.idx]
                + row.offset
            )
            name = f"dev_{row.kind}_{child.idx}"
            deviations.append(
                _nights_beyond(model, gap, row.per_got, row.slack, len(row.nights), name)
            )
    return deviations


def _nights_beyond(
    model: cp_model.CpModel,
    gap: cp_model.LinearExprT,
    unit: int,
    slack: int,
    nights: int,
    name: str,
) -> cp_model.IntVar:
    """Whole nights by which ``gap`` (got − share, in ``unit`` a night) strays beyond
    ``slack`` on either side: the variable the fair-share term costs."""
    dev = model.new_int_var(0, nights + 1000, name)
    model.add(unit * dev >= gap - slack)
    model.add(unit * dev >= -gap - slack)
    return dev


#: Fixed-point unit of a share at the plan's level: a family's share is its part of its
#: group's nights in steps of 1/100,000, so rounding moves a share by under 0.01 night.
PLAN_LEVEL_UNIT = 100_000


def _deviations_at_plan_level(
    model: cp_model.CpModel, inst: Instance, v: Variables
) -> list[cp_model.IntVar]:
    """`Instance.shares_at_plan_level`: the families of one pattern share the holiday kind's
    nights they get together, each by its reachable grant × the share of its available nights that
    are of that kind (the grant stands in for its nights, which the model has yet to choose:
    share = together × part, linear). No level is imposed, so no family is pushed to take a
    kind's nights from families of another pattern."""
    groups: dict[tuple[str, str], list[tuple[ChildData, float, list[cp_model.IntVar]]]] = {}
    for child in inst.children:
        for row in share_rows(inst, child):
            got = [y for n in row.nights if (y := v.occupied(child.idx, n)) is not None]
            part = child.target * len(row.nights) / len(child.available)
            groups.setdefault((row.kind, str(child.pattern)), []).append((child, part, got))
    unit = PLAN_LEVEL_UNIT
    slack = unit * inst.share_tolerance
    deviations = []
    for (kind, pattern), members in groups.items():
        whole = sum(part for _child, part, _got in members)
        if len(members) < 2 or whole <= 0:
            continue
        everyone = [y for _child, _part, got in members for y in got]
        together = model.new_int_var(0, len(everyone), f"together_{kind}_{pattern}")
        model.add(together == cp_model.LinearExpr.sum(everyone))
        for child, part, got in members:
            gap = (
                unit * cp_model.LinearExpr.sum(got)
                - round(unit * part / whole) * together
                + round(unit * child.balance.get(kind, 0.0))
            )
            name = f"dev_{kind}_{child.idx}"
            deviations.append(_nights_beyond(model, gap, unit, slack, len(got), name))
    return deviations


def moved_nights(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights
) -> Term | None:
    """``plan --keep``: re-plan while moving as few nights of the kept plan as possible."""
    if w.moved_night <= 0 or not any(c.previous for c in inst.children):
        return None
    moved = []
    for child in inst.children:
        for h, n in child.previous:
            var = v.night.get((child.idx, h, n))
            moved.append(1 - var if var is not None else 1)
    return Term("moved_nights", w.moved_night * cp_model.LinearExpr.sum(moved), 2)


TermBuilder = Callable[[cp_model.CpModel, Instance, Variables, ObjectiveWeights], Term | None]

ALL_TERMS: tuple[TermBuilder, ...] = (
    nights_given,
    worst_child_share,
    deep_shortfall,
    stays,
    single_nights,
    off_pattern_nights,
    long_gaps,
    houses_used,
    away_from_home,
    wishes,
    wishes_met,
    conditional_placements,
    fair_share,
    moved_nights,
)


STAGE_OF: dict[TermBuilder, int] = {
    nights_given: 1,
    worst_child_share: 1,
    deep_shortfall: 1,
}


def add_terms(
    model: cp_model.CpModel, inst: Instance, v: Variables, w: ObjectiveWeights, stage: int
) -> list[Term]:
    """Build the terms of ``stage`` that have a positive weight. Stage-2 terms are built only
    when stage 2 starts, so stage 1 searches a smaller model."""
    builders = [b for b in ALL_TERMS if STAGE_OF.get(b, 2) == stage]
    return [t for build in builders if (t := build(model, inst, v, w)) is not None]
