"""The episodic case memory (spec d, "Episodic case memory"): one case per finished epoch, retrieved by
the similarity of its context to the current one. The env's memory and the rule planner's use it.

- A case holds the epoch's features (the env's: :meth:`EpochSummary.case_features`: rho, T-bar, F_norm,
  T-bar_norm, J, demand and the plan's weights), its objective J, a context key (request rates, mean K,
  node availability) and, where the recorder keeps it, the plan in force (one configuration per node).
- Capacity 256: past it, the oldest case outside the 16 best by J is dropped.
- Retrieval keeps the cases whose context has cosine similarity >= 0.95 with the query (the 5 nearest
  if fewer pass) and returns, in fixed slots, the 3 best by J, the worst (a negative precedent) and
  the most recent; slots without a case are marked invalid.
- Persistence: JSONL, one case per line (:meth:`CaseMemory.save`, :meth:`CaseMemory.load`); a bad line
  raises ValueError naming the file, the line and the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from edgeplace.atomic_io import write_text_atomic
from edgeplace.envs.lm_inference.node_config import NodeConfig

RETRIEVED = 5
"""Slots of a retrieval: best, second, third, worst, most recent."""


class MemoryScope(StrEnum):
    """How long an env's memory lives."""

    EPISODE = "episode"
    """Emptied (then seeded from the memory file, if any) at each episode start: an episode depends only
    on (seed, episode index)."""
    ENV = "env"
    """Kept across the episodes of one env instance (the paper's memory): an episode then depends on
    the episodes this env ran before it."""


class CaseField(StrEnum):
    """Keys of a case's JSONL line."""

    EPOCH = "epoch"
    OBJECTIVE = "objective"
    FEATURES = "features"
    CONTEXT = "context"
    PLAN = "plan"
    """null, or one ``{"mode": [...], "cores": [...], "vgpus": [...]}`` per node."""


_NODE_KEYS = ("mode", "cores", "vgpus")
"""The :class:`NodeConfig` fields of a plan's node, in constructor order."""


@dataclass(frozen=True, eq=False)
class Case:
    """One epoch. Shapes: features (F,), context (C,); plan: N configurations or None."""

    features: np.ndarray
    context: np.ndarray
    objective: float
    epoch: int
    """Place in the memory's history: epochs counted across the episodes and runs it has seen."""
    plan: tuple[NodeConfig, ...] | None = None
    """The plan in force over the epoch, one configuration per node (the rule planner's cases)."""


class CaseMemory:
    """See the module docstring.

    Args:
        feature_size, context_size: F and C of every case; None: set by the first case stored.
    """

    def __init__(
        self,
        capacity: int = 256,
        keep_best: int = 16,
        similarity: float = 0.95,
        min_similar: int = 5,
        *,
        feature_size: int | None = None,
        context_size: int | None = None,
    ) -> None:
        if not 0 <= keep_best < capacity:
            raise ValueError(f"CaseMemory: need 0 <= keep_best < capacity, got {keep_best}, {capacity}")
        self.capacity, self.keep_best = capacity, keep_best
        self.similarity, self.min_similar = similarity, min_similar
        self.feature_size, self.context_size = feature_size, context_size
        self.cases: list[Case] = []

    @property
    def next_epoch(self) -> int:
        """The epoch number of the next case: one past the latest stored (0 when empty)."""
        return max((c.epoch for c in self.cases), default=-1) + 1

    def add(self, case: Case) -> None:
        """Store ``case``, evicting the oldest case outside the best ``keep_best`` when full.

        Raises:
            ValueError: features or context of another size than the memory's.
        """
        self._check_sizes(case)
        self.cases.append(case)
        if len(self.cases) > self.capacity:
            objectives = np.array([c.objective for c in self.cases])
            best = set(np.argsort(objectives, kind="stable")[: self.keep_best].tolist())
            oldest = next(i for i in range(len(self.cases)) if i not in best)
            del self.cases[oldest]

    def similar(self, context: np.ndarray) -> list[Case]:
        """The cases whose context has cosine similarity >= ``similarity`` with ``context`` (in memory
        order), or the ``min_similar`` nearest (nearest first) if fewer pass. Shapes: context (C,)."""
        if not self.cases:
            return []
        contexts = np.stack([c.context for c in self.cases])
        norms = np.linalg.norm(contexts, axis=1) * np.linalg.norm(context)
        cosine = np.divide(contexts @ context, norms, out=np.zeros(len(self.cases)), where=norms > 0)
        similar = np.flatnonzero(cosine >= self.similarity)
        if similar.size < self.min_similar:
            similar = np.argsort(-cosine, kind="stable")[: self.min_similar]
        return [self.cases[i] for i in similar]

    def retrieve(self, context: np.ndarray) -> list[Case | None]:
        """The :data:`RETRIEVED` slots for a query context (None where the memory has no case)."""
        pool = self.similar(context)
        if not pool:
            return [None] * RETRIEVED
        by_objective = sorted(pool, key=lambda c: c.objective)
        best = by_objective[:3] + [None] * (3 - min(3, len(pool)))
        return [*best, by_objective[-1], max(pool, key=lambda c: c.epoch)]

    # --- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write every case, oldest first, as JSONL (atomically): loading the file into an empty
        memory of the same capacity gives this memory back."""
        lines = [json.dumps(_case_to_json(case), allow_nan=False) for case in self.cases]
        write_text_atomic(Path(path), "".join(f"{line}\n" for line in lines))

    def load(self, path: str | Path) -> list[Case]:
        """Add the cases of a JSONL file in line order (eviction applies as for :meth:`add`); returns
        them, the k-th from line k + 1. Nothing is added unless every line is valid.

        Raises:
            ValueError: an unreadable file, or a line that is not a valid case (naming the file, the line
                and the field; sizes are checked against the memory's).
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"case memory file {str(path)!r}: cannot read it: {err}") from None
        cases = []
        for number, line in enumerate(text.splitlines(), start=1):
            try:
                case = _case_from_json(json.loads(line))
                self._check_sizes(case, cases[0] if cases else None)
            except ValueError as err:  # json.JSONDecodeError included
                raise ValueError(f"case memory file {str(path)!r}, line {number}: {err}") from None
            cases.append(case)
        for case in cases:
            self.add(case)
        return cases

    def _check_sizes(self, case: Case, first: Case | None = None) -> None:
        """Check the case's (F,) and (C,) against the memory's sizes, else against its stored cases, else
        against ``first`` (a file's first case); the first case of an unsized memory sets them."""
        reference = self.cases[0] if self.cases else first
        checks = (
            (CaseField.FEATURES, case.features, self.feature_size, reference and reference.features),
            (CaseField.CONTEXT, case.context, self.context_size, reference and reference.context),
        )
        for name, vector, declared, seen in checks:
            expected = declared if declared is not None or seen is None else seen.size
            if vector.ndim != 1 or (expected is not None and vector.size != expected):
                raise ValueError(f"field {name.value!r}: expected {expected} numbers, got {vector.shape}")


