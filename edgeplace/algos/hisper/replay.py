"""A ring buffer of time-aligned joint transitions for multi-agent off-policy learning.

RLlib's multi-agent replay samples each module's transitions independently; HASAC-style learners
need every agent's action of the *same* env step next to the global state, so each row here is one
joint transition (e.g. state, every agent's action, reward parts, next state, terminated) and a
sample returns whole rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from ray.rllib.utils.checkpoints import Checkpointable


@dataclass(frozen=True)
class Column:
    """One field of a transition: its per-row shape and dtype."""

    shape: tuple[int, ...]
    dtype: str


class JointReplayBuffer(Checkpointable):
    """Fixed-capacity numpy ring buffer of joint transitions with seeded uniform sampling.

    Args:
        capacity: Rows kept; once full, the oldest rows are overwritten.
        columns: Field name -> :class:`Column` (per-row shape and dtype).
        seed: Seed of the sampling generator (same seed and same adds: same samples).

    Shapes:
        add: ``rows[name]`` (R, *shape) for every column -> stored as R consecutive rows;
        sample(B): ``out[name]`` (B, *shape), row i of every column from the same transition.
    """

    def __init__(self, capacity: int, columns: Mapping[str, Column], seed: int = 0) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        if not columns:
            raise ValueError("columns must name at least one field")
        self.capacity = int(capacity)
        self.columns = {name: Column(tuple(col.shape), str(col.dtype)) for name, col in columns.items()}
        self.seed = int(seed)
        self.storage = {
            name: np.zeros((self.capacity, *col.shape), dtype=col.dtype) for name, col in self.columns.items()
        }
        self.rng = np.random.default_rng(self.seed)
        self.next_row = 0
        self.size = 0
        self.rows_added = 0

    def __len__(self) -> int:
        return self.size

    def add(self, rows: Mapping[str, np.ndarray]) -> None:
        """Append R rows (every column, same R); wraps around when full."""
        missing = sorted(set(self.columns) - set(rows))
        extra = sorted(set(rows) - set(self.columns))
        if missing or extra:
            raise ValueError(f"add: missing columns {missing}, unknown columns {extra}")
        counts = {name: np.shape(rows[name])[0] if np.ndim(rows[name]) else None for name in self.columns}
        count = next(iter(counts.values()))
        for name, col in self.columns.items():
            shape = np.shape(rows[name])
            if shape[1:] != col.shape or counts[name] != count:
                raise ValueError(
                    f"add: column {name!r} must be (R, {', '.join(map(str, col.shape))}) with the same R as "
                    f"the others ({count}), got {shape}"
                )
        if count is None or count == 0:
            return
        index = (self.next_row + np.arange(count)) % self.capacity
        if count > self.capacity:  # only the newest `capacity` rows survive
            index, keep = index[-self.capacity :], slice(count - self.capacity, None)
        else:
            keep = slice(None)
        for name in self.columns:
            self.storage[name][index] = np.asarray(rows[name])[keep]
        self.next_row = int((self.next_row + count) % self.capacity)
        self.size = min(self.size + count, self.capacity)
        self.rows_added += count

    def sample(self, batch_size: int) -> dict[str, np.ndarray]:
        """``batch_size`` rows drawn uniformly with replacement (HARL's off-policy sampling)."""
        if self.size == 0:
            raise ValueError("sample: the buffer is empty")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        index = self.rng.integers(0, self.size, size=batch_size)
        return {name: array[index] for name, array in self.storage.items()}

    # --- Checkpointable ------------------------------------------------------------------------
    def get_state(self, components: Any = None, *, not_components: Any = None, **kwargs: Any) -> dict:
        """The filled rows (in storage order), the write position and the sampling generator."""
        return {
            "storage": {name: array[: self.size].copy() for name, array in self.storage.items()},
            "next_row": self.next_row,
            "size": self.size,
            "rows_added": self.rows_added,
            "rng": self.rng.bit_generator.state,
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        size = int(state["size"])
        if size > self.capacity:
            raise ValueError(f"replay state holds {size} rows, more than the capacity {self.capacity}")
        for name, array in self.storage.items():
            stored = state["storage"][name]
            if stored.shape[1:] != array.shape[1:]:
                raise ValueError(
                    f"replay state: column {name!r} has rows {stored.shape[1:]}, expected {array.shape[1:]}"
                )
            array[:size] = stored
        self.size, self.next_row = size, int(state["next_row"])
        self.rows_added = int(state["rows_added"])
        self.rng.bit_generator.state = state["rng"]

    def get_ctor_args_and_kwargs(self) -> tuple[tuple, dict]:
        return (self.capacity, self.columns), {"seed": self.seed}
