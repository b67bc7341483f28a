"""Turn the text of a hand-written or logger-written CSV into a header and numeric columns.

Handles: any of , ; tab | as delimiter, LF / CRLF / CR CR LF line ends, a BOM, preamble lines
before the header (Keras' ``model_history_log``), padding columns with no name, a trailing
delimiter on every row (read as pandas and Excel do), decimal commas in a ``;``/tab/``|`` file,
several blocks (only the first is read, and that is reported), and non-numeric cells (reported
with their line, the rest of the column kept).  Empty cells are *missing*; ``nan``/``inf`` are values.
A last line with no line end (a file cut while being written) is not read, and that is reported.
Bounded: at most MAX_COLUMNS columns are read (the rest reported), a cell may be of any length.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np

from ..model import Problem

_DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 10_000
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+(?:[eE][+-]?\d+)?")


@dataclass
class Table:
    """Numeric columns of the first block; ``lines`` maps a data row to its 1-based line."""

    header: list[str]
    values: dict[str, np.ndarray]        # float64, NaN where missing or non-numeric
    present: dict[str, np.ndarray]       # bool: the cell held a number (nan/inf included)
    lines: np.ndarray
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Columns with no numbers at all (dates, host names, a tag column): their cells, by name.
    texts: dict[str, list[str]] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    @property
    def text_columns(self) -> list[str]:
        return list(self.texts)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _choose_delimiter(lines: list[str]) -> str:
    sample = [ln for ln in lines[:40] if ln.strip()]
    best, best_score = ",", -1
    for delim in _DELIMITERS:
        counts = [ln.count(delim) for ln in sample]
        positive = [c for c in counts if c > 0]
        if not positive:
            continue
        mode = max(set(positive), key=positive.count)
        score = sum(1 for c in counts if c == mode)
        if score > best_score:
            best, best_score = delim, score
    return best


def _kind(row: list[str]) -> str:
    """'header' (names only), 'data' (mostly numbers), 'blank' or 'other'."""
    cells = [c.strip() for c in row if c.strip()]
    if not cells:
        return "blank"
    numeric = sum(1 for c in cells if _is_number(c))
    if numeric == 0:
        return "header"
    return "data" if numeric >= len(cells) - numeric else "other"


def _find_header(rows: list[list[str]]) -> int | None:
    """The first names-only row followed (after blanks) by a data row; else the first names-only row."""
    kinds = [_kind(row) for row in rows[:200]]  # a header further down is not a log's header
    next_kind: str | None = None
    header_then_data = first_names = None
    for i in range(len(kinds) - 1, -1, -1):  # backwards, so "the next non-blank row" is known
        if kinds[i] == "header":
            first_names = i
            if next_kind == "data":
                header_then_data = i
        if kinds[i] != "blank":
            next_kind = kinds[i]
    return header_then_data if header_then_data is not None else first_names


def _lines(text: str) -> tuple[list[str], bool]:
    """(the lines, whether the last one ends with a line end)."""
    text = text.lstrip("\ufeff").replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    terminated = bool(lines) and lines[-1] == ""
    if terminated:
        lines.pop()
    return lines, terminated


def _columns_fast(lines: list[str], header_at: int, delim: str, width: int) -> list[tuple] | None:
    """Converted columns after the header, one row per line, parsed by pandas' C parser: a column
    of numbers and blanks comes back as floats (blank -> NaN, so NaN there means *missing*); a
    column with any other text (a literal ``nan`` included) goes through ``_convert``.
    None when the rows are ragged or quoted across lines: the csv module handles those."""
    import pandas as pd

    body = lines[header_at + 1:]
    if not body:
        return [_convert(np.asarray([], dtype=object)) for _ in range(width)]
    try:  # no names: a row with more fields than the first one is an error, not an index column
        frame = pd.read_csv(io.StringIO("\n".join(body)), sep=delim, header=None, engine="c", index_col=False,
                            keep_default_na=False, na_values=[""], skip_blank_lines=False)
    except (ValueError, OverflowError):  # ParserError (ragged rows, odd quoting), an integer of 400 digits:
        return None                          # the slower, forgiving path
    if len(frame) != len(body) or not frame.iloc[:, width:].isna().all().all():
        return None  # extra fields with data in them: the slow path reports them
    columns = []
    for c in range(width):
        if c >= frame.shape[1]:
            columns.append(_convert(np.full(len(body), "", dtype=object)))
            continue
        col = frame.iloc[:, c]
        if col.dtype.kind in "fiub":
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
            empty = np.isnan(values)
            columns.append((None, values, ~empty, np.zeros(len(values), dtype=bool), empty))
        else:
            cells = col.astype(str).to_numpy(dtype=object)  # text: an int of 400 digits stays its digits
            cells[col.isna().to_numpy()] = ""
            columns.append(_convert(cells))
    return columns


def _split_line(line: str, delim: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delim), [])
    except csv.Error:  # a field over the csv module's size limit: plain split (that cell is no number anyway)
        return line.split(delim)


def _split(lines: list[str], delim: str) -> list[list[str]]:
    """The cells of each line, each line on its own (a quoted field does not span lines)."""
    return [_split_line(ln, delim) for ln in lines]


def _looks_cut(rows: list[str], delim: str) -> str | None:
    """Why the last of ``rows`` (a line with no line end) looks cut short, or None.  A cut mid-number
    still parses ("0.1738" of "0.17382508"), so its last cell is compared with the same column
    above it: shorter than every one of them is taken as cut."""
    cells = [[c.strip() for c in _split_line(r, delim)] for r in rows]
    last, above = cells[-1], [r for r in cells[:-1] if any(r)]
    filled = [i for i, c in enumerate(last) if c]
    if not above or not filled:
        return None
    i = filled[-1]
    if any(len(r) > i + 1 and any(r[i + 1:]) for r in above[-5:]):
        return "fewer fields than the rows above it"
    if not _is_number(last[i]):
        return f"its last cell {last[i][:20]!r} is no number"
    column = [r[i] for r in above if len(r) > i and r[i]]
    if column and len(last[i]) < min(len(c) for c in column):
        return f"its last value {last[i]!r} is shorter than every value above it in that column"
    return None


def _first_fields(lines: list[str], delim: str, n: int) -> list[str]:
    """Each line cut after its ``n``-th field (a quoted delimiter may cut early: only for over-wide tables)."""
    return [delim.join(ln.split(delim, n)[:n]) for ln in lines]


def _cells_slow(lines, header_at, delim, width, path, problems) -> list[np.ndarray]:
    rows = _split(lines[header_at + 1:], delim)
    extra = [i for i, r in enumerate(rows) if any(c.strip() for c in r[width:])]
    if extra:
        problems.append(Problem(path, f"{len(extra)} row(s) have more fields than the header; the extra fields "
                                      f"were ignored", partial=True, line=header_at + 2 + extra[0]))
    return [np.asarray([r[c] if c < len(r) else "" for r in rows], dtype=object) for c in range(width)]


_NAN_WORDS = ["nan", "+nan", "-nan"]


def _decimal_commas(column):
    """A column whose every bad cell is a decimal-comma number (``0,01``), read with a point instead;
    None when that is not so (the column is kept as it was)."""
    cells, values, present, bad, empty = column
    if not bad.any() or not all(_DECIMAL_COMMA.fullmatch(str(c).strip()) for c in cells[bad]):
        return None
    fixed = cells.copy()
    fixed[bad] = [str(c).strip().replace(",", ".") for c in cells[bad]]
    return _convert(fixed)


def _convert(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cells, float values, present: a number incl. nan/inf, bad: text that is no number, empty).

    pandas parses the numbers in C; only cells that came out NaN are looked at in Python
    (a literal ``nan`` is a value, blanks are missing, anything else is bad)."""
    import pandas as pd

    cells = np.asarray(cells, dtype=object)
    empty = cells == ""
    bad = np.zeros(len(cells), dtype=bool)
    try:  # the common case, every cell a number or empty: one C loop
        values = np.where(empty, "nan", cells).astype(np.float64)
        return cells, values, ~empty, bad, empty
    except (ValueError, TypeError, OverflowError):
        values = np.asarray(pd.to_numeric(cells, errors="coerce"), dtype=np.float64)
    for i in np.flatnonzero(np.isnan(values) & ~empty):
        text = str(cells[i]).strip()
        if not text:
            empty[i] = True
        elif text.lower() not in _NAN_WORDS:
            bad[i] = True
    return cells, values, ~empty & ~bad, bad, empty


