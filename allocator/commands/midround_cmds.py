"""Between two rounds, on the published plan in the store: ``acute``, ``cancel``,
``free-nights``, ``offer``, ``move`` and ``pin`` (issue 6).

Each reads the newest version of the plan and the round's input (the folder recorded when the
round was published, or ``--input``); ``acute``, ``cancel``, ``offer``, ``move`` and ``pin``
show what would change and, unless ``--dry-run``, write it as a new version with an audit line
(``--yes`` skips the question). The plan is checked against every hard rule before it is
written. ``pin`` marks nights agreed with the family (kept in the store with the version): an
acute request and a manual move never move them.

Exit codes: 0 done (or nothing to do); 1 refused (no room, a broken rule, the store busy or
changed meanwhile); 2 bad input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from allocator.commands.console import bad_option
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
from allocator.io.outdir import NOTICES, unsafe_output_dir
from allocator.store import RoundChildInfo
from models.inputs import Child
from models.outputs import Booking
from models.round_input import RoundInput

if TYPE_CHECKING:
    from allocator.acute import Move

InputOption = Annotated[
    Path | None,
    typer.Option(
        "--input",
        help="The round's input (default: the folder recorded when the round was published).",
    ),
]
# Dates are read as text and parsed here, so a bad one is a one-line "Bad input" (exit 2)
# naming the option, like every other input problem.
FromOption = Annotated[str, typer.Option("--from", metavar="YYYY-MM-DD", help="First night.")]
ToOption = Annotated[str, typer.Option("--to", metavar="YYYY-MM-DD", help="Last night.")]
TodayOption = Annotated[
    str | None,
    typer.Option(
        "--today",
        metavar="YYYY-MM-DD",
        help="Nights before this are history (default: today).",
    ),
]
WhoOption = Annotated[str | None, typer.Option("--who", help="Who (default: $USER).")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show the change, write nothing.")]
YesOption = Annotated[bool, typer.Option("--yes", help="Write the change without asking.")]


@dataclass
class _Plan:
    """The newest version: its bookings, the round's input with the children earlier changes
    added (``base``), the nights pinned in the store, and ``inp``: ``base`` with those pins
    (what the acute search and the checker see)."""

    version: int
    base: RoundInput
    bookings: list[Booking]
    pinned: set[tuple[str, dt.date]]
    inp: RoundInput

    def kept_pins(self, bookings: Sequence[Booking]) -> set[tuple[str, dt.date]]:
        """The stored pins still booked in the same house in `bookings` (a cancelled night
        loses its pin)."""
        before = {(b.child_id, b.night): b.house_id for b in self.bookings}
        return {
            (b.child_id, b.night)
            for b in bookings
            if (b.child_id, b.night) in self.pinned
            and before.get((b.child_id, b.night)) == b.house_id
        }


def _load(db: str | None, input_path: Path | None) -> _Plan:
    """The newest version's bookings (with their kinds) and the round's input."""
    from allocator.io.reader import read_round
    from allocator.store import StoreError, open_store

    try:
        with open_store(db, create=False) as store:
            versions = store.history()
            if not versions:
                raise _fail_store("nothing is published yet: run `allocator publish` first")
            newest = versions[-1]
            plain = store.bookings(newest.version)
            kinds = store.booking_kinds(newest.version)
            stored = store.round_children(newest.version)
            pinned = store.pinned_nights(newest.version)
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
    from allocator.store import input_fingerprint

    if newest.input_hash and input_fingerprint(inp)[0] != newest.input_hash:
        err.print(
            f"[yellow]warning:[/yellow] the input's files ({escape(str(source))}) differ from"
            f" those published with version {newest.version}: the plan is checked against"
            " today's files",
            highlight=False,
        )
    bookings = [
        Booking(b.child_id, b.house_id, b.night, kinds.get((b.child_id, b.night), "planned"))
        for b in plain
    ]
    from allocator.manual import pins_for, with_pins

    base = inp.with_children(_stored_children(inp, stored))
    return _Plan(
        newest.version, base, bookings, pinned, with_pins(base, pins_for(bookings, pinned))
    )


def _date(value: str, option: str) -> dt.date:
    """An ISO date given on the command line, else bad input (exit 2) naming the option."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise _fail_input(
            InputError([Problem(option, None, None, f"not a date: {value!r} (use YYYY-MM-DD)")])
        ) from None


