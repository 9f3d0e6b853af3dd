"""TopoRAG trace storage (papers/llm-mappo.md, section d, "Storage"): records sharded by
(majority zone, catalogue size), one faiss index per shard, TTL and capacity eviction.

Records live in one structured array in insertion order (so trace ids, assigned 0, 1, 2, ... on add, are
sorted and ``get`` is a binary search); evicted rows are flagged dead and compacted away once they are
half the array. Each shard's :class:`ShardIndex` holds the unit q_ctx vectors under the trace ids.

Eviction runs after every ``add``, on the traces' own clock (``now`` = the newest timestamp seen):

1. protect the ``keep_best`` traces of every shard with the highest utility U (ties: the newer);
2. drop unprotected traces older than ``now - ttl_s``;
3. while more than ``capacity`` traces remain, drop unprotected ones oldest first (ties: lower id).

So ``len(memory) <= max(capacity, keep_best * shards)``. Everything is deterministic given the insertion
order (ids, eviction order, k-means seed).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from edgeplace.atomic_io import write_bytes_atomic
from edgeplace.planners.trace_memory.errors import TraceMemoryError
from edgeplace.planners.trace_memory.shard_index import ShardIndex, unit_rows
from edgeplace.planners.trace_memory.trace import TraceLayout, validate_traces

ShardKey = tuple[int, int]
"""(majority zone, catalogue size in microservices)."""
CAPACITY = {"small": 20_000, "paper": 200_000}
"""Trace capacity per preset."""
DEFAULT_TTL_S = 14 * 86_400.0
FORMAT = "edgeplace-trace-memory"
VERSION = 1
_SHARD_STRIDE = 1 << 16  # shard code = zone * stride + catalogue size (catalogue_ms is int16)


class TraceMemory:
    """The trace store.

    Args:
        layout: record sizes (classes, slots, edges, q_ctx width).
        capacity: most live traces (``CAPACITY["small"]`` / ``CAPACITY["paper"]``).
        ttl_s: traces older than this (on the traces' clock) are evicted; None keeps them until capacity.
        keep_best: traces per shard never evicted (highest U).
        nprobe: IVF lists probed per search.
        min_ivf: fewest traces for a shard to use IVF instead of exact search.
        rebuild_growth: IVF rebuild factor (see :mod:`.shard_index`).
        seed: faiss k-means seed.
    """

    def __init__(
        self,
        layout: TraceLayout | None = None,
        capacity: int = CAPACITY["small"],
        ttl_s: float | None = DEFAULT_TTL_S,
        keep_best: int = 5,
        nprobe: int = 8,
        min_ivf: int = 2048,
        rebuild_growth: float = 2.0,
        seed: int = 0,
    ) -> None:
        self.layout = layout or TraceLayout.small()
        for name, value, low in (
            ("capacity", capacity, 1),
            ("keep_best", keep_best, 0),
            ("nprobe", nprobe, 1),
            ("min_ivf", min_ivf, 1),
        ):
            if not isinstance(value, int) or value < low:
                raise TraceMemoryError(f"must be an int >= {low}, got {value!r}", field=name)
        if ttl_s is not None and not ttl_s > 0:
            raise TraceMemoryError(f"must be > 0 or None, got {ttl_s!r}", field="ttl_s")
        if not rebuild_growth > 1:
            raise TraceMemoryError(f"must be > 1, got {rebuild_growth!r}", field="rebuild_growth")
        self.capacity, self.ttl_s, self.keep_best = capacity, ttl_s, keep_best
        self.nprobe, self.min_ivf, self.rebuild_growth, self.seed = nprobe, min_ivf, rebuild_growth, seed
        self._records = self.layout.empty(0)
        self._ids = np.zeros(0, np.int64)
        self._alive = np.zeros(0, bool)
        self._size = 0
        self._next_id = 0
        self._now_s = -np.inf
        self._shards: dict[ShardKey, ShardIndex] = {}

    @classmethod
    def for_preset(cls, preset: str, **kwargs) -> TraceMemory:
        """A memory with the preset's layout and capacity (``"small"`` or ``"paper"``); other settings
        as :class:`TraceMemory` (``kwargs``)."""
        layouts = {"small": TraceLayout.small, "paper": TraceLayout.paper}
        if preset not in layouts:
            raise TraceMemoryError(
                f"unknown preset {preset!r}, expected one of {sorted(layouts)}", field="preset"
            )
        return cls(layouts[preset](), CAPACITY[preset], **kwargs)

    # ------------------------------------------------------------------ queries

    def __len__(self) -> int:
        """Live traces."""
        return int(self._alive[: self._size].sum())

    @property
    def now_s(self) -> float:
        """The newest timestamp added (-inf when empty); ages are measured from it."""
        return float(self._now_s)

    def shard_keys(self) -> list[ShardKey]:
        """Shards, sorted."""
        return sorted(self._shards)

    def shard(self, key: ShardKey) -> ShardIndex:
        """A shard's index (KeyError for an unknown shard)."""
        return self._shards[key]

    def ids(self) -> np.ndarray:
        """Live trace ids, ascending. Shapes: -> (n,) int64."""
        return self._ids[: self._size][self._alive[: self._size]]

    def search(self, shard_key: ShardKey, q_ctx: np.ndarray, k: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` traces of a shard closest to ``q_ctx`` by cosine, best first; empty for an unknown shard.

        Shapes: q_ctx (Q,) -> ids (k',) int64, cosine (k',) float32, k' <= k.
        """
        query = np.asarray(q_ctx, np.float32)
        if query.shape != (self.layout.q_dim,) or not np.all(np.isfinite(query)) or not query.any():
            raise TraceMemoryError(f"expected a finite non-zero ({self.layout.q_dim},) vector", field="q_ctx")
        shard = self._shards.get((int(shard_key[0]), int(shard_key[1])))
        if shard is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        return shard.search(unit_rows(query[None])[0], k)

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, np.int64).reshape(-1)
        if self._size == 0:
            rows = np.zeros(ids.size, np.int64)
        else:
            # Rows since the last compaction hold consecutive ids: guess from the end, binary-search the rest.
            rows = self._size - 1 - (self._ids[self._size - 1] - ids)
            guessed = (rows >= 0) & (rows < self._size)
            guessed[guessed] = self._ids[rows[guessed]] == ids[guessed]
            if not guessed.all():
                rows[~guessed] = np.searchsorted(self._ids[: self._size], ids[~guessed])
        found = rows < self._size
        found[found] = (self._ids[rows[found]] == ids[found]) & self._alive[rows[found]]
        if not found.all():
            raise KeyError(f"trace ids not in the memory: {ids[~found][:5].tolist()}")
        return rows

    def get(self, ids: np.ndarray) -> np.ndarray:
        """Records of live trace ids (KeyError for unknown or evicted ones). Shapes: (n,) -> (n,) records."""
        return self._records[self._rows(ids)]

    def get_columns(self, ids: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Some fields of live trace ids, copying only those fields. Shapes: (n,) -> {name: (n, ...)}."""
        rows = self._rows(ids)
        fields = self._records.dtype.fields
        unknown = [name for name in names if name not in fields]
        if unknown:
            raise TraceMemoryError("unknown trace field", field=unknown[0])
        # One gather of the byte span holding the fields (adjacent ones, like the scored fields, make it one
        # short contiguous copy per row instead of a scattered read per field).
        low = min(fields[name][1] for name in names)
        high = max(fields[name][1] + fields[name][0].itemsize for name in names)
        raw = self._records.view(np.uint8).reshape(self._records.shape[0], -1)[rows, low:high]
        span = np.dtype(
            {
                "names": list(names),
                "formats": [fields[name][0] for name in names],
                "offsets": [fields[name][1] - low for name in names],
                "itemsize": high - low,
            }
        )
        packed = raw.view(span).reshape(rows.shape[0])
        return {name: packed[name] for name in names}

    # ------------------------------------------------------------------ updates

    def add(self, batch: np.ndarray | Mapping[str, np.ndarray]) -> np.ndarray:
        """Validate, store and index a batch of records, then evict; returns the assigned trace ids.

        ``batch``: records of ``layout.dtype`` or per-field columns (:meth:`TraceLayout.from_columns`);
        ``trace_id`` is overwritten. Shapes: (n,) -> (n,) int64.
        """
        if isinstance(batch, Mapping):
            batch = self.layout.from_columns(batch)
        validate_traces(self.layout, batch)
        n = batch.shape[0]
        ids = np.arange(self._next_id, self._next_id + n, dtype=np.int64)
        if n == 0:
            return ids
        records = self.layout.empty(n)
        for name in records.dtype.names:  # by name: structured assignment would go by field position
            records[name] = batch[name]
        records["trace_id"] = ids
        self._append(records)
        self._next_id += n
        self._now_s = max(self._now_s, float(records["timestamp_s"].max()))
        codes = self._codes(records)
        unit = unit_rows(records["q_ctx"])
        for code in np.unique(codes):
            key = self._key(code)
            if key not in self._shards:
                self._shards[key] = ShardIndex(
                    self.layout.q_dim, self.nprobe, self.min_ivf, self.rebuild_growth, self.seed
                )
            mine = codes == code
            self._shards[key].add(unit[mine], ids[mine])
        touched = set(np.unique(codes).tolist()) | self._evict()
        for code in sorted(touched):
            self._refresh(self._key(code))
        return ids

    def _append(self, records: np.ndarray) -> None:
        need = self._size + records.shape[0]
        if need > self._records.shape[0]:
            grown = max(need, 2 * self._records.shape[0], 1024)
            for name, fill in (("_records", None), ("_ids", 0), ("_alive", False)):
                old = getattr(self, name)
                new = self.layout.empty(grown) if fill is None else np.full(grown, fill, old.dtype)
                new[: self._size] = old[: self._size]
                setattr(self, name, new)
        self._records[self._size : need] = records
        self._ids[self._size : need] = records["trace_id"]
        self._alive[self._size : need] = True
        self._size = need

    @staticmethod
    def _codes(records: np.ndarray) -> np.ndarray:
        return records["shard_zone"].astype(np.int64) * _SHARD_STRIDE + records["catalogue_ms"].astype(
            np.int64
        )

    @staticmethod
    def _key(code: int) -> ShardKey:
        return int(code) // _SHARD_STRIDE, int(code) % _SHARD_STRIDE

    def _evict(self) -> set[int]:
        """Apply the eviction rules; returns the shard codes that lost traces."""
        live_rows = np.flatnonzero(self._alive[: self._size])
        ts = self._records["timestamp_s"][live_rows]
        expired_any = self.ttl_s is not None and bool((ts < self._now_s - self.ttl_s).any())
        if not expired_any and live_rows.size <= self.capacity:
            return set()
        codes = self._codes(self._records[["shard_zone", "catalogue_ms"]][live_rows])
        ids = self._ids[live_rows]
        order = np.lexsort((-ids, -self._records["utility"][live_rows].astype(np.float64), codes))
        sorted_codes = codes[order]
        first = np.searchsorted(sorted_codes, sorted_codes, side="left")
        protected = np.zeros(live_rows.size, bool)
        protected[order[np.arange(order.size) - first < self.keep_best]] = True
        drop = ~protected & (ts < self._now_s - self.ttl_s) if expired_any else np.zeros(live_rows.size, bool)
        over = live_rows.size - int(drop.sum()) - self.capacity
        if over > 0:
            candidates = np.flatnonzero(~protected & ~drop)
            oldest = candidates[np.lexsort((ids[candidates], ts[candidates]))]
            drop[oldest[:over]] = True
        if not drop.any():
            return set()
        self._alive[live_rows[drop]] = False
        for code in np.unique(codes[drop]):
            self._shards[self._key(code)].remove(ids[drop & (codes == code)])
        if self._size - len(self) > max(1024, len(self)):
            self._compact()
        return set(np.unique(codes[drop]).tolist())

    def _compact(self) -> None:
        keep = np.flatnonzero(self._alive[: self._size])
        self._records = self._records[keep]
        self._ids = self._ids[keep]
        self._alive = np.ones(keep.size, bool)
        self._size = keep.size

    def _refresh(self, key: ShardKey) -> None:
        """Rebuild a shard's index if its size calls for it; drop a shard that lost every trace."""
        shard = self._shards[key]
        n = shard.ntotal
        if n == 0:
            del self._shards[key]
        elif shard.needs_rebuild(n):
            rows = np.flatnonzero(
                self._alive[: self._size]
                & (self._records["shard_zone"][: self._size] == key[0])
                & (self._records["catalogue_ms"][: self._size] == key[1])
            )
            shard.rebuild(unit_rows(self._records["q_ctx"][rows]), self._ids[rows])

    # ------------------------------------------------------------------ files

    def _meta(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "layout": {
                k: int(getattr(self.layout, k)) for k in ("num_classes", "max_slots", "max_edges", "q_dim")
            },
            "capacity": self.capacity,
            "ttl_s": self.ttl_s,
            "keep_best": self.keep_best,
            "nprobe": self.nprobe,
            "min_ivf": self.min_ivf,
            "rebuild_growth": self.rebuild_growth,
            "seed": self.seed,
            "next_id": self._next_id,
            "now_s": self._now_s if np.isfinite(self._now_s) else None,
            "shards": [[z, c, self._shards[(z, c)].trained_n] for z, c in self.shard_keys()],
        }

    def save(self, path: str | Path) -> Path:
        """Write the live records, settings and every shard's serialised faiss index (no retraining on
        load, so searches after :meth:`load` return bit-identical results) to one ``.npz``, atomically."""
        path = Path(path)
        arrays = {
            "meta": np.frombuffer(json.dumps(self._meta()).encode("utf-8"), np.uint8),
            "records": self._records[: self._size][self._alive[: self._size]],
        }
        for i, key in enumerate(self.shard_keys()):
            arrays[f"index_{i}"] = self._shards[key].serialize()
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_bytes_atomic(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: str | Path) -> TraceMemory:
        """Read a file written by :meth:`save`; a missing, corrupt or inconsistent file raises
        :class:`TraceMemoryError` naming the file and the member or field."""
        path = Path(path)
        source = str(path)
        try:
            archive = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise TraceMemoryError("no such file", source=source) from None
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            raise TraceMemoryError(f"not an npz archive ({err})", source=source) from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise TraceMemoryError("not an npz archive", source=source)
        with archive:
            return cls._from_archive(archive, source)

    @classmethod
    def _from_archive(cls, archive: np.lib.npyio.NpzFile, source: str) -> TraceMemory:
        def member(name: str) -> np.ndarray:
            if name not in archive.files:
                raise TraceMemoryError("missing", source=source, field=name)
            try:
                return archive[name]
            except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
                raise TraceMemoryError(f"unreadable ({err})", source=source, field=name) from None

        try:
            meta = json.loads(member("meta").tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT or meta.get("version") != VERSION:
                raise ValueError(f"format {meta.get('format')!r} version {meta.get('version')!r}")
            layout = TraceLayout(**meta["layout"])
            memory = cls(
                layout,
                meta["capacity"],
                meta["ttl_s"],
                meta["keep_best"],
                meta["nprobe"],
                meta["min_ivf"],
                meta["rebuild_growth"],
                meta["seed"],
            )
            next_id, now_s, shards = int(meta["next_id"]), meta["now_s"], meta["shards"]
        except TraceMemoryError as err:
            raise TraceMemoryError(err.message, source=source, field=f"meta.{err.field}") from None
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
            raise TraceMemoryError(f"bad metadata ({err!r})", source=source, field="meta") from None
        records = member("records")
        if records.dtype != layout.dtype or records.ndim != 1:
            raise TraceMemoryError(
                f"dtype {records.dtype} does not match the layout", source=source, field="records"
            )
        try:
            validate_traces(layout, records)
        except TraceMemoryError as err:
            raise TraceMemoryError(err.message, source=source, field=f"records.{err.field}") from None
        ids = records["trace_id"]
        if ids.size and (np.any(np.diff(ids) <= 0) or ids[0] < 0 or ids[-1] >= next_id):
            raise TraceMemoryError(
                "trace ids not increasing within [0, next_id)", source=source, field="records.trace_id"
            )
        memory._append(records)
        memory._next_id = next_id
        memory._now_s = -np.inf if now_s is None else float(now_s)
        codes = cls._codes(records)
        for i, (zone, catalogue, trained_n) in enumerate(shards):
            field = f"index_{i}"
            shard = ShardIndex.deserialize(
                member(field),
                int(trained_n),
                layout.q_dim,
                memory.nprobe,
                memory.min_ivf,
                memory.rebuild_growth,
                memory.seed,
                source=source,
                field=field,
            )
            count = int((codes == zone * _SHARD_STRIDE + catalogue).sum())
            if shard.ntotal != count:
                raise TraceMemoryError(
                    f"holds {shard.ntotal} vectors, the shard has {count} records", source=source, field=field
                )
            memory._shards[(int(zone), int(catalogue))] = shard
        if sum(s.ntotal for s in memory._shards.values()) != records.size:
            raise TraceMemoryError("records without a shard index", source=source, field="meta.shards")
        return memory
