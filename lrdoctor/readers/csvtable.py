"""Turn the text of a hand-written or logger-written CSV into a header and numeric columns.

Handles: any of , ; tab | as delimiter, LF / CRLF / CR CR LF line ends, a BOM, preamble lines
before the header (Keras' ``model_history_log``), padding columns with no name, several
blocks (only the first is read, and that is reported), and non-numeric cells (reported with
their line, the rest of the column kept).  Empty cells are *missing*; ``nan``/``inf`` are values.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field

import numpy as np

from ..model import Problem

_DELIMITERS = (",", ";", "\t", "|")


@dataclass
class Table:
    """Numeric columns of the first block; ``lines`` maps a data row to its 1-based line."""

    header: list[str]
    values: dict[str, np.ndarray]        # float64, NaN where missing or non-numeric
    present: dict[str, np.ndarray]       # bool: the cell held a number (nan/inf included)
    text_columns: list[str]              # columns with no numbers at all (dates, hostnames)
    lines: np.ndarray
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)  # cells of the text columns

    @property
    def n_rows(self) -> int:
        return len(self.lines)


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
    first_names = None
    for i, row in enumerate(rows):
        if _kind(row) != "header":
            continue
        first_names = i if first_names is None else first_names
        following = next((_kind(r) for r in rows[i + 1:] if _kind(r) != "blank"), None)
        if following == "data":
            return i
    return first_names


def _split_rows(text: str) -> tuple[list[list[str]], str]:
    text = text.lstrip("\ufeff").replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    delim = _choose_delimiter(lines)
    return list(csv.reader(lines, delimiter=delim)), delim


def _block_rows(rows, header_at, header, path, problems, notes):
    """Data rows of the first block, with their 1-based line numbers."""
    data, lines = [], []
    for i in range(header_at + 1, len(rows)):
        row, kind = rows[i], _kind(rows[i])
        if kind == "blank":
            continue
        if kind == "header":
            if [c.strip() for c in row] == header:
                notes.append(f"header repeated at line {i + 1}; rows after it read as more data")
                continue
            problems.append(Problem(path, f"a second block starts here ({row[0].strip()[:40]!r}); only the first "
                                          f"block (lines {header_at + 1}-{i}) was read", partial=True, line=i + 1))
            break
        data.append(row)
        lines.append(i + 1)
    return data, np.asarray(lines, dtype=np.int64)


def _convert_column(name, cells, lines, path, problems):
    values = np.full(len(cells), np.nan)
    present = np.zeros(len(cells), dtype=bool)
    bad = []
    for j, cell in enumerate(cells):
        cell = cell.strip()
        if not cell:
            continue
        try:
            values[j] = float(cell)
            present[j] = True
        except ValueError:
            bad.append(j)
    if bad and present.any():
        first = bad[0]
        problems.append(Problem(path, f"column {name!r}: {len(bad)} non-numeric cell(s), first {cells[first].strip()[:30]!r}; "
                                      f"those cells skipped, the rest kept", partial=True, line=int(lines[first])))
    return values, present, bool(bad) and not present.any()


def parse_table(path: str, text: str) -> Table | None:
    """Parse ``text``; None (with nothing to read) is reported by the caller from ``problems``."""
    rows, _ = _split_rows(text)
    problems: list[Problem] = []
    notes: list[str] = []
    header_at = _find_header(rows)
    if header_at is None:
        return Table([], {}, {}, [], np.zeros(0, np.int64), [Problem(path, "no header line found; not a CSV log")], [])
    if header_at:
        notes.append(f"skipped {header_at} line(s) before the header at line {header_at + 1}")
    header = [c.strip() for c in rows[header_at]]
    data, lines = _block_rows(rows, header_at, header, path, problems, notes)
    table = Table(header=[], values={}, present={}, text_columns=[], lines=lines, problems=problems, notes=notes)
    seen: set[str] = set()
    for col, name in enumerate(header):
        cells = [r[col] if col < len(r) else "" for r in data]
        if not name:
            if any(c.strip() for c in cells):
                name = f"column_{col + 1}"
            else:
                continue  # padding: no name, no data
        while name in seen:
            name += "_"
        seen.add(name)
        values, present, is_text = _convert_column(name, cells, lines, path, problems)
        table.header.append(name)
        if is_text:
            table.text_columns.append(name)
            table.texts[name] = [c.strip() for c in cells]
        else:
            table.values[name], table.present[name] = values, present
    return table
