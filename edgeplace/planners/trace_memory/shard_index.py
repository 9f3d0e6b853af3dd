"""The faiss index of one trace-memory shard: cosine search over L2-normalised q_ctx.

Index policy (amortised; ``n`` = the shard's live traces):

* ``n < min_ivf``: exact search, ``IndexIDMap2(IndexFlatIP)``.
* ``n >= min_ivf``: ``IndexIVFFlat`` with inner product, ``round(sqrt(n))`` lists trained by spherical
  k-means (faiss ``Clustering``, seed fixed, so the lists depend only on the vectors and their order),
  ``nprobe`` lists probed. k-means trains on at most 256 points per list (faiss's seeded subsample).
* The IVF is rebuilt from the shard's vectors (retrain + re-add) when ``n`` leaves
  ``[trained_n / growth, trained_n * growth]``; it falls back to exact search below ``min_ivf / growth``
  (hysteresis, so a shard at the boundary does not flip). With growth 2 the lists stay within a factor
  sqrt(2) of sqrt(n), and since sizes at rebuild grow geometrically, the total rebuild work is a constant
  factor times the last rebuild: O(sqrt(n)) amortised per inserted trace.

Between rebuilds, traces are added to (and removed from) the trained lists directly.
"""

from __future__ import annotations

import math

import faiss
import numpy as np

from edgeplace.planners.trace_memory.errors import TraceMemoryError


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, float32, C-contiguous. Shapes: (n, Q) -> (n, Q)."""
    x = np.asarray(x, np.float32)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norm, np.float32(1e-12)))


class ShardIndex:
    """One shard's vectors keyed by trace id, searchable by cosine similarity.

    Args:
        dim: Q, width of q_ctx.
        nprobe: lists probed per IVF search.
        min_ivf: fewest traces for an IVF (exact search below).
        growth: rebuild factor (> 1), see the module docstring.
        seed: k-means seed.
    """

    def __init__(self, dim: int, nprobe: int, min_ivf: int, growth: float, seed: int) -> None:
        self.dim, self.nprobe, self.min_ivf, self.growth, self.seed = dim, nprobe, min_ivf, growth, seed
        self.trained_n = 0
        """Traces the IVF lists were trained on; 0 for exact search."""
        self.index: faiss.Index = self._flat()

    def _flat(self) -> faiss.Index:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def is_ivf(self) -> bool:
        return self.trained_n > 0

    @property
    def nlist(self) -> int:
        """IVF lists (0 for exact search)."""
        return int(self.index.nlist) if self.is_ivf else 0

    def add(self, unit: np.ndarray, ids: np.ndarray) -> None:
        """Add unit vectors under trace ids. Shapes: unit (n, Q) float32, ids (n,) int64."""
        self.index.add_with_ids(unit, np.ascontiguousarray(ids, np.int64))

    def remove(self, ids: np.ndarray) -> None:
        """Remove trace ids. Shapes: ids (n,) int64."""
        if ids.size:
            removed = self.index.remove_ids(np.ascontiguousarray(ids, np.int64))
            if removed != ids.size:
                raise RuntimeError(f"shard index removed {removed} of {ids.size} ids")

    def needs_rebuild(self, n: int) -> bool:
        """Whether a shard of ``n`` live traces should change its index (see the module docstring)."""
        if not self.is_ivf:
            return n >= self.min_ivf
        return n < self.min_ivf / self.growth or not (
            self.trained_n / self.growth <= n <= self.trained_n * self.growth
        )

    def rebuild(self, unit: np.ndarray, ids: np.ndarray) -> None:
        """Replace the index by one built over all the shard's vectors (IVF or exact by their number).

        Shapes: unit (n, Q) float32 unit rows, ids (n,) int64 in insertion order.
        """
        n = unit.shape[0]
        if n < self.min_ivf / (self.growth if self.is_ivf else 1.0):
            self.index, self.trained_n = self._flat(), 0
        else:
            nlist = max(1, round(math.sqrt(n)))
            quantizer = faiss.IndexFlatIP(self.dim)
            index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = self.seed
            index.cp.spherical = True
            index.cp.min_points_per_centroid = 1  # sqrt(n) points per list is the policy: no warning
            index.train(unit)
            self.index, self.trained_n = index, n
            self._quantizer = quantizer  # faiss does not own it
        self.add(unit, ids)
        self._configure()

    def _configure(self) -> None:
        if self.is_ivf:
            faiss.extract_index_ivf(self.index).nprobe = self.nprobe

    def search(self, unit_query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most cosine-similar traces, best first (fewer if the shard is smaller).

        Shapes: unit_query (Q,) float32 -> ids (k',) int64, cosine (k',) float32.
        """
        k = min(k, self.ntotal)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        cosine, ids = self.index.search(unit_query.reshape(1, -1), k)
        keep = ids[0] >= 0
        return ids[0][keep], cosine[0][keep]

    def serialize(self) -> np.ndarray:
        """faiss serialisation of the index. Shapes: -> (bytes,) uint8."""
        return faiss.serialize_index(self.index)

    @classmethod
    def deserialize(
        cls,
        data: np.ndarray,
        trained_n: int,
        dim: int,
        nprobe: int,
        min_ivf: int,
        growth: float,
        seed: int,
        *,
        source: str,
        field: str,
    ) -> ShardIndex:
        """An index from :meth:`serialize` output; a bad blob raises naming ``source`` and ``field``."""
        shard = cls(dim, nprobe, min_ivf, growth, seed)
        try:
            index = faiss.deserialize_index(np.ascontiguousarray(data, np.uint8))
        except RuntimeError as err:
            raise TraceMemoryError(
                f"not a faiss index ({str(err).splitlines()[0]})", source=source, field=field
            ) from None
        is_ivf = faiss.try_extract_index_ivf(index) is not None
        if index.d != dim or is_ivf != (trained_n > 0):
            raise TraceMemoryError(
                f"index of dim {index.d} ({'IVF' if is_ivf else 'flat'}) does not match dim {dim},"
                f" trained_n {trained_n}",
                source=source,
                field=field,
            )
        shard.index, shard.trained_n = index, trained_n
        shard._configure()
        return shard
