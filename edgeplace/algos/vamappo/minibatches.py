"""Per-agent minibatches of one on-policy batch (spec e5): every optimizer step sees ``per_agent`` rows
of each agent, drawn with replacement in proportion to the enhancement weights w (priority sampling)
or, with uniform weights, from a fresh shuffle of each agent's rows every epoch."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch


def take_rows(batch: Mapping[str, Any], rows: torch.Tensor) -> dict[str, Any]:
    """Index every tensor (or nested dict of tensors) of ``batch`` by ``rows``; other entries are kept."""
    out: dict[str, Any] = {}
    for key, value in batch.items():
        if isinstance(value, torch.Tensor):
            out[key] = value.index_select(0, rows.to(value.device))
        elif isinstance(value, Mapping):
            out[key] = take_rows(value, rows)
        elif isinstance(value, np.ndarray):
            out[key] = value[rows.cpu().numpy()]
    return out


def slice_rows(batch: Mapping[str, Any], start: int, length: int) -> dict[str, Any]:
    """Rows ``start .. start + length - 1`` of every tensor (or nested dict) of ``batch``, as views."""
    out: dict[str, Any] = {}
    for key, value in batch.items():
        if isinstance(value, torch.Tensor):
            out[key] = value.narrow(0, start, length)
        elif isinstance(value, Mapping):
            out[key] = slice_rows(value, start, length)
    return out


def agent_minibatch_indices(
    agent_rows: list[np.ndarray],
    weights: list[np.ndarray],
    per_agent: int,
    *,
    prioritized: bool,
    rng: np.random.Generator,
) -> Iterator[np.ndarray]:
    """One epoch of minibatch row indices; each is the concatenation of ``per_agent`` rows per agent.

    The epoch has ``ceil(max_a |rows_a| / per_agent)`` steps (16 at 1,024 rows per agent and 64).
    Prioritized: rows drawn with replacement, P(row) proportional to its weight. Uniform: each agent's
    rows are shuffled once and dealt out in order, wrapping around for agents with fewer rows.
    """
    steps = max(-(-len(rows) // per_agent) for rows in agent_rows)
    if prioritized:
        draws = [
            rng.choice(rows, size=(steps, per_agent), replace=True, p=w / w.sum())
            for rows, w in zip(agent_rows, weights, strict=True)
        ]
    else:
        draws = [
            np.resize(rng.permutation(rows), steps * per_agent).reshape(steps, per_agent)
            for rows in agent_rows
        ]
    for step in range(steps):
        yield np.concatenate([draw[step] for draw in draws])


class PerAgentMinibatches:
    """Iterates ``num_epochs`` epochs of per-agent minibatches over one module's batch.

    Args:
        batch: the learner's MultiAgentBatch (one module) after the VAMAPPO connector.
        agent_column, trainable_column, weight_column: names of the connector's columns.
        per_agent: rows per agent per minibatch.
    """

    def __init__(
        self,
        batch: MultiAgentBatch,
        *,
        num_epochs: int,
        per_agent: int,
        prioritized: bool,
        rng: np.random.Generator,
        agent_column: str,
        trainable_column: str,
        weight_column: str,
    ) -> None:
        if len(batch.policy_batches) != 1:
            raise ValueError(f"VAMAPPO trains one shared module, got {sorted(batch.policy_batches)}")
        ((self.module_id, self.module_batch),) = batch.policy_batches.items()
        agent = self.module_batch[agent_column].cpu().numpy()
        trainable = self.module_batch[trainable_column].cpu().numpy().astype(bool)
        weight = self.module_batch[weight_column].cpu().numpy().astype(np.float64)
        self.agent_rows = [np.flatnonzero(trainable & (agent == a)) for a in np.unique(agent[trainable])]
        self.weights = [weight[rows] for rows in self.agent_rows]
        self.num_epochs, self.per_agent, self.prioritized, self.rng = num_epochs, per_agent, prioritized, rng

    def __iter__(self) -> Iterator[MultiAgentBatch]:
        for _ in range(self.num_epochs):
            for rows in agent_minibatch_indices(
                self.agent_rows, self.weights, self.per_agent, prioritized=self.prioritized, rng=self.rng
            ):
                sub = take_rows(self.module_batch, torch.as_tensor(rows))
                yield MultiAgentBatch({self.module_id: SampleBatch(sub)}, env_steps=len(rows))
