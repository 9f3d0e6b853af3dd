"""The raw inputs behind each trace of the ``memory`` planner: the context encoder's inputs, the query
graph and the dispatched z_plan, keyed by trace id. Training the encoder end to end and re-embedding the
traces after a refit read them (a record keeps only the embedding q_ctx)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from edgeplace.atomic_io import write_bytes_atomic

_ID = "trace_id"


class ContextArchive:
    """Fixed-shape arrays per trace id (every entry has the same keys and shapes)."""

    def __init__(self) -> None:
        self._entries: dict[int, dict[str, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, trace_id: int) -> bool:
        return int(trace_id) in self._entries

    def ids(self) -> np.ndarray:
        """Archived trace ids, ascending. Shapes: -> (n,) int64."""
        return np.array(sorted(self._entries), np.int64)

    def add(self, trace_id: int, entry: Mapping[str, np.ndarray]) -> None:
        """Archive ``entry`` under ``trace_id``.

        Raises:
            ValueError: keys or shapes that differ from the archived entries', naming the key.
        """
        entry = {key: np.asarray(value) for key, value in entry.items()}
        if self._entries:
            reference = next(iter(self._entries.values()))
            if set(entry) != set(reference):
                raise ValueError(f"context archive: keys {sorted(entry)} differ from {sorted(reference)}")
            for key, value in entry.items():
                if value.shape != reference[key].shape:
                    raise ValueError(
                        f"context archive: {key!r} has shape {value.shape}, archived {reference[key].shape}"
                    )
        self._entries[int(trace_id)] = entry

    def keep(self, trace_ids: np.ndarray) -> None:
        """Forget every entry whose id is not in ``trace_ids`` (the store evicted it)."""
        alive = set(np.asarray(trace_ids).tolist())
        self._entries = {k: v for k, v in self._entries.items() if k in alive}

    def rekey(self, mapping: Mapping[int, int]) -> None:
        """Move entries to new ids (old -> new); ids not in ``mapping`` are dropped."""
        self._entries = {int(mapping[k]): v for k, v in self._entries.items() if k in mapping}

    def stack(self, trace_ids: np.ndarray) -> dict[str, np.ndarray]:
        """The entries of ``trace_ids`` stacked on a leading axis. Shapes: (n,) -> {key: (n, ...)}."""
        rows = [self._entries[int(i)] for i in np.asarray(trace_ids).tolist()]
        return {key: np.stack([row[key] for row in rows]) for key in rows[0]}

    def save(self, path: Path) -> None:
        """One ``.npz`` written atomically."""
        ids = self.ids()
        arrays = {_ID: ids, **(self.stack(ids) if len(ids) else {})}
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_bytes_atomic(path, buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> ContextArchive:
        """Read a file written by :meth:`save`.

        Raises:
            ValueError: a file without trace ids or with arrays of another length, naming the file.
        """
        archive = cls()
        with np.load(path, allow_pickle=False) as data:
            if _ID not in data:
                raise ValueError(f"{path}: not a context archive (no {_ID!r} array)")
            ids = data[_ID]
            arrays = {key: data[key] for key in data.files if key != _ID}
        for key, value in arrays.items():
            if value.shape[:1] != ids.shape:
                raise ValueError(f"{path}: {key!r} has {value.shape[0]} rows for {ids.size} trace ids")
        for row, trace_id in enumerate(ids.tolist()):
            archive._entries[trace_id] = {key: value[row] for key, value in arrays.items()}
        return archive