def _case_to_json(case: Case) -> dict[str, Any]:
    plan = None
    if case.plan is not None:
        plan = [{key: getattr(config, key) for key in _NODE_KEYS} for config in case.plan]
    return {
        CaseField.EPOCH: int(case.epoch),
        CaseField.OBJECTIVE: float(case.objective),
        CaseField.FEATURES: case.features.tolist(),
        CaseField.CONTEXT: case.context.tolist(),
        CaseField.PLAN: plan,
    }


def _case_from_json(value: Any) -> Case:
    """A case from one decoded line. Raises ValueError naming the field."""
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    known = {f.value for f in CaseField}
    missing, unknown = sorted(known - set(value)), sorted(set(value) - known)
    if missing or unknown:
        raise ValueError(f"fields missing {missing}, unknown {unknown}")
    epoch, objective = value[CaseField.EPOCH], value[CaseField.OBJECTIVE]
    if not _is_int(epoch) or epoch < 0:
        raise ValueError(f"field 'epoch': expected an integer >= 0, got {epoch!r}")
    if not _is_number(objective):
        raise ValueError(f"field 'objective': expected a finite number, got {objective!r}")
    return Case(
        features=_vector(value[CaseField.FEATURES], CaseField.FEATURES),
        context=_vector(value[CaseField.CONTEXT], CaseField.CONTEXT),
        objective=float(objective),
        epoch=epoch,
        plan=_plan(value[CaseField.PLAN]),
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _vector(value: Any, name: CaseField) -> np.ndarray:
    if not isinstance(value, list) or not all(_is_number(v) for v in value):
        raise ValueError(f"field {name.value!r}: expected a list of finite numbers")
    return np.array(value, dtype=np.float64)


def _plan(value: Any) -> tuple[NodeConfig, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValueError("field 'plan': expected null or a list of node configurations")
    configs = []
    for node, entry in enumerate(value):
        if not isinstance(entry, dict) or set(entry) != set(_NODE_KEYS):
            raise ValueError(f"field 'plan': node {node}: expected an object with keys {list(_NODE_KEYS)}")
        if not all(isinstance(entry[k], list) and all(_is_int(v) for v in entry[k]) for k in _NODE_KEYS):
            raise ValueError(f"field 'plan': node {node}: expected lists of integers")
        try:
            configs.append(NodeConfig(*(tuple(entry[k]) for k in _NODE_KEYS)))
        except ValueError as err:
            raise ValueError(f"field 'plan': node {node}: {err}") from None
    return tuple(configs)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
