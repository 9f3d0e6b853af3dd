"""Errors raised by the topology core."""

from __future__ import annotations

import functools


class TopologyError(ValueError):
    """An invalid topology file, URI or argument.

    The message says where the problem is, for example
    ``"server1_information.csv, row 7, field 'ComputationCapacity': not a number: 'abc'"``.

    Args:
        message: What is wrong.
        source: The file path, topology URI or substrate name that holds the problem.
        row: The 1-based line number in ``source`` as an editor shows it: the header is line 1,
            so the first data row of a CSV file is row 2.
        field: The column, attribute or parameter name.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.row = row
        self.field = field
        super().__init__(message)

    def __str__(self) -> str:
        where = []
        if self.source is not None:
            where.append(self.source)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def __reduce__(self) -> tuple:
        """Pickle with the location kept (Ray ships errors between processes)."""
        rebuild = functools.partial(type(self), source=self.source, row=self.row, field=self.field)
        return rebuild, (self.message,)


class InsufficientCapacityError(TopologyError):
    """A ledger allocation asked for more than the free node resources or link bandwidth."""
