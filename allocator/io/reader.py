"""Read a round's input (data contract v1) from a folder of CSV files or an .xlsx workbook.

`read_round` accepts the files people actually save: UTF-8 with or without BOM, Windows-1252,
UTF-16 ("Unicode text"); comma, semicolon or tab separated; ISO or Norwegian ``DD.MM.YYYY``
dates; ``ja``/``nei`` booleans; header names in any case. Every cell is read as text, normalised,
and validated with the pydantic row models of `models.inputs`. Every problem in every file is
collected first and raised once as an `InputError`, each naming its file, row and column.

A child id that looks like a national ID number (`allocator.io.national_id`) is refused: the
problem names file, row and column but never the value, and the cell is blanked at once so that
no later message (unknown child, duplicate id, not a valid id) can repeat it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from allocator.io.errors import InputError, Problem
from allocator.io.national_id import (
    CHILD_ID_COLUMNS,
    NATIONAL_ID_MESSAGE,
    hide_national_ids,
    looks_like_national_id,
)
from models.config import ObjectiveWeights, RoundConfig
from models.inputs import (
    CalendarDay,
    Child,
    Closure,
    House,
    Incompatible,
    Pin,
    Unavailable,
    Wish,
)
from models.round_input import RoundInput

__all__ = ["ROUND_FILE", "TABLE_FILES", "read_round", "table_rows"]

M = TypeVar("M", bound=BaseModel)

ROUND_FILE = "round.toml"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
MAX_VEDTAK_DAYS = 366

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_NORWEGIAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_TOML_LINE = re.compile(r"at line (\d+)")
_EXCEL_SEP = re.compile(r'^\s*"?sep=(.)"?\s*$', re.IGNORECASE)
_BOOLEANS = {
    "true": "true",
    "false": "false",
    "ja": "true",
    "nei": "false",
    "j": "true",
    "n": "false",
    "yes": "true",
    "no": "false",
    "y": "true",
    "1": "true",
    "0": "false",
    "sant": "true",
    "usant": "false",
}
_BAD_DATE = "<not a date>"


# ---------------------------------------------------------------------------------------------
# Table specifications
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec(Generic[M]):
    """What one input file holds: its name, row model and which columns must be present."""

    name: str
    model: type[M]
    required_file: bool
    extra_required: tuple[str, ...] = ()
    model_error_column: str | None = None

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def required_columns(self) -> tuple[str, ...]:
        fields = self.model.model_fields
        found = [info.alias or name for name, info in fields.items() if info.is_required()]
        return tuple(found + [c for c in self.extra_required if c not in found])

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(info.alias or name for name, info in self.model.model_fields.items())


HOUSES = _Spec("houses", House, True, ("categories",), "conditional_categories")
CHILDREN = _Spec("children", Child, True, (), "vedtak_to")
UNAVAILABLE = _Spec("unavailable", Unavailable, False, (), "to")
WISHES = _Spec("wishes", Wish, False, (), "to")
INCOMPATIBLE = _Spec("incompatible", Incompatible, False, (), "child_b")
CLOSURES = _Spec("closures", Closure, False, (), "to")
CALENDAR = _Spec("calendar", CalendarDay, False, (), "to")
PINS = _Spec("pins", Pin, False, (), "kind")

_SPECS: tuple[_Spec[Any], ...] = (
    HOUSES,
    CHILDREN,
    UNAVAILABLE,
    WISHES,
    INCOMPATIBLE,
    CLOSURES,
    CALENDAR,
    PINS,
)
TABLE_FILES: tuple[str, ...] = tuple(spec.filename for spec in _SPECS)


# ---------------------------------------------------------------------------------------------
# Raw data: grids of text cells from a folder or a workbook
# ---------------------------------------------------------------------------------------------


@dataclass
class _Grid:
    """The cells of one file or sheet as text; ``rows[i]`` is spreadsheet row ``i + 1``."""

    label: str
    rows: list[list[str]]
    readable: bool = True
    header_row: int = 1  # set by `_records` once the first non-blank row is found


@dataclass
class _RawConfig:
    """round.toml (or the workbook's ``round`` sheet) as nested data, with rows per key."""

    label: str
    data: dict[str, Any]
    rows: dict[str, int] = field(default_factory=dict)


class _Source(Protocol):
    """A place the input comes from: a folder of CSV files or a workbook."""

    def label(self, name: str) -> str:
        """How the user knows the file holding table `name`."""
        ...

    def grid(self, name: str, problems: list[Problem]) -> _Grid | None:
        """The cells of table `name`, or ``None`` when it is absent."""
        ...

    def config(self, problems: list[Problem]) -> _RawConfig | None:
        """The round settings, or ``None`` when they cannot be read (a problem is added)."""
        ...


class _FolderSource:
    """A folder holding ``houses.csv``, ``children.csv``, ..., ``round.toml``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _find(self, filename: str) -> Path | None:
        exact = self.folder / filename
        if exact.is_file():
            return exact
        for candidate in self.folder.iterdir():
            if candidate.is_file() and candidate.name.lower() == filename.lower():
                return candidate
        return None

    def label(self, name: str) -> str:
        return f"{name}.csv"

    def grid(self, name: str, problems: list[Problem]) -> _Grid | None:
        path = self._find(f"{name}.csv")
        if path is None:
            return None
        label = self.label(name)
        text = _read_text(label, path, problems)
        rows = None if text is None else _split_csv(label, text, problems)
        return _Grid(label, rows or [], readable=rows is not None)

    def config(self, problems: list[Problem]) -> _RawConfig | None:
        path = self._find(ROUND_FILE)
        if path is None:
            problems.append(Problem(ROUND_FILE, None, None, "required file is missing"))
            return None
        text = _read_text(ROUND_FILE, path, problems)
        return None if text is None else _parse_toml(ROUND_FILE, text, problems)


class _WorkbookSource:
    """An .xlsx workbook with one sheet per file: ``houses`` (or ``houses.csv``), ..., ``round``."""

    def __init__(self, path: Path) -> None:
        import openpyxl

        self.path = path
        try:
            workbook = openpyxl.load_workbook(path, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
            problem = Problem(path.name, None, None, f"not a readable .xlsx workbook ({exc})")
            raise InputError([problem]) from exc
        self.sheets: dict[str, Any] = {}
        self.repeated: dict[str, list[str]] = {}
        for sheet in workbook.worksheets:
            key = _sheet_key(sheet.title)
            if key in self.sheets:
                self.repeated.setdefault(key, []).append(sheet.title)
            else:
                self.sheets[key] = sheet

    def label(self, name: str) -> str:
        sheet = self.sheets.get(name)
        return f"{self.path.name}, sheet {sheet.title if sheet is not None else name}"

    def grid(self, name: str, problems: list[Problem]) -> _Grid | None:
        sheet = self.sheets.get(name)
        if sheet is None:
            return None
        for title in self.repeated.get(name, []):
            message = f"sheet {title!r} holds the same table again and is ignored"
            problems.append(Problem(self.label(name), None, None, message))
        rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        return _Grid(self.label(name), rows)

    def config(self, problems: list[Problem]) -> _RawConfig | None:
        grid = self.grid("round", problems)
        if grid is None:
            label = self.label("round")
            problems.append(Problem(label, None, None, "required sheet is missing"))
            return None
        return _config_from_grid(grid, problems)


def _sheet_key(title: str) -> str:
    """Normalise a sheet title: ``' Houses.csv'`` → ``'houses'``."""
    key = title.strip().lower()
    for suffix in (".csv", ".toml"):
        key = key.removesuffix(suffix)
    return key


def _cell_text(value: object) -> str:
    """Turn one Excel cell value into the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_text(label: str, path: Path, problems: list[Problem]) -> str | None:
    """Read and decode a text file, adding a problem if it is not text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(label, None, None, f"cannot be read ({exc.strerror or exc})"))
        return None
    return _decode(label, data, problems)


def _decode(label: str, data: bytes, problems: list[Problem]) -> str | None:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif data.startswith(b"PK\x03\x04"):
        message = (
            "is a zip file (perhaps an Excel workbook saved under a text name), not a CSV file; "
            "save it as CSV (UTF-8) or pass the .xlsx workbook itself"
        )
        problems.append(Problem(label, None, None, message))
        return None
    elif b"\x00" not in data:
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    message = "is not a text file (binary or unknown encoding); save it as CSV (UTF-8)"
    problems.append(Problem(label, None, None, message))
    return None


def _split_csv(label: str, text: str, problems: list[Problem]) -> list[list[str]] | None:
    """Split CSV text into rows of cells, sniffing the separator from the header line.

    An Excel ``sep=;`` first line sets the separator and is dropped, as Excel hides it too.
    """
    header = next((line for line in text.splitlines() if line.strip()), "")
    excel_sep = _EXCEL_SEP.match(header)
    if excel_sep:
        delimiter = excel_sep.group(1)
        text = _drop_line(text, header)
    else:
        delimiter = _sniff_delimiter(header)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        problems.append(Problem(label, None, None, f"is not a readable CSV file ({exc})"))
        return None


def _drop_line(text: str, line: str) -> str:
    """`text` without its first occurrence of `line` and that line's end."""
    end = text.index(line) + len(line)
    for newline in ("\r\n", "\n", "\r"):
        if text.startswith(newline, end):
            return text[: text.index(line)] + text[end + len(newline) :]
    return text[: text.index(line)]


def _sniff_delimiter(header: str) -> str:
    """Pick the separator that occurs most often in the header line (comma on a tie)."""
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


# ---------------------------------------------------------------------------------------------
# round.toml / the round sheet
# ---------------------------------------------------------------------------------------------


def _parse_toml(label: str, text: str, problems: list[Problem]) -> _RawConfig | None:
    """Parse round.toml; a syntax error becomes a problem with its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        row = int(match.group(1)) if match else None
        problems.append(Problem(label, row, None, f"not valid TOML: {exc}"))
        return None
    return _RawConfig(label, data, _toml_key_rows(text))


def _toml_key_rows(text: str) -> dict[str, int]:
    """Map each dotted key of a simple TOML file to the line it is set on (first wins)."""
    rows: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            table = stripped.strip("[]").strip().replace('"', "")
            rows.setdefault(table, number)
        elif "=" in stripped and not stripped.startswith("#"):
            key = stripped.split("=", 1)[0].strip().replace('"', "").replace(" ", "")
            rows.setdefault(f"{table}.{key}" if table else key, number)
    return rows


def _config_from_grid(grid: _Grid, problems: list[Problem]) -> _RawConfig:
    """Build nested round settings from a ``key, value`` sheet (``weights.nights`` → nested)."""
    config = _RawConfig(grid.label, {})
    for index, cells in enumerate(grid.rows):
        row = index + 1
        key = cells[0].strip() if cells else ""
        value = cells[1].strip() if len(cells) > 1 else ""
        if not key or (row == 1 and key.lower() == "key") or not value:
            continue
        head, _, rest = key.partition(".")
        key = f"{head.lower()}.{rest}" if rest else head.lower()
        if key in config.rows:
            message = f"key listed twice (first on row {config.rows[key]})"
            problems.append(Problem(grid.label, row, key, message))
            continue
        config.rows[key] = row
        if rest and head.lower() in ("acute_reserve", "weights"):
            config.data.setdefault(head.lower(), {})[rest] = value
        else:
            config.data[key] = value
    return config


def _validate_config(raw: _RawConfig, problems: list[Problem]) -> RoundConfig | None:
    """Validate round settings with `RoundConfig`, naming the key of every problem."""
    data = dict(raw.data)
    for key in ("start", "end"):
        if isinstance(data.get(key), str):
            data[key] = _parse_date(data[key])
    try:
        return RoundConfig.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(_config_problem(raw, error))
        return None


def _config_problem(raw: _RawConfig, error: Mapping[str, Any]) -> Problem:
    """Turn one pydantic error on round settings into a `Problem`."""
    loc = tuple(str(part) for part in error["loc"])
    message = _strip_value_error(str(error["msg"]))
    if not loc:
        found = re.match(r"(acute_reserve\.\S+)", message)
        column = found.group(1) if found else "end"
        return Problem(raw.label, raw.rows.get(column), column, message)
    column = ".".join(loc)
    value = _dig(raw.data, loc)
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(loc[:-1]))
        text = f"unknown key '{column}' (allowed: {allowed})"
    elif error["type"] == "missing":
        text = "required key is missing"
    elif isinstance(value, dt.datetime) and str(error["type"]).startswith("date"):
        # TOML reads 2027-01-01T08:00 as a date and time; the round's dates are whole days.
        text = (
            f"a date without a time of day is expected, got {value.isoformat()!r}"
            f" (write {column} = {value.date().isoformat()})"
        )
    else:
        text = _message(error, "" if value is None else _cell_text(value))
    return Problem(raw.label, raw.rows.get(column), column, text)


def _dig(data: Mapping[str, Any], loc: tuple[str, ...]) -> object:
    """The raw value at `loc` in nested `data`, or ``None``."""
    value: object = data
    for part in loc:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _allowed_keys(parent: tuple[str, ...]) -> list[str]:
    """The keys RoundConfig allows at `parent` (top level or ``weights``)."""
    model: type[BaseModel] = ObjectiveWeights if parent == ("weights",) else RoundConfig
    return list(model.model_fields)


# ---------------------------------------------------------------------------------------------
# Tables: header, records, row validation
# ---------------------------------------------------------------------------------------------


@dataclass
class _Record:
    """One data row: its spreadsheet row number and its stripped text cells by column."""

    row: int
    cells: dict[str, str]
    redacted: tuple[str, ...] = ()
    """Child-id columns whose value looked like a national ID number and was blanked."""

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass
class _Table(Generic[M]):
    """One file after reading: every record and the rows that passed validation."""

    spec: _Spec[M]
    label: str
    present: bool = False
    loaded: bool = False
    records: list[_Record] = field(default_factory=list)
    valid: list[tuple[int, M]] = field(default_factory=list)

    def ids(self, column: str) -> set[str]:
        """Every non-empty value of `column` in the file, valid row or not."""
        return {r.get(column) for r in self.records if r.get(column)}

    def models(self) -> tuple[M, ...]:
        return tuple(model for _, model in self.valid)


def _column_name(text: str) -> str:
    """Normalise a header cell: ``' Child ID'`` → ``'child_id'``; ``from_`` → ``from``."""
    name = re.sub(r"\s+", "_", text.replace("\ufeff", "").strip().lower())
    return "from" if name == "from_" else name


def _records(grid: _Grid, problems: list[Problem]) -> tuple[list[str], list[_Record]]:
    """Split a grid into its header (first non-blank row) and non-blank records."""
    start = next((i for i, row in enumerate(grid.rows) if any(c.strip() for c in row)), None)
    if start is None:
        return [], []
    header = [_column_name(c) for c in grid.rows[start]]
    _check_header(grid.label, start + 1, header, problems)
    grid.header_row = start + 1
    records = []
    for index in range(start + 1, len(grid.rows)):
        cells = [c.strip() for c in grid.rows[index]]
        if not any(cells):
            continue
        extra = [c for c in cells[len(header) :] if c]
        if extra:
            message = (
                f"the row has {len(cells)} cells but the header has {len(header)} columns "
                f"(extra: {', '.join(repr(c) for c in extra)}); is a separator inside a cell?"
            )
            problems.append(Problem(grid.label, index + 1, None, message))
        named = {h: c for h, c in zip(header, cells, strict=False) if h}
        records.append(_Record(index + 1, named))
    return header, records


def _check_header(label: str, row: int, header: list[str], problems: list[Problem]) -> None:
    """Report columns that appear twice in the header."""
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            problems.append(Problem(label, row, name, "column appears twice in the header"))
        seen.add(name)


def _missing_columns(spec: _Spec[Any], grid: _Grid, header: list[str]) -> list[Problem]:
    """A problem per required column the header lacks (one problem if it has none at all)."""
    label, row = grid.label, grid.header_row
    missing = [c for c in spec.required_columns if c not in header]
    if not missing:
        return []
    if not set(spec.columns) & set(header):
        expected = ", ".join(spec.required_columns)
        message = (
            f"the first line has none of the expected columns ({expected}); "
            "is this a CSV file with a header row?"
        )
        return [Problem(label, row, None, message)]
    return [Problem(label, row, c, f"missing required column '{c}'") for c in missing]


def _misspelt_columns(spec: _Spec[Any], grid: _Grid, header: list[str]) -> list[Problem]:
    """A problem per unknown column that is close to a known column the header lacks
    ("patern" for "pattern"): added columns are allowed, but a misspelt optional one would
    silently give every row its default."""
    absent = [c for c in spec.columns if c not in header]
    problems = []
    for name in header:
        if not name or name in spec.columns:
            continue
        close = difflib.get_close_matches(name.lower(), absent, n=1, cutoff=0.8)
        if close:
            problems.append(
                Problem(
                    grid.label,
                    grid.header_row,
                    name,
                    f"unknown column '{name}': did you mean '{close[0]}'?"
                    f" (without it every row gets the default {close[0]})",
                )
            )
    return problems


def _load_table(spec: _Spec[M], source: _Source, problems: list[Problem]) -> _Table[M]:
    """Read, check and validate one table; absent optional files give an empty table."""
    table: _Table[M] = _Table(spec, source.label(spec.name))
    grid = source.grid(spec.name, problems)
    if grid is None:
        if spec.required_file:
            problems.append(Problem(table.label, None, None, "required file is missing"))
        else:
            table.loaded = True
        return table
    table.label, table.present = grid.label, True
    if not grid.readable:
        return table
    header, table.records = _records(grid, problems)
    _refuse_national_ids(spec, table.label, table.records, problems)
    if not header:
        if spec.required_file:
            problems.append(Problem(table.label, None, None, "file is empty (no header line)"))
        else:
            table.loaded = True
        return table
    header_problems = _missing_columns(spec, grid, header) + _misspelt_columns(spec, grid, header)
    problems.extend(header_problems)
    if not header_problems:
        table.loaded = True
        table.valid = _validate_records(spec, table.label, table.records, problems)
    return table


def _refuse_national_ids(
    spec: _Spec[Any], label: str, records: Iterable[_Record], problems: list[Problem]
) -> None:
    """A problem for each child id that looks like a national ID number; the cell is blanked.

    The problem names file, row and column, never the value. Blanking the cell (and noting it
    in `_Record.redacted`) keeps the value out of every later message; the row is still
    checked for its other cells but never accepted (see `_validate_records`).
    """
    columns = [c for c in spec.columns if c in CHILD_ID_COLUMNS]
    for record in records:
        bad = tuple(c for c in columns if looks_like_national_id(record.get(c)))
        for column in bad:
            record.cells[column] = ""
            problems.append(Problem(label, record.row, column, NATIONAL_ID_MESSAGE))
        record.redacted = bad


def _validate_records(
    spec: _Spec[M], label: str, records: Iterable[_Record], problems: list[Problem]
) -> list[tuple[int, M]]:
    """Validate every record with the row model; bad rows add problems and are dropped.

    A redacted child id (`_refuse_national_ids`, already reported) is validated as a stand-in
    pseudonym, so the row's other cells are still checked, and the row is dropped.
    """
    kinds = _field_kinds(spec.model)
    valid: list[tuple[int, M]] = []
    for record in records:
        data = _prepare(record.cells, kinds)
        data.update({column: f"redacted-{column}" for column in record.redacted})
        try:
            model = spec.model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                problem = _row_problem(spec, label, record, error)
                if problem.column not in record.redacted:
                    problems.append(problem)
            continue
        if not record.redacted:
            valid.append((record.row, model))
    return valid


def _field_kinds(model: type[BaseModel]) -> dict[str, str]:
    """Map each column of `model` to ``date``, ``bool``, ``float`` or ``other``."""
    kinds: dict[str, str] = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        args: tuple[Any, ...] = (annotation,)
        if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
            args = typing.get_args(annotation)
        kind = "other"
        if dt.date in args:
            kind = "date"
        elif bool in args:
            kind = "bool"
        elif float in args:
            kind = "float"
        kinds[info.alias or name] = kind
    return kinds


def _prepare(cells: Mapping[str, str], kinds: Mapping[str, str]) -> dict[str, object]:
    """Drop empty cells (so defaults apply) and normalise dates, booleans and decimals."""
    data: dict[str, object] = {}
    for column, text in cells.items():
        if not text:
            continue
        kind = kinds.get(column, "other")
        if kind == "date":
            data[column] = _parse_date(text)
        elif kind == "bool":
            data[column] = _BOOLEANS.get(text.lower(), text)
        elif kind == "float" and _DECIMAL_COMMA.match(text):
            data[column] = text.replace(",", ".")
        else:
            data[column] = text
    return data


def _parse_date(text: str) -> dt.date | str:
    """Parse ``YYYY-MM-DD`` or ``DD.MM.YYYY``; anything else gives a value pydantic rejects."""
    text = text.strip()
    iso = _ISO_DATE.match(text)
    nor = _NORWEGIAN_DATE.match(text)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if nor:
            return dt.date(int(nor[3]), int(nor[2]), int(nor[1]))
    except ValueError:
        pass
    return _BAD_DATE


def _date_reason(text: str) -> str:
    """Why `text` is not a date, for the message."""
    iso = _ISO_DATE.match(text)
    nor = _NORWEGIAN_DATE.match(text)
    try:
        if iso:
            dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        elif nor:
            dt.date(int(nor[3]), int(nor[2]), int(nor[1]))
    except ValueError as exc:
        return str(exc)
    return "expected YYYY-MM-DD or DD.MM.YYYY"


def _row_problem(
    spec: _Spec[Any], label: str, record: _Record, error: Mapping[str, Any]
) -> Problem:
    """Turn one pydantic error on a row into a `Problem` naming the column."""
    loc = error["loc"]
    column = str(loc[0]) if loc else spec.model_error_column
    raw = record.get(column) if column else ""
    return Problem(label, record.row, column, _message(error, raw))


def _strip_value_error(message: str) -> str:
    """Drop pydantic's ``Value error, `` prefix from a validator's own message."""
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _message(error: Mapping[str, Any], raw: str) -> str:
    """A plain-English message for one pydantic error; `raw` is the cell as the user typed it."""
    kind = str(error["type"])
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind == "missing":
        return "empty; a value is required"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"not a whole number: {raw!r}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"not a number: {raw!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"not a yes/no value: {raw!r} (expected true/false, ja/nei, yes/no or 1/0)"
    if kind.startswith("date"):
        return f"not a date: {raw!r} ({_date_reason(raw)})"
    if kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        return f"must be {symbol} {ctx.get(key)}, got {raw!r}"
    if kind in ("enum", "literal_error"):
        expected = str(ctx.get("expected", "")).replace("'", "")
        return f"unknown value {raw!r} (expected {expected})"
    if kind == "string_pattern_mismatch":
        return f"not a valid id: {raw!r} (use only letters, digits, '_', '.' and '-')"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"too long: at most {ctx.get('max_length')} characters"
    if kind == "extra_forbidden":
        return "unknown key"
    return _strip_value_error(str(error["msg"]))


_BOUNDS: dict[str, tuple[str, str]] = {
    "greater_than_equal": ("≥", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("≤", "le"),
    "less_than": ("<", "lt"),
}


# ---------------------------------------------------------------------------------------------
# Cross-file checks
# ---------------------------------------------------------------------------------------------


@dataclass
class _Tables:
    """All tables of a round after per-row validation."""

    houses: _Table[House]
    children: _Table[Child]
    unavailable: _Table[Unavailable]
    wishes: _Table[Wish]
    incompatible: _Table[Incompatible]
    closures: _Table[Closure]
    calendar: _Table[CalendarDay]
    pins: _Table[Pin]


def _duplicates(table: _Table[Any], column: str) -> list[Problem]:
    """A problem for each repeat of an id, pointing at its first row."""
    first: dict[str, int] = {}
    problems = []
    for record in table.records:
        value = record.get(column)
        if not value:
            continue
        if value in first:
            message = f"duplicate {column} {value!r} (first on row {first[value]})"
            problems.append(Problem(table.label, record.row, column, message))
        else:
            first[value] = record.row
    return problems


def _unknown_refs(
    table: _Table[Any], columns: Iterable[str], target: _Table[Any], key: str, what: str
) -> list[Problem]:
    """A problem for each cell of `columns` in `table` naming an id missing from `target`."""
    if not target.loaded:
        return []
    known = target.ids(key)
    problems = []
    for record in table.records:
        for column in columns:
            value = record.get(column)
            if value and value not in known:
                message = f"unknown {what} {value!r} (not in {target.label})"
                problems.append(Problem(table.label, record.row, column, message))
    return problems


def _cross_checks(tables: _Tables) -> list[Problem]:
    """Duplicate ids and references to unknown houses and children."""
    t = tables
    return [
        *_duplicates(t.houses, "house_id"),
        *_duplicates(t.children, "child_id"),
        *_unknown_refs(t.children, ["home_house"], t.houses, "house_id", "house"),
        *_unknown_refs(t.unavailable, ["child_id"], t.children, "child_id", "child"),
        *_unknown_refs(t.wishes, ["child_id"], t.children, "child_id", "child"),
        *_unknown_refs(t.incompatible, ["child_a", "child_b"], t.children, "child_id", "child"),
        *_unknown_refs(t.closures, ["house_id"], t.houses, "house_id", "house"),
        *_unknown_refs(t.pins, ["child_id"], t.children, "child_id", "child"),
        *_unknown_refs(t.pins, ["house_id"], t.houses, "house_id", "house"),
    ]


def _closure_checks(tables: _Tables) -> list[Problem]:
    """A closure of more places than its house has (the scenario files refuse it too)."""
    places = {h.house_id: h.places for h in tables.houses.models()}
    problems = []
    for row, closure in tables.closures.valid:
        have = places.get(closure.house_id)
        if have is not None and closure.places_closed > have:
            message = f"closes {closure.places_closed} places; {closure.house_id} has {have}"
            problems.append(Problem(tables.closures.label, row, "places_closed", message))
    return problems


def _child_checks(tables: _Tables) -> list[Problem]:
    """Vedtak length and whether the home house takes the child's category."""
    label = tables.children.label
    houses = {h.house_id: h for h in tables.houses.models()}
    problems = []
    for row, child in tables.children.valid:
        days = (child.vedtak_to - child.vedtak_from).days
        if days > MAX_VEDTAK_DAYS:
            message = (
                f"the vedtak runs {days + 1} days ({child.vedtak_from} to {child.vedtak_to}); "
                "the guideline forbids a vedtak over one year"
            )
            problems.append(Problem(label, row, "vedtak_to", message))
        home = houses.get(child.home_house or "")
        if home is not None and not home.accepts(child.category):
            message = (
                f"home house {home.house_id!r} does not take category {child.category} "
                f"(it takes {_describe_categories(home)})"
            )
            problems.append(Problem(label, row, "home_house", message))
    return problems


def _describe_categories(house: House) -> str:
    """E.g. ``2, 3 and conditionally 4``."""
    parts = sorted(house.categories)
    text = ", ".join(parts) if parts else "no category"
    if house.conditional_categories:
        text += f" and conditionally {', '.join(sorted(house.conditional_categories))}"
    return text


def _config_checks(raw: _RawConfig, config: RoundConfig | None, tables: _Tables) -> list[Problem]:
    """Acute reserve: known houses only, never more places than the house has."""
    problems: list[Problem] = []
    reserve = raw.data.get("acute_reserve")
    if not isinstance(reserve, Mapping):
        return problems
    if tables.houses.loaded:
        known = tables.houses.ids("house_id")
        for house_id in reserve:
            if house_id not in known:
                column = f"acute_reserve.{house_id}"
                message = f"unknown house {house_id!r} (not in {tables.houses.label})"
                problems.append(Problem(raw.label, raw.rows.get(column), column, message))
    houses = {h.house_id: h for h in tables.houses.models()}
    for house_id, places in (config.acute_reserve if config else {}).items():
        house = houses.get(house_id)
        if house is not None and places > house.places:
            column = f"acute_reserve.{house_id}"
            message = f"acute reserve {places} is more than the {house.places} places of the house"
            problems.append(Problem(raw.label, raw.rows.get(column), column, message))
        if house is not None and places > 0 and house.kind.value == "barnebolig":
            column = f"acute_reserve.{house_id}"
            message = (
                "an acute reserve in a barnebolig takes a bed from its residents; acute respite "
                "goes through the respite houses"
            )
            problems.append(Problem(raw.label, raw.rows.get(column), column, message))
    return problems


def _dedupe_pairs(rows: Iterable[Incompatible]) -> tuple[Incompatible, ...]:
    """Keep the first of each unordered pair: ``A,B`` and ``B,A`` are the same pair."""
    seen: set[frozenset[str]] = set()
    kept = []
    for row in rows:
        pair = frozenset((row.child_a, row.child_b))
        if pair not in seen:
            seen.add(pair)
            kept.append(row)
    return tuple(kept)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Group problems by file (in the order files were read), then by row; stable otherwise.

    A message that would repeat a national-ID-like number from a cell (``not a date: ...`` on a
    shifted row, say) shows `allocator.io.national_id.HIDDEN` instead.
    """
    order: dict[str, int] = {}
    for problem in problems:
        order.setdefault(problem.file, len(order))
    ordered = sorted(problems, key=lambda p: (order[p.file], p.row or 0))
    return [replace(p, message=hide_national_ids(p.message)) for p in ordered]


def _open_source(path: Path) -> _Source:
    """A folder or workbook source; a missing or unsupported path raises `InputError`."""
    if not path.exists():
        message = "input not found: no such folder or .xlsx workbook"
        raise InputError([Problem(str(path), None, None, message)])
    if path.is_dir():
        return _FolderSource(path)
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return _WorkbookSource(path)
    message = "not a round input: give a folder of CSV files or an .xlsx workbook"
    raise InputError([Problem(str(path), None, None, message)])


def _load_tables(source: _Source, problems: list[Problem]) -> _Tables:
    """Load every table of the contract from `source`."""
    return _Tables(
        houses=_load_table(HOUSES, source, problems),
        children=_load_table(CHILDREN, source, problems),
        unavailable=_load_table(UNAVAILABLE, source, problems),
        wishes=_load_table(WISHES, source, problems),
        incompatible=_load_table(INCOMPATIBLE, source, problems),
        closures=_load_table(CLOSURES, source, problems),
        calendar=_load_table(CALENDAR, source, problems),
        pins=_load_table(PINS, source, problems),
    )


def read_round(path: str | Path) -> RoundInput:
    """Read and validate the whole input of a round.

    Parameters
    ----------
    path
        A folder holding ``houses.csv``, ``children.csv`` and ``round.toml`` (required) and
        ``unavailable.csv``, ``wishes.csv``, ``incompatible.csv``, ``closures.csv``,
        ``calendar.csv`` (optional), or an ``.xlsx`` workbook with one sheet per file
        (``houses`` or ``houses.csv``, ..., and ``round`` with columns ``key, value``).

    Returns
    -------
    RoundInput
        The validated input; rows keep file order, repeated incompatible pairs are dropped,
        and ``source`` is ``str(path)``.

    Raises
    ------
    InputError
        With every problem found in every file, each naming file, row and column.
    """
    path = Path(path)
    source = _open_source(path)
    problems: list[Problem] = []
    tables = _load_tables(source, problems)
    raw_config = source.config(problems)
    config = _validate_config(raw_config, problems) if raw_config is not None else None
    problems.extend(_cross_checks(tables))
    problems.extend(_child_checks(tables))
    problems.extend(_closure_checks(tables))
    if raw_config is not None:
        problems.extend(_config_checks(raw_config, config, tables))
    if problems or config is None:
        raise InputError(_in_file_order(problems))
    return RoundInput(
        config=config,
        houses=tables.houses.models(),
        children=tables.children.models(),
        unavailable=tables.unavailable.models(),
        wishes=tables.wishes.models(),
        incompatible=_dedupe_pairs(tables.incompatible.models()),
        closures=tables.closures.models(),
        calendar=tables.calendar.models(),
        pins=tables.pins.models(),
        source=str(path),
    )


def table_rows(source: str | Path, table: str, key_column: str) -> tuple[str, dict[str, int]]:
    """Find the spreadsheet row of each id in one table of a round's input.

    Used to point warnings about a validated `RoundInput` back at the file (see
    `allocator.validate`). Rows are not validated again.

    Parameters
    ----------
    source
        The path the round was read from (``RoundInput.source``).
    table
        Table name without extension, e.g. ``"children"``.
    key_column
        The id column, e.g. ``"child_id"``.

    Returns
    -------
    tuple of str and dict
        The file label (e.g. ``"children.csv"``) and ``{id: row}``; the first row wins.

    Raises
    ------
    InputError
        When the source or the table cannot be read.
    """
    problems: list[Problem] = []
    src = _open_source(Path(source))
    grid = src.grid(table, problems)
    if grid is None or not grid.readable:
        missing = Problem(src.label(table), None, None, "cannot be read")
        raise InputError(problems or [missing])
    _, records = _records(grid, [])
    rows: dict[str, int] = {}
    for record in records:
        value = record.get(key_column)
        if value:
            rows.setdefault(value, record.row)
    return grid.label, rows
