"""What the placement responses of every scenario share: float rounding, top-k candidates and the
JSON of independently placed requests."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pydantic_core

DECIMALS = 6
"""Decimal places of the floats in responses (probabilities, seconds, utilities): small JSON."""


def rounded(values: np.ndarray) -> list[Any]:
    """``values`` rounded to :data:`DECIMALS` places, as (nested) Python lists."""
    return np.round(values, DECIMALS).tolist()


def top_k_actions(
    logits: np.ndarray, allowed: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` most probable allowed actions, best first, and their softmax probabilities.

    Shapes: logits, allowed (B, M) -> indices (B, k) int64, probabilities (B, k) float64, valid
    (B, k) bool; ``valid`` is False where a row has fewer than ``k`` allowed actions.
    """
    masked = np.where(allowed, logits.astype(np.float64), -np.inf)
    k = min(k, logits.shape[1])
    rows = np.arange(len(logits))[:, None]  # (B, 1): fancy indexing, cheaper than take_along_axis
    top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
    top = top[rows, np.argsort(-masked[rows, top], axis=1)]
    weights = np.exp(masked - masked.max(axis=1, keepdims=True))
    probabilities = weights[rows, top] / weights.sum(axis=1, keepdims=True)
    return top, probabilities, allowed[rows, top]


class PlacedBatch(ABC):
    """The placements of B independently placed requests, written as one JSON document each (a
    scenario's ``placement``) or as one ``BatchPlacement`` document."""

    #: Name of the policy that placed them.
    policy: str

    @abstractmethod
    def documents(self) -> list[dict[str, Any]]:
        """One ``placement`` document per request, in request order."""

    def json_documents(self) -> list[bytes]:
        """:meth:`documents` as UTF-8 JSON, one per request."""
        return [pydantic_core.to_json(document) for document in self.documents()]

    def batch_json(self) -> bytes:
        """The ``BatchPlacement`` JSON of the whole batch."""
        return pydantic_core.to_json({"policy": self.policy, "placements": self.documents()})