def _rows_to_keep(columns, header, header_at, path, problems, notes) -> np.ndarray:
    """Skip blank rows and a repeated header; stop at a second block (a names-only row)."""
    n_rows = len(columns[0][1]) if columns else 0
    nonempty = np.zeros(n_rows, dtype=np.int64)
    numeric = np.zeros(n_rows, dtype=np.int64)
    for _, _, present, _, empty in columns:
        nonempty += ~empty
        numeric += present
    keep = nonempty > 0
    for i in np.flatnonzero(keep & (numeric == 0)):
        line = header_at + 2 + int(i)
        cells = ["" if col[0] is None else str(col[0][i]).strip() for col in columns]
        if [c for c in cells if c] == [h for h in header if h]:
            notes.append(f"header repeated at line {line}; rows after it read as more data")
            keep[i] = False
            continue
        first = next(c for c in cells if c)
        problems.append(Problem(path, f"a second block starts here ({first[:40]!r}); only the first block "
                                      f"(lines {header_at + 1}-{line - 1}) was read", partial=True, line=line))
        keep[i:] = False
        break
    return keep


def parse_table(path: str, text: str) -> Table:
    """Parse ``text`` into the numeric columns of its first block; problems say what was skipped."""
    lines, terminated = _lines(text)
    delim = _choose_delimiter(lines)
    head_rows = _split(lines[:200], delim)
    header_at = _find_header(head_rows)
    if header_at is None:
        return Table([], {}, {}, np.zeros(0, np.int64), [Problem(path, "no header line found; not a CSV log")])
    problems: list[Problem] = []
    notes = [f"skipped {header_at} line(s) before the header at line {header_at + 1}"] if header_at else []
    header = [c.strip() for c in head_rows[header_at]]
    if len(header) > MAX_COLUMNS:
        problems.append(Problem(path, f"{len(header)} columns; only the first {MAX_COLUMNS} were read "
                                      f"(the most one CSV log may have here)", partial=True, line=header_at + 1))
        header, lines = header[:MAX_COLUMNS], _first_fields(lines, delim, MAX_COLUMNS)
    if not terminated and len(lines) > header_at + 1 and lines[-1].strip():
        lines = _unterminated_last_line(lines, header_at, delim, path, problems, notes)
    columns = _columns_fast(lines, header_at, delim, len(header))
    if columns is None:
        columns = [_convert(c) for c in _cells_slow(lines, header_at, delim, len(header), path, problems)]
    if delim != ",":
        columns = _read_decimal_commas(columns, header, notes)
    keep = _rows_to_keep(columns, header, header_at, path, problems, notes)
    line_numbers = (header_at + 2 + np.flatnonzero(keep)).astype(np.int64)
    table = Table(header=[], values={}, present={}, lines=line_numbers, problems=problems, notes=notes)
    for col, name in enumerate(header):
        column = [None if a is None else a[keep] for a in columns[col]]
        _add_column(table, name or f"column_{col + 1}", column, path, bool(name))
    return table


