"""Between two rounds, on the published plan in the store: ``acute``, ``cancel``,
``free-nights`` and ``offer`` (issue 6).

Each reads the newest version of the plan and the round's input (the folder recorded when the
round was published, or ``--input``); ``acute``, ``cancel`` and ``offer`` show what would
change and, unless ``--dry-run``, write it as a new version with an audit line (``--yes``
skips the question). The plan is checked against every hard rule before it is written.

Exit codes: 0 done (or nothing to do); 1 refused (no room, a broken rule, the store busy or
changed meanwhile); 2 bad input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from allocator.commands.store_cmds import (
    EXIT_REFUSED,
    DbOption,
    _fail_input,
    _fail_store,
    _who,
    err,
    out,
)
from allocator.io.errors import InputError, Problem
from allocator.store import RoundChildInfo
from models.inputs import Child
from models.outputs import Booking
from models.round_input import RoundInput

InputOption = Annotated[
    Path | None,
    typer.Option(
        "--input",
        help="The round's input (default: the folder recorded when the round was published).",
    ),
]
FromOption = Annotated[
    dt.datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First night.")
]
ToOption = Annotated[dt.datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last night.")]
TodayOption = Annotated[
    dt.datetime | None,
    typer.Option(
        "--today", formats=["%Y-%m-%d"], help="Nights before this are history (default: today)."
    ),
]
WhoOption = Annotated[str | None, typer.Option("--who", help="Who (default: $USER).")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show the change, write nothing.")]
YesOption = Annotated[bool, typer.Option("--yes", help="Write the change without asking.")]


@dataclass
class _Plan:
    version: int
    inp: RoundInput
    bookings: list[Booking]


def _load(db: str | None, input_path: Path | None) -> _Plan:
    """The newest version's bookings (with their kinds) and the round's input."""
    from allocator.io.reader import read_round
    from allocator.store import StoreError, open_store

    try:
        with open_store(db) as store:
            versions = store.history()
            if not versions:
                raise _fail_store("nothing is published yet: run `allocator publish` first")
            newest = versions[-1]
            plain = store.bookings(newest.version)
            kinds = store.booking_kinds(newest.version)
            stored = store.round_children(newest.version)
    except StoreError as exc:
        raise _fail_store(str(exc)) from None
    source = input_path or (Path(newest.input_source) if newest.input_source else None)
    if source is None or not source.exists():
        raise _fail_input(
            InputError(
                [
                    Problem(
                        str(source or "--input"),
                        None,
                        None,
                        "the round's input is not there: give it with --input",
                    )
                ]
            )
        )
    try:
        inp = read_round(source)
    except InputError as exc:
        raise _fail_input(exc) from None
    bookings = [
        Booking(b.child_id, b.house_id, b.night, kinds.get((b.child_id, b.night), "planned"))
        for b in plain
    ]
    return _Plan(newest.version, inp.with_children(_stored_children(inp, stored)), bookings)


def _day(value: dt.datetime | None) -> dt.date:
    return value.date() if value is not None else dt.date.today()


def _commit(
    plan: _Plan,
    bookings: list[Booking],
    *,
    extra: Sequence[Child] = (),
    db: str | None,
    action: str,
    who: str | None,
    why: str,
    detail: str,
    dry_run: bool,
    yes: bool,
) -> None:
    """Check the new plan against every hard rule, ask, and write it as a new version."""
    from allocator.check import check_plan
    from allocator.store import StoreError, open_store

    violations = check_plan(plan.inp.with_children(extra), bookings)
    if violations:
        err.print(f"[red]Refused:[/red] the change would break {len(violations)} hard rule(s):")
        for v in violations[:10]:
            err.print(f"  {v.rule}: {v.message}", markup=False, highlight=False)
        raise typer.Exit(EXIT_REFUSED)
    if dry_run:
        out.print("Dry run: nothing written.", highlight=False)
        return
    if not yes and not typer.confirm(f"Write this as a new version after {plan.version}?"):
        out.print("Nothing written.", highlight=False)
        return
    kinds = {(b.child_id, b.night): b.kind for b in bookings if b.kind != "planned"}
    try:
        with open_store(db) as store:
            version = store.commit_change(
                parent=plan.version,
                bookings=bookings,
                kinds=kinds,
                action=action,
                who=_who(who),
                why=why,
                detail=detail,
                new_children=_new_children(plan.inp, bookings, extra),
            )
    except StoreError as exc:
        raise _fail_store(str(exc)) from None
    out.print(f"Written as version {version} ({action}).", highlight=False)


def _new_children(
    inp: RoundInput, bookings: list[Booking], extra: Sequence[Child]
) -> list[RoundChildInfo]:
    """Children outside the round's input with nights in the plan (an acute child given
    inline, a new applicant), stored with the version so later commands know them."""
    booked = {b.child_id for b in bookings}
    return [
        RoundChildInfo(
            c.child_id,
            c.granted_nights,
            sum(1 for b in bookings if b.child_id == c.child_id),
            str(c.pattern),
            str(c.category),
            c.level,
        )
        for c in extra
        if c.child_id in booked and not inp.has_child(c.child_id)
    ]


def _stored_children(inp: RoundInput, stored: Sequence[RoundChildInfo]) -> list[Child]:
    """The children an earlier change added to the round (see `_new_children`)."""
    return [
        Child.model_validate(
            {
                "child_id": info.child_id,
                "birth_date": inp.config.start.replace(year=inp.config.start.year - 12),
                "category": info.category,
                "level": info.level,
                "granted_nights": info.granted,
                "vedtak_from": inp.config.start,
                "vedtak_to": inp.config.end,
            }
        )
        for info in stored
        if not inp.has_child(info.child_id)
    ]


def acute(
    child_id: Annotated[str, typer.Argument(help="The child (pseudonymous id).")],
    first: FromOption,
    last: ToOption,
    category: Annotated[
        str | None, typer.Option("--category", help="For a child not in the round: 2 3 4 5 P.")
    ] = None,
    age: Annotated[int | None, typer.Option("--age", help="For a child not in the round.")] = None,
    max_nights: Annotated[
        int, typer.Option("--max-nights", help="Longest acute stay (time-limited).")
    ] = 14,
    today: TodayOption = None,
    input_path: InputOption = None,
    db: DbOption = None,
    who: WhoOption = None,
    why: Annotated[str, typer.Option("--why", help="Why, in plain words.")] = "acute respite",
    dry_run: DryRunOption = False,
    yes: YesOption = False,
) -> None:
    """Place an acute stay: in a reserved place if one house has room every night, else with
    the fewest of other families' nights moved (never past or pinned nights)."""
    from allocator.acute import AcuteRefusal, place_acute

    plan = _load(db, input_path)
    child = _acute_child(plan.inp, child_id, category, age, _day(today))
    result = place_acute(
        plan.inp,
        plan.bookings,
        child,
        first.date(),
        last.date(),
        today=_day(today),
        max_nights=max_nights,
    )
    if isinstance(result, AcuteRefusal):
        err.print(f"[red]No place:[/red] {escape(result.reason)}", highlight=False)
        raise typer.Exit(EXIT_REFUSED)
    where = "a reserved or free place" if result.used_reserve else "by moving other nights"
    out.print(
        f"Acute stay for {child_id}: {result.house_id}, {first.date()} – {last.date()}"
        f" ({len(result.nights)} nights), {where}; found in {result.seconds:.2f} s.",
        highlight=False,
    )
    if result.moves:
        table = Table("family", "night", "from", "to", title="Nights that move")
        for m in result.moves:
            table.add_row(m.child_id, str(m.night), m.from_house, m.to_house or "(re-plan)")
        out.print(table)
        out.print(
            f"{len(result.moves)} nights of {result.families_touched} families move.",
            highlight=False,
        )
    detail = (
        f"acute {child_id} in {result.house_id} {first.date()}–{last.date()};"
        f" {len(result.moves)} nights of {result.families_touched} families moved"
    )
    _commit(
        plan,
        list(result.bookings),
        extra=[child],
        db=db,
        action="acute",
        who=who,
        why=why,
        detail=detail,
        dry_run=dry_run,
        yes=yes,
    )


