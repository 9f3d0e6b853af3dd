"""The ``learned`` backend's trained modules behind the policy protocol: greedy actions (the masked
argmax of each sub-action), for the Discrete deployers and the MultiDiscrete planner and scheduler."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModule
from ray.rllib.core.rl_module.rl_module import RLModule

from edgeplace.algos.checkpoints import MODULE_SUBDIR, read_metadata, resolve_checkpoint
from edgeplace.policy import Observation

if TYPE_CHECKING:
    from ray.rllib.algorithms.algorithm import Algorithm


class LearnedPolicy:
    """Acts with the modules: the batch grouped by module, one inference forward per module.

    Args:
        name: the policy's name in reports.
        modules: module id -> trained module (put in eval mode here).
        agent_modules: agent id -> module id.
    """

    def __init__(self, name: str, modules: Mapping[str, RLModule], agent_modules: Mapping[str, str]) -> None:
        self.name, self.modules, self.agent_modules = name, modules, dict(agent_modules)
        for module in modules.values():
            module.eval()

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, name: str | None = None, env_config: Mapping[str, Any] | None = None
    ) -> LearnedPolicy:
        """Load an algorithm checkpoint (or a run directory: its latest). The modules act in any env
        config of the same cluster size, so ``env_config`` changes nothing."""
        checkpoint = resolve_checkpoint(path)
        metadata = read_metadata(checkpoint)
        modules = MultiRLModule.from_checkpoint(str(checkpoint / MODULE_SUBDIR))
        return cls(
            name or metadata.get("name", checkpoint.parent.parent.name), modules, metadata["agent_modules"]
        )

    @classmethod
    def from_algorithm(
        cls, algo: Algorithm, agent_ids: Sequence[str], name: str = "trained"
    ) -> LearnedPolicy:
        """The policy of a running algorithm's modules (those of its local EnvRunner)."""
        mapping = {agent: algo.config.policy_mapping_fn(agent, None) for agent in agent_ids}
        return cls(name, {mid: algo.get_module(mid) for mid in set(mapping.values())}, mapping)

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Greedy actions: (B,) for deployers, (B, K) for the planner or the scheduler; an object array
        of rows when one batch mixes them."""
        rows: list[Any] = [None] * len(agent_ids)
        groups: dict[str, list[int]] = {}
        for row, agent in enumerate(agent_ids):
            groups.setdefault(self.agent_modules[agent], []).append(row)
        for module_id, members in groups.items():
            module = self.modules[module_id]
            actions = greedy_actions(module, stack([observations[row] for row in members]))
            for row, action in zip(members, actions, strict=True):
                rows[row] = action
        if len({np.shape(row) for row in rows}) == 1:
            return np.stack(rows).astype(np.int64)
        out = np.empty(len(rows), dtype=object)
        out[:] = rows
        return out


def stack(observations: Sequence[Observation]) -> dict[str, Any]:
    """B observations as one batch per key (a MultiDiscrete mask: one (B, n_k) array per part).
    Shapes: entry (...) -> (B, ...)."""
    batch: dict[str, Any] = {}
    for key, first in observations[0].items():
        if isinstance(first, tuple):
            batch[key] = tuple(
                np.stack(parts) for parts in zip(*(obs[key] for obs in observations), strict=True)
            )
        else:
            batch[key] = np.stack([obs[key] for obs in observations])
    return batch


def action_logits(module: RLModule, batch: Mapping[str, Any]) -> np.ndarray:
    """The module's masked action-distribution inputs (inference forward): every sub-action's logits,
    concatenated in the action space's order.

    Shapes: batch entries (B, ...) -> (B, n) for a Discrete(n) action, (B, sum(nvec)) for a
    MultiDiscrete one.
    """
    tensors = {
        key: tuple(map(torch.from_numpy, value)) if isinstance(value, tuple) else torch.from_numpy(value)
        for key, value in batch.items()
    }
    with torch.inference_mode():
        return module._forward_inference({Columns.OBS: tensors})[Columns.ACTION_DIST_INPUTS].numpy()


def greedy_actions(module: RLModule, batch: Mapping[str, Any]) -> np.ndarray:
    """The argmax of each sub-action's masked logits, without exploration.

    Shapes: batch entries (B, ...) -> (B,) for a Discrete action, (B, K) for a MultiDiscrete one.
    """
    return argmax_actions(module.action_space, action_logits(module, batch))


def argmax_actions(space: gym.Space, logits: np.ndarray) -> np.ndarray:
    """The argmax of each sub-action of ``space`` in masked ``logits``.

    Shapes: logits (B, n) -> (B,) for a Discrete(n) space, (B, K) for a MultiDiscrete one (n = sum(nvec)).
    """
    if isinstance(space, gym.spaces.Discrete):
        return logits.argmax(axis=1)
    parts = np.split(logits, np.cumsum(space.nvec)[:-1], axis=1)
    return np.stack([part.argmax(axis=1) for part in parts], axis=1)