def _unterminated_last_line(lines, header_at, delim, path, problems, notes) -> list[str]:
    """``lines`` without the last one when it has no line end and looks cut (reported); else as they are."""
    why = _looks_cut(lines[max(header_at + 1, len(lines) - 51):], delim)
    if not why:
        notes.append(f"the last line (line {len(lines)}) has no line end; its values look complete and were read")
        return lines
    problems.append(Problem(path, f"the last line has no line end and {why}: the file was probably cut "
                                  f"while being written; that line was not read", partial=True, line=len(lines)))
    return lines[:-1]


def _read_decimal_commas(columns: list, header: list[str], notes: list[str]) -> list:
    fixed = [_decimal_commas(col) for col in columns]
    names = [name or f"column_{i + 1}" for i, (name, f) in enumerate(zip(header, fixed)) if f is not None]
    if names:
        notes.append(f"decimal commas read as decimal points in column(s) {', '.join(names[:5])}"
                     + (f" and {len(names) - 5} more" if len(names) > 5 else ""))
    return [col if f is None else f for col, f in zip(columns, fixed)]


def _add_column(table: Table, name: str, column, path: str, named: bool) -> None:
    cells, values, present, bad, empty = column
    if not named and empty.all():
        return  # padding: no name, no data
    while name in table.values or name in table.texts:
        name += "_"
    table.header.append(name)
    if bad.any() and not present.any():
        table.texts[name] = [str(t).strip() for t in cells]
        return
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        table.problems.append(Problem(
            path, f"column {name!r}: {int(bad.sum())} non-numeric cell(s), first {str(cells[first]).strip()[:30]!r}; "
                  f"those cells skipped, the rest kept", partial=True, line=int(table.lines[first])))
    table.values[name], table.present[name] = values, present