def _acute_child(
    inp: RoundInput, child_id: str, category: str | None, age: int | None, today: dt.date
) -> Child:
    from pydantic import ValidationError

    if inp.has_child(child_id):
        return inp.child(child_id)
    if category is None or age is None:
        raise _fail_input(
            InputError(
                [
                    Problem(
                        "acute",
                        None,
                        "child_id",
                        f"{child_id} is not in the round: give --category and --age",
                    )
                ]
            )
        )
    try:
        return Child.model_validate(
            {
                "child_id": child_id,
                "birth_date": today.replace(year=today.year - age),
                "category": category,
                "level": 1,
                "granted_nights": 0,
                "vedtak_from": inp.config.start,
                "vedtak_to": inp.config.end,
            }
        )
    except ValidationError as exc:
        message = "; ".join(str(e["msg"]) for e in exc.errors())
        raise _fail_input(InputError([Problem("acute", None, "category", message)])) from None


def cancel(
    child_id: Annotated[str, typer.Argument(help="The child (pseudonymous id).")],
    first: FromOption,
    last: ToOption,
    today: TodayOption = None,
    input_path: InputOption = None,
    db: DbOption = None,
    who: WhoOption = None,
    why: Annotated[str, typer.Option("--why", help="Why, in plain words.")] = "cancelled",
    dry_run: DryRunOption = False,
    yes: YesOption = False,
) -> None:
    """Free a child's nights from --from to --to (nights before today stay as history)."""
    from allocator.free_nights import cancel as cancel_nights

    plan = _load(db, input_path)
    kept, freed = cancel_nights(plan.bookings, child_id, first.date(), last.date(), _day(today))
    if not freed:
        out.print(f"{child_id} has no nights to cancel in that range.", highlight=False)
        return
    out.print(
        f"Cancel {len(freed)} nights of {child_id}: "
        + ", ".join(sorted({str(b.night) for b in freed})),
        highlight=False,
    )
    detail = f"cancel {child_id} {first.date()}–{last.date()}: {len(freed)} nights freed"
    _commit(
        plan,
        kept,
        db=db,
        action="cancel",
        who=who,
        why=why,
        detail=detail,
        dry_run=dry_run,
        yes=yes,
    )


