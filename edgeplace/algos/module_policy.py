"""Trained RLlib modules behind the policy protocol: batched greedy (argmax) actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModule
from ray.rllib.core.rl_module.rl_module import RLModule

from edgeplace.algos.checkpoints import MODULE_SUBDIR, read_metadata, resolve_checkpoint
from edgeplace.policy import Observation

if TYPE_CHECKING:
    from ray.rllib.algorithms.algorithm import Algorithm


class ModulePolicy:
    """Acts with a MultiRLModule: groups the batch by module, one inference forward per module.

    Inference is lean: the modules are put in eval mode once, here, and each forward runs their
    ``_forward_inference`` under ``torch.inference_mode()`` on tensors that share the observations'
    memory. RLlib's public ``forward_inference`` would walk the whole module tree twice per call to
    toggle eval/train mode (about half of a batch-of-one forward), and PPO-style modules compute no
    value head on this path.

    Args:
        name: the policy's name in reports.
        modules: the trained MultiRLModule (or its modules by id).
        agent_modules: agent id -> module id.
    """

    def __init__(
        self, name: str, modules: MultiRLModule | Mapping[str, RLModule], agent_modules: Mapping[str, str]
    ) -> None:
        self.name = name
        self.modules = modules
        self.agent_modules = dict(agent_modules)
        for module in modules.values():
            module.eval()

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, name: str | None = None, env_config: Mapping[str, Any] | None = None
    ) -> ModulePolicy:
        """Load from an algorithm checkpoint (or a run directory: its latest checkpoint). The modules
        act in any env config whose observations fit their spaces, so ``env_config`` (the scenario
        loader protocol's) changes nothing."""
        checkpoint = resolve_checkpoint(path)
        metadata = read_metadata(checkpoint)
        modules = MultiRLModule.from_checkpoint(str(checkpoint / MODULE_SUBDIR))
        return cls(
            name or metadata.get("name", checkpoint.parent.parent.name), modules, metadata["agent_modules"]
        )

    @classmethod
    def from_algorithm(cls, algo: Algorithm, agent_ids: Sequence[str], name: str = "trained") -> ModulePolicy:
        """The policy of a running algorithm's modules, as its checkpoint would restore them (the
        modules of its local EnvRunner, which PPO syncs after every update). Puts them in eval mode."""
        mapping = {agent: algo.config.policy_mapping_fn(agent, None) for agent in agent_ids}
        return cls(name, {mid: algo.get_module(mid) for mid in set(mapping.values())}, mapping)

    def batch_logits(self, agent_id: str, batch: Observation) -> np.ndarray:
        """Masked action logits of B observations of one agent, already stacked per key.

        Shapes: ``batch[key]`` (B, ...) as the agent's observation space -> (B, num_actions) float32.
        """
        return _inference_logits(self.modules[self.agent_modules[agent_id]], batch)

    def logits(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Masked action logits. Shapes: B observations -> (B, num_actions)."""
        out: np.ndarray | None = None
        module_rows: dict[str, list[int]] = {}
        for row, agent in enumerate(agent_ids):
            module_rows.setdefault(self.agent_modules[agent], []).append(row)
        for module_id, rows in module_rows.items():
            batch = {key: np.stack([observations[row][key] for row in rows]) for key in observations[rows[0]]}
            logits = _inference_logits(self.modules[module_id], batch)
            if out is None:
                out = np.empty((len(agent_ids), logits.shape[1]), dtype=logits.dtype)
            out[rows] = logits
        assert out is not None
        return out

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Greedy actions (argmax of the masked logits). Shapes: -> (B,) int64."""
        return self.logits(agent_ids, observations).argmax(axis=1).astype(np.int64)


def _inference_logits(module: RLModule, batch: Observation) -> np.ndarray:
    """``module``'s action-distribution inputs for a stacked observation batch, without exploration.

    Shapes: ``batch[key]`` (B, ...) -> (B, num_actions).
    """
    if module.training:  # kept in eval mode by ModulePolicy; a caller may have switched it back
        module.eval()
    tensors = {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in batch.items()}
    with torch.inference_mode():
        result = module._forward_inference({Columns.OBS: tensors})
    return result[Columns.ACTION_DIST_INPUTS].numpy()