def _day(value: str | None) -> dt.date:
    """``--today``, or today."""
    return _date(value, "--today") if value is not None else dt.date.today()


def _nights(first: str, last: str) -> tuple[dt.date, dt.date]:
    """``--from`` and ``--to`` as dates; ``--to`` before ``--from`` is bad input (exit 2)."""
    first_night, last_night = _date(first, "--from"), _date(last, "--to")
    if last_night < first_night:
        raise _fail_input(
            InputError(
                [Problem("--to", None, None, f"{last_night} is before --from {first_night}")]
            )
        )
    return first_night, last_night


def _within_round(plan: _Plan, first: dt.date, last: dt.date, *, whole: bool) -> None:
    """``--from``..``--to`` against the round: bad input (exit 2) when it misses the round, or
    (``whole``: a stay to book or move) when it reaches outside it."""
    start, end = plan.inp.config.start, plan.inp.config.end
    outside = last < start or first > end
    if outside or (whole and (first < start or last > end)):
        where = "is outside" if outside else "reaches outside"
        raise _fail_input(
            InputError(
                [
                    Problem(
                        "--from/--to",
                        None,
                        None,
                        f"{first} – {last} {where} the round {start} – {end}",
                    )
                ]
            )
        )


def _known_child(plan: _Plan, child_id: str, command: str) -> None:
    """A child of the round (or one an earlier change added), else bad input (exit 2)."""
    if not plan.inp.has_child(child_id):
        raise _fail_input(
            InputError(
                [
                    Problem(
                        command,
                        None,
                        "child_id",
                        f"{child_id} is not a child of the round (nor added by a change)",
                    )
                ]
            )
        )


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
    pinned: set[tuple[str, dt.date]] | None = None,
) -> bool:
    """Check the new plan against every hard rule, ask, and write it as a new version; True
    when it was written.

    `pinned` is the new version's pinned nights; ``None`` keeps the stored pins still booked
    in the same house."""
    from allocator.check import check_plan
    from allocator.manual import pins_for, with_pins
    from allocator.store import StoreError, open_store

    if pinned is None:
        pinned = plan.kept_pins(bookings)
    # Pins where the parent had them: a pinned night that moved breaks rule R7.
    checked = with_pins(plan.base.with_children(extra), pins_for(plan.bookings, pinned))
    violations = check_plan(checked, bookings)
    if violations:
        err.print(f"[red]Refused:[/red] the change would break {len(violations)} hard rule(s):")
        for v in violations[:10]:
            err.print(f"  {v.rule}: {v.message}", markup=False, highlight=False)
        raise typer.Exit(EXIT_REFUSED)
    if dry_run:
        out.print("Dry run: nothing written.", highlight=False)
        return False
    if not yes and not typer.confirm(f"Write this as a new version after {plan.version}?"):
        out.print("Nothing written.", highlight=False)
        return False
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
                pinned=pinned,
            )
    except StoreError as exc:
        raise _fail_store(str(exc)) from None
    out.print(f"Written as version {version} ({action}).", highlight=False)
    return True


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
    from allocator.io.added_children import added_child

    return [
        added_child(
            info.child_id,
            category=info.category,
            level=info.level,
            granted=info.granted,
            start=inp.config.start,
            end=inp.config.end,
            pattern=info.pattern,
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
        int, typer.Option("--max-nights", min=1, help="Longest acute stay (time-limited).")
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

    first_night, last_night = _nights(first, last)
    plan = _load(db, input_path)
    _within_round(plan, first_night, last_night, whole=True)
    child = _acute_child(plan.inp, child_id, category, age, _day(today))
    result = place_acute(
        plan.inp,
        plan.bookings,
        child,
        first_night,
        last_night,
        today=_day(today),
        max_nights=max_nights,
    )
    if isinstance(result, AcuteRefusal):
        err.print(f"[red]No place:[/red] {escape(result.reason)}", highlight=False)
        raise typer.Exit(EXIT_REFUSED)
    where = "a reserved or free place" if result.used_reserve else "by moving other nights"
    out.print(
        f"Acute stay for {child_id}: {result.house_id}, {first_night} – {last_night}"
        f" ({len(result.nights)} nights), {where}; found in {result.seconds:.2f} s.",
        highlight=False,
    )
    if result.absorbed:
        houses = ", ".join(sorted({b.house_id for b in result.absorbed}))
        out.print(
            f"{child_id}'s own {_count(len(result.absorbed), 'night', 'nights')} in {houses}"
            f" ({_ranges([b.night for b in result.absorbed])}) become part of the acute stay.",
            highlight=False,
        )
    if result.moves:
        table = Table("family", "night", "from", "to", title="Nights that move")
        for m in result.moves:
            table.add_row(m.child_id, str(m.night), m.from_house, m.to_house or "(re-plan)")
        out.print(table)
        out.print(f"{_moves_text(result.moves)}.", highlight=False)
    detail = (
        f"acute {child_id} in {result.house_id} {first_night}–{last_night};"
        f" {_moves_text(result.moves) if result.moves else 'no other nights moved'}"
    )
    if result.absorbed:
        detail += f"; {_count(len(result.absorbed), 'own night', 'own nights')} now acute"
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


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _moves_text(moves: Sequence[Move]) -> str:
    """``3 nights of 2 families move (2 to another house, 1 taken out to re-plan)``."""
    taken_out = sum(1 for m in moves if m.to_house is None)
    families = len({m.child_id for m in moves})
    text = (
        f"{_count(len(moves), 'night', 'nights')} of {_count(families, 'family', 'families')}"
        f" move ({len(moves) - taken_out} to another house"
    )
    if taken_out:
        text += f", {taken_out} taken out, to re-plan with the family"
    return text + ")"


def _acute_child(
    inp: RoundInput, child_id: str, category: str | None, age: int | None, today: dt.date
) -> Child:
    from pydantic import ValidationError

    if inp.has_child(child_id):
        return inp.child(child_id)
    if age is not None and not 0 <= age <= 25:
        raise _fail_input(
            InputError([Problem("acute", None, "age", f"--age {age}: give an age from 0 to 25")])
        )
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

    first_night, last_night = _nights(first, last)
    plan = _load(db, input_path)
    _within_round(plan, first_night, last_night, whole=False)
    _known_child(plan, child_id, "cancel")
    day = _day(today)
    kept, freed = cancel_nights(plan.bookings, child_id, first_night, last_night, day)
    if not freed:
        past = any(
            b.child_id == child_id and first_night <= b.night <= last_night and b.night < day
            for b in plan.bookings
        )
        when = f" from {day} on (nights before today stay as history)" if past else ""
        out.print(f"{child_id} has no nights to cancel in that range{when}.", highlight=False)
        return
    out.print(
        f"Cancel {_count(len(freed), 'night', 'nights')} of {child_id}: "
        + _ranges([b.night for b in freed]),
        highlight=False,
    )
    detail = (
        f"cancel {child_id} {first_night}–{last_night}:"
        f" {_count(len(freed), 'night', 'nights')} freed"
    )
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

    first_night, last_night = _nights(first, last)
    plan = _load(db, input_path)
    _within_round(plan, first_night, last_night, whole=False)
    free = list_free(plan.inp, plan.bookings, first_night, last_night)
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

    first_night, last_night = _nights(first, last)
    plan = _load(db, input_path)
    _within_round(plan, first_night, last_night, whole=False)
    if out_dir is not None:
        unsafe = unsafe_output_dir(out_dir, NOTICES, [plan.inp.source, waiting_path])
        if unsafe:
            raise bad_option(f"--out {out_dir}: {unsafe}")
    try:
        waiting = read_waiting(waiting_path)
    except InputError as exc:
        raise _fail_input(exc) from None
    day = _day(today)
    result = make_offers(plan.inp, plan.bookings, waiting, first_night, last_night, day)
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
    written = False
    if not result.offers:
        out.print("No free night fits anyone on the list.", highlight=False)
    else:
        given = sum(len(o.nights) for o in result.offers)
        detail = f"offer {given} free nights to {len(result.offers)} families"
        written = _commit(
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
    if result.overdue and out_dir is not None:
        # The notices go with the change: none for a dry run or a change not written.
        if written or (not result.offers and not dry_run):
            out.print(
                f"Notices drafted in {write_notices(result.overdue, day, out_dir)}.",
                highlight=False,
            )
        else:
            out.print("No notices drafted: nothing was written.", highlight=False)


def move(
    child_id: Annotated[str, typer.Argument(help="The child (pseudonymous id).")],
    first: FromOption,
    last: ToOption,
    to_house: Annotated[str, typer.Option("--to-house", help="The house the nights move to.")],
    today: TodayOption = None,
    input_path: InputOption = None,
    db: DbOption = None,
    who: WhoOption = None,
    why: Annotated[str, typer.Option("--why", help="Why, in plain words.")] = "manual move",
    dry_run: DryRunOption = False,
    yes: YesOption = False,
) -> None:
    """Move a child's nights from --from to --to into another house (a manual move). Past
    and pinned nights never move; the new plan must keep every hard rule."""
    from allocator.manual import input_pinned, move_nights

    first_night, last_night = _nights(first, last)
    plan = _load(db, input_path)
    _within_round(plan, first_night, last_night, whole=True)
    _known_child(plan, child_id, "move")
    if not plan.inp.has_house(to_house):
        raise _fail_input(
            InputError([Problem("move", None, "--to-house", f"unknown house {to_house!r}")])
        )
    result = move_nights(
        plan.bookings,
        child_id,
        first_night,
        last_night,
        to_house,
        today=_day(today),
        pinned=plan.pinned | input_pinned(plan.base),
    )
    if isinstance(result, str):
        if result:
            err.print(f"[red]Refused:[/red] {escape(result)}", highlight=False)
            raise typer.Exit(EXIT_REFUSED)
        out.print(
            f"{child_id} has no nights to move into {to_house} in that range.", highlight=False
        )
        return
    nights = [n for n, _ in result.moved]
    froms = ", ".join(sorted({h for _, h in result.moved}))
    out.print(
        f"Move {_count(len(nights), 'night', 'nights')} of {child_id} from {froms} to"
        f" {to_house}: {_ranges(nights)}",
        highlight=False,
    )
    detail = (
        f"move {child_id} {first_night}–{last_night} to {to_house}:"
        f" {_count(len(nights), 'night', 'nights')} moved from {froms}"
    )
    _commit(
        plan,
        list(result.bookings),
        db=db,
        action="move",
        who=who,
        why=why,
        detail=detail,
        dry_run=dry_run,
        yes=yes,
    )


def pin(
    child_id: Annotated[str, typer.Argument(help="The child (pseudonymous id).")],
    first: FromOption,
    last: ToOption,
    release: Annotated[
        bool, typer.Option("--release", help="Release the pin instead (the nights stay).")
    ] = False,
    input_path: InputOption = None,
    db: DbOption = None,
    who: WhoOption = None,
    why: Annotated[
        str, typer.Option("--why", help="Why, in plain words.")
    ] = "agreed with the family",
    dry_run: DryRunOption = False,
    yes: YesOption = False,
) -> None:
    """Pin a child's booked nights from --from to --to where they are (agreed with the
    family): acute requests and manual moves never move them. --release unpins them."""
    from allocator.manual import nights_in

    first_night, last_night = _nights(first, last)
    plan = _load(db, input_path)
    _within_round(plan, first_night, last_night, whole=True)
    _known_child(plan, child_id, "pin")
    booked = nights_in(plan.bookings, child_id, first_night, last_night)
    keys = {(b.child_id, b.night) for b in booked}
    if release:
        changed = sorted(n for c, n in keys & plan.pinned)
        pinned = plan.pinned - keys
        action, verb = "unpin", "released"
    else:
        changed = sorted(n for c, n in keys - plan.pinned)
        pinned = plan.pinned | keys
        action, verb = "pin", "pinned"
    if not changed:
        state = "pinned" if release else "unpinned"
        out.print(
            f"{child_id} has no {state} booked nights in that range: nothing to do.",
            highlight=False,
        )
        return
    houses = ", ".join(sorted({b.house_id for b in booked if b.night in set(changed)}))
    out.print(
        f"{verb.capitalize()}: {_count(len(changed), 'night', 'nights')} of {child_id} in"
        f" {houses}: {_ranges(changed)}",
        highlight=False,
    )
    detail = (
        f"{action} {child_id} {first_night}–{last_night} in {houses}:"
        f" {_count(len(changed), 'night', 'nights')} {verb}"
    )
    _commit(
        plan,
        list(plan.bookings),
        db=db,
        action=action,
        who=who,
        why=why,
        detail=detail,
        dry_run=dry_run,
        yes=yes,
        pinned=pinned,
    )
