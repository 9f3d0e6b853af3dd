"""The error raised by the trace memory."""

from __future__ import annotations

import functools


class TraceMemoryError(ValueError):
    """Invalid trace records, store arguments or store files.

    The message says where the problem is, e.g. ``"traces.npz, field 'q_ctx': row 3 is not finite"``.

    Args:
        message: What is wrong.
        source: The file that holds the problem (``None`` for in-memory input).
        field: The record field, archive member or argument name.
    """

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None) -> None:
        self.message = message
        self.source = source
        self.field = field
        super().__init__(message)

    def __str__(self) -> str:
        where = [
            part for part in (self.source, None if self.field is None else f"field {self.field!r}") if part
        ]
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def __reduce__(self) -> tuple:
        """Pickle with the location kept (Ray ships errors between processes)."""
        return functools.partial(type(self), source=self.source, field=self.field), (self.message,)
