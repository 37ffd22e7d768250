"""Where a command may write a folder it replaces as a whole (`allocator.io.atomic`).

Replacing a folder deletes what was in it, so a command writes only to a new or empty folder or
to an earlier output of its own kind that holds nothing else; never to the input, a folder that
holds the input, a file, or a path under a file. Every command that writes a folder asks
`unsafe_output_dir` before it does any work, so a refusal costs nothing and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OutputKind:
    """What a command writes: how to know an earlier output of it, and the names in it."""

    what: str
    """In messages: "plan", "round", "notices"."""
    marker: str | None
    """A file every earlier output holds (``summary.json``); None: only empty folders."""
    owns: Callable[[str], bool]
    """Whether a name at the folder's top level is one this kind writes."""


def _names(*names: str) -> Callable[[str], bool]:
    chosen = frozenset(names)
    return lambda name: name in chosen


#: A plan folder: `allocator.pipeline.write_plan`, an export (`allocator.store.export`) and a
#: scenario's plan (`allocator.scenario.run.write_outputs`).
PLAN = OutputKind(
    "plan",
    "summary.json",
    _names(
        "bookings.csv",
        "stays.csv",
        "summary.json",
        "calendar.xlsx",
        "families",
        "houses",
        "added_children.csv",
        "scenario.json",
        "comparison.json",
        "comparison.csv",
    ),
)

#: A generated round (`allocator generate`): only a new or empty folder.
ROUND = OutputKind("round", None, _names())

#: Notices to families whose application waits (`allocator offer --out`).
NOTICES = OutputKind(
    "notices", None, lambda name: name.startswith("melding_") and name.endswith(".txt")
)


def unsafe_output_dir(
    out: Path, kind: OutputKind, inputs: Iterable[Path | str | None] = ()
) -> str | None:
    """Why writing ``out`` as a whole could destroy data, or None when it is safe.

    Parameters
    ----------
    out
        The folder the command would replace.
    kind
        What the command writes there.
    inputs
        Files and folders the command reads (empty entries are skipped).

    Returns
    -------
    str or None
        A reason for the user ("it is a file", "it holds files this tool did not write: …").
    """
    dst = out.resolve()
    for ancestor in dst.parents:
        if ancestor.exists() and not ancestor.is_dir():
            return f"{ancestor} is a file, so no folder can be made inside it"
    for source in inputs:
        if not source:
            continue
        src = Path(source).resolve()
        if dst == src or src.is_relative_to(dst):
            return f"it is (or holds) the input {source}; choose another folder"
    if dst.exists() and not dst.is_dir():
        return "it is a file"
    if not dst.is_dir():
        return None
    names = sorted(p.name for p in dst.iterdir())
    if not names:
        return None
    foreign = [n for n in names if not kind.owns(n)]
    has_marker = kind.marker is None or (dst / kind.marker).is_file()
    if not has_marker or (kind.marker is None and foreign):
        return f"it is a folder that is not empty and holds no earlier {kind.what}; choose another"
    if foreign:
        shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
        return (
            f"it holds files this tool did not write ({shown}), which replacing the earlier"
            f" {kind.what} would delete; move them or choose another folder"
        )
    return None


def unsafe_output_file(
    out: Path, suffix: str, inputs: Iterable[Path | str | None] = ()
) -> str | None:
    """Why writing the file ``out`` could destroy data, or None: it must not be a folder, an
    input, under a file, or an existing file of another kind than ``suffix`` (``.json``)."""
    dst = out.resolve()
    for ancestor in dst.parents:
        if ancestor.exists() and not ancestor.is_dir():
            return f"{ancestor} is a file, so nothing can be written inside it"
    for source in inputs:
        if source and Path(source).resolve() == dst:
            return f"it is the input {source}; choose another name"
    if dst.is_dir():
        return "it is a folder"
    if dst.exists() and dst.suffix.lower() != suffix:
        return f"it is a file that is not a {suffix} file; choose another name"
    return None