def free_nights(
    first: FromOption,
    last: ToOption,
    input_path: InputOption = None,
    db: DbOption = None,
) -> None:
    """List unused nights per house and category, with the acute reserve kept free."""
    from allocator.free_nights import free_by_category
    from allocator.free_nights import free_nights as list_free

    plan = _load(db, input_path)
    free = list_free(plan.inp, plan.bookings, first.date(), last.date())
    if not free:
        out.print("No free nights in that range (the acute reserve is kept).", highlight=False)
        return
    per_house: dict[str, tuple[str, int, list[dt.date]]] = {}
    for f in free:
        categories, total, nights = per_house.get(f.house_id, (f.categories, 0, []))
        per_house[f.house_id] = (categories, total + f.free, [*nights, f.night])
    table = Table("house", "categories", "free place-nights", "nights", title="Free nights")
    for house_id, (categories, total, nights) in per_house.items():
        table.add_row(house_id, categories, str(total), _ranges(nights))
    out.print(table)
    by_category = Table("category", "free place-nights", title="Per category")
    for category, total in free_by_category(free).items():
        by_category.add_row(category, str(total))
    out.print(by_category)


def _ranges(nights: list[dt.date]) -> str:
    """``2027-03-01–03, 2027-03-07``: runs of consecutive nights."""
    runs: list[list[dt.date]] = []
    for n in sorted(set(nights)):
        if runs and (n - runs[-1][-1]).days == 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1].strftime('%d')}" for r in runs)


def offer(
    waiting_path: Annotated[
        Path, typer.Argument(help="waiting.csv: child_id, applied, category, level, nights_wanted.")
    ],
    first: FromOption,
    last: ToOption,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write the notices (letters) here.")
    ] = None,
    today: TodayOption = None,
    input_path: InputOption = None,
    db: DbOption = None,
    who: WhoOption = None,
    why: Annotated[str, typer.Option("--why", help="Why, in plain words.")] = "free nights",
    dry_run: DryRunOption = False,
    yes: YesOption = False,
) -> None:
    """Give free nights to the waiting list (largest shortfall first, then longest wait),
    keeping the acute reserve; flag applications older than a month and draft the notice."""
    from allocator.free_nights import as_child
    from allocator.free_nights import offer as make_offers
    from allocator.io.waiting import read_waiting
    from allocator.report.notice import write_notices

    plan = _load(db, input_path)
    try:
        waiting = read_waiting(waiting_path)
    except InputError as exc:
        raise _fail_input(exc) from None
    day = _day(today)
    result = make_offers(plan.inp, plan.bookings, waiting, first.date(), last.date(), day)
    table = Table("family", "house", "nights", title="Offers")
    for o in result.offers:
        table.add_row(o.child_id, o.house_id, _ranges(list(o.nights)))
    out.print(table)
    if result.overdue:
        out.print(
            f"{len(result.overdue)} applications are older than a month without a decision: the"
            " family must be told in writing why, and when to expect an answer.",
            highlight=False,
        )
        if out_dir is not None:
            written = write_notices(result.overdue, day, out_dir)
            out.print(f"Notices drafted in {written}.", highlight=False)
    if not result.offers:
        out.print("No free night fits anyone on the list.", highlight=False)
        return
    given = sum(len(o.nights) for o in result.offers)
    detail = f"offer {given} free nights to {len(result.offers)} families"
    _commit(
        plan,
        list(result.bookings),
        extra=[as_child(plan.inp, w) for w in waiting],
        db=db,
        action="offer",
        who=who,
        why=why,
        detail=detail,
        dry_run=dry_run,
        yes=yes,
    )
