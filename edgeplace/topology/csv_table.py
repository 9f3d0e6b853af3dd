"""Small CSV reader for dataset files: case-insensitive file lookup, encoding fallback, columns by name,
and errors that name the file, row and column."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from edgeplace.topology.errors import TopologyError

ENCODINGS = ("utf-8-sig", "gbk")
"""Tried in order; GBK covers the Server4 deployment files of the GenAI-edge data."""


def find_file(directory: Path, pattern: str, what: str) -> Path:
    """The one file in ``directory`` whose name fully matches regex ``pattern``, ignoring case.

    Raises:
        TopologyError: no file or several files match.
    """
    regex = re.compile(pattern, re.IGNORECASE)
    matches = sorted(p for p in directory.iterdir() if p.is_file() and regex.fullmatch(p.name))
    if len(matches) != 1:
        found = "none" if not matches else ", ".join(p.name for p in matches)
        names = sorted(p.name for p in directory.iterdir())
        raise TopologyError(
            f"expected exactly one {what} file (name matching {pattern!r}, any case); matches: {found}; "
            f"directory has: {names}",
            source=str(directory),
        )
    return matches[0]


def read_text(path: Path) -> str:
    """File contents decoded with the first encoding of ``ENCODINGS`` that fits."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise TopologyError(f"cannot read file: {err.strerror}", source=str(path)) from None
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TopologyError(f"cannot decode as any of {ENCODINGS}", source=str(path))


class CsvTable:
    """A CSV file with a header row, read completely; blank lines are skipped.

    ``row`` in errors is the file line number (header = line 1), as ``TopologyError`` documents.
    """

    def __init__(self, path: Path) -> None:
        self.source = str(path)
        reader = csv.reader(io.StringIO(read_text(path), newline=""))
        records: list[tuple[int, list[str]]] = [(reader.line_num, row) for row in reader if row]
        if not records:
            raise TopologyError("file is empty (no header row)", source=self.source)
        self.header_line, header = records[0]
        """Line number of the header row (1 unless blank lines precede it)."""
        self.header = [cell.strip() for cell in header]
        self.rows = [row for _, row in records[1:]]
        self.lines = [line for line, _ in records[1:]]
        for line, row in zip(self.lines, self.rows, strict=True):
            if len(row) != len(self.header):
                raise self.error(
                    line, None, f"expected {len(self.header)} cells like the header, found {len(row)}"
                )

    def error(self, line: int | None, column: str | None, message: str) -> TopologyError:
        """A ``TopologyError`` located in this file."""
        return TopologyError(message, source=self.source, row=line, field=column)

    def cells(self, column: str) -> list[str]:
        """Raw cells of one column, looked up by header name (exact, whitespace-trimmed)."""
        if column not in self.header:
            raise self.error(None, column, f"missing column; the header has {self.header}")
        index = self.header.index(column)
        return [row[index].strip() for row in self.rows]

    def floats(
        self, column: str, *, low: float | None = None, high: float | None = None, positive: bool = False
    ) -> np.ndarray:
        """One numeric column. Shapes: (rows,) float64, finite and within the given bounds."""
        return self.check_numbers(
            self.cells(column), self.lines, column, low=low, high=high, positive=positive
        )

    def ints(self, column: str, *, low: int | None = None, high: int | None = None) -> np.ndarray:
        """One integer column (``"5"`` or ``"5.0"``, not ``"5.5"``). Shapes: (rows,) int64."""
        return self.check_ints(self.cells(column), self.lines, column, low=low, high=high)

    def check_numbers(
        self,
        cells: list[str],
        lines: list[int],
        column: str,
        *,
        low: float | None = None,
        high: float | None = None,
        positive: bool = False,
    ) -> np.ndarray:
        """Parse cells that belong to ``lines`` as finite floats. Shapes: (len(cells),) float64."""
        try:
            values = np.array(cells, dtype=np.float64)
        except ValueError:
            values = np.array(
                [self._float(line, column, cell) for line, cell in zip(lines, cells, strict=True)]
            )
        checks = [(~np.isfinite(values), "not a finite number")]
        if low is not None:
            checks.append((values < low, f"must be >= {low}"))
        if high is not None:
            checks.append((values > high, f"must be <= {high}"))
        if positive:
            checks.append((values <= 0, "must be > 0"))
        for bad, message in checks:
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise self.error(lines[i], column, f"{message}, got {cells[i]!r}")
        return values

    def check_ints(
        self,
        cells: list[str],
        lines: list[int],
        column: str,
        *,
        low: int | None = None,
        high: int | None = None,
    ) -> np.ndarray:
        """Parse cells that belong to ``lines`` as integers. Shapes: (len(cells),) int64."""
        values = self.check_numbers(cells, lines, column, low=low, high=high)
        fractional = np.flatnonzero(values != np.round(values))
        if fractional.size:
            i = int(fractional[0])
            raise self.error(lines[i], column, f"not an integer: {cells[i]!r}")
        return values.astype(np.int64)

    def _float(self, line: int, column: str, cell: str) -> float:
        try:
            return float(cell)
        except ValueError:
            raise self.error(line, column, f"not a number: {cell!r}") from None
