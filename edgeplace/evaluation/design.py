"""The experimental design of an evaluation frame: which rows saw the same stream, which streams are not
independent of each other, and which rows come from independently trained copies of a policy.

An evaluation frame has one row per (policy, evaluation seed, episode), and more columns when the design
has more levels. Three levels of units, from the inside out:

- **stream** ``(SEED, EPISODE)``: the requests and noise an episode plays. Every policy plays the same
  streams (common random numbers), so the row of policy A and the row of policy B with the same stream
  are a pair, and their difference carries no stream noise.
- **cluster** (column :data:`REQUEST_SET`, optional): streams that replay the same finite request set
  are not independent (genai-chain's test split has ``N / gcd(N, R)`` distinct sets of R requests out of
  N; "1,000 episodes" of it are 25 sets under different noise). A stream without the column is its own
  cluster.
- **replicate** (column :data:`TRAINING_SEED`, optional): independently trained copies of a learned
  policy, the unit of any claim about an algorithm. A policy without the column, or with one value in it
  (a baseline), has one replicate.

:func:`unit_table` reduces one policy's rows of a metric to the means per (replicate, cluster), the
matrix every summary and comparison in :mod:`statistics` and :mod:`comparison` resamples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SEED = "seed"  # evaluation seed (int): with EPISODE, the stream
EPISODE = "episode"  # episode index within a seed (int)
REQUEST_SET = "request_set"  # id of the finite request set an episode replays (int), optional
TRAINING_SEED = "train_seed"  # training seed of a learned policy (int; -1 for a baseline), optional
STREAM = (SEED, EPISODE)


@dataclass(frozen=True)
class UnitTable:
    """One policy's metric as means per (replicate, cluster) over the streams both sides of a comparison
    share.

    Shapes: ``means`` (R, C) float64: replicate r's mean over the streams of cluster c; ``clusters`` (C,)
    cluster labels; ``replicates`` (R,) training seeds (one entry, -1, where the frame has none).
    """

    means: np.ndarray
    clusters: np.ndarray
    replicates: np.ndarray
    streams: int
    """Streams averaged (per replicate); the paired rows of a comparison."""
    cluster_unit: str
    """What a cluster is, plural: ``"request sets"`` or ``"episodes"``."""

    @property
    def replicate_means(self) -> np.ndarray:
        """Mean over clusters per replicate (each cluster weighs the same). Shapes: -> (R,)."""
        return self.means.mean(axis=1)


def training_seeds(rows: pd.DataFrame) -> np.ndarray:
    """Each row's training seed; -1 where the frame has no :data:`TRAINING_SEED` column or the row none
    (a baseline beside learned policies). Shapes: -> (rows,) int64."""
    if TRAINING_SEED not in rows:
        return np.full(len(rows), -1, dtype=np.int64)
    return rows[TRAINING_SEED].fillna(-1).to_numpy(dtype=np.int64)


def _check_unique(frame: pd.DataFrame, keys: Sequence[str], name: object) -> None:
    duplicated = frame.duplicated(list(keys))
    if duplicated.any():
        first = frame.loc[duplicated, list(keys)].iloc[0].to_dict()
        raise ValueError(f"policy {name!r}: more than one row for {first}; each (training seed, stream) once")


def stream_matrix(rows: pd.DataFrame, metric: str, name: object) -> pd.DataFrame:
    """``metric`` of one policy's rows as a (replicate x stream) frame: index training seeds (one row, -1,
    where the frame has no :data:`TRAINING_SEED` column), columns the (seed, episode) streams that every
    replicate played with a finite value.

    Raises: ValueError naming the policy when a (training seed, stream) repeats or a value is infinite.
    """
    values = rows[metric].to_numpy(dtype=np.float64)
    if np.isinf(values).any():
        raise ValueError(f"metric {metric!r} of policy {name!r} contains infinite values")
    keyed = pd.DataFrame(
        {TRAINING_SEED: training_seeds(rows), SEED: rows[SEED].to_numpy(), EPISODE: rows[EPISODE].to_numpy()}
    )
    _check_unique(keyed, [TRAINING_SEED, *STREAM], name)
    table = keyed.assign(value=values).pivot(index=TRAINING_SEED, columns=list(STREAM), values="value")
    return table.dropna(axis=1)


def stream_clusters(rows: pd.DataFrame, streams: pd.MultiIndex) -> tuple[np.ndarray, str]:
    """The cluster label of each of ``streams`` (their :data:`REQUEST_SET`, or a running number where the
    frame has none) and the plural name of a cluster.

    Raises: ValueError when one stream is tagged with two request sets.
    """
    if REQUEST_SET not in rows:
        return np.arange(len(streams)), "episodes"
    labels = rows.drop_duplicates([*STREAM, REQUEST_SET]).set_index(list(STREAM))[REQUEST_SET]
    if not labels.index.is_unique:
        stream = labels.index[labels.index.duplicated()][0]
        raise ValueError(f"stream (seed, episode) = {stream} is tagged with more than one {REQUEST_SET}")
    return labels.reindex(streams).to_numpy(), "request sets"


def unit_table(
    rows: pd.DataFrame, metric: str, name: object, streams: pd.MultiIndex | None = None
) -> UnitTable:
    """One policy's ``rows`` reduced to means per (replicate, cluster) over ``streams`` (default: every
    stream all its replicates played with a finite ``metric``).

    Raises: ValueError naming the policy for repeated rows, infinite values or a stream it lacks.
    """
    matrix = stream_matrix(rows, metric, name)
    if streams is not None:
        missing = streams.difference(matrix.columns)
        if len(missing):
            raise ValueError(
                f"policy {name!r} has no finite {metric!r} on stream (seed, episode) = {missing[0]}"
            )
        matrix = matrix[streams]
    labels, unit = stream_clusters(rows, matrix.columns)
    codes, clusters = pd.factorize(labels, sort=True)
    members = np.zeros((codes.size, clusters.size))  # (S, C) one-hot stream -> cluster
    members[np.arange(codes.size), codes] = 1.0
    means = matrix.to_numpy(dtype=np.float64) @ members / np.maximum(members.sum(axis=0), 1.0)
    return UnitTable(means, np.asarray(clusters), matrix.index.to_numpy(), codes.size, unit)
