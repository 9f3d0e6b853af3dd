"""Trained RLlib modules behind the policy protocol: batched greedy (argmax) actions, per sub-action for a
MultiDiscrete action, with the recurrent state of stateful modules (a GRU belief) carried per episode
stream and agent."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch
import tree
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModule
from ray.rllib.core.rl_module.rl_module import RLModule

from edgeplace.algos.checkpoints import MODULE_SUBDIR, read_metadata, resolve_checkpoint
from edgeplace.policy import Observation

if TYPE_CHECKING:
    from ray.rllib.algorithms.algorithm import Algorithm

#: A recurrent state: the module's ``get_initial_state()`` structure of arrays.
State = Any


class ModulePolicy:
    """Acts with a MultiRLModule: groups the batch by module, one inference forward per module.

    Inference is lean: the modules are put in eval mode once, here, and each forward runs their
    ``_forward_inference`` under ``torch.inference_mode()`` on tensors that share the observations'
    memory. RLlib's public ``forward_inference`` would walk the whole module tree twice per call to
    toggle eval/train mode (about half of a batch-of-one forward), and PPO-style modules compute no
    value head on this path.

    Stateful modules (``module.is_stateful()``) get their observations with a time axis of 1 and each
    row's state: the one that row's (stream, agent) left at its previous step, or the initial state after
    :meth:`reset_streams` (the evaluation runner resets a stream at every episode start). Plain
    :meth:`act_batch` plays stream None.

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
        self.states: dict[tuple[Hashable, str], State] = {}
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

    # --- recurrent state -----------------------------------------------------------------------
    def reset_streams(self, streams: Sequence[Hashable]) -> None:
        """Forget the state of every agent in ``streams`` (new episodes start there)."""
        gone = set(streams)
        self.states = {key: state for key, state in self.states.items() if key[0] not in gone}

    # --- logits and actions --------------------------------------------------------------------
    def batch_logits(self, agent_id: str, batch: Observation) -> np.ndarray:
        """Masked action logits of B observations of one agent, already stacked per key (a stateful
        module starts each row from its initial state and keeps nothing).

        Shapes: ``batch[key]`` (B, ...) as the agent's observation space -> (B, num_actions) float32.
        """
        module = self.modules[self.agent_modules[agent_id]]
        rows = len(tree.flatten(dict(batch))[0])
        states = [module.get_initial_state()] * rows if module.is_stateful() else None
        return _inference_logits(module, batch, states)[0]

    def logits(
        self,
        agent_ids: Sequence[str],
        observations: Sequence[Observation],
        streams: Sequence[Hashable] | None = None,
    ) -> np.ndarray:
        """Masked action logits (the agents' modules must have actions of one size); stateful modules
        read and advance each row's state in its stream (None: stream None).

        Shapes: B observations -> (B, num_actions).
        """
        out: np.ndarray | None = None
        for _, rows, logits in self._forward(agent_ids, observations, streams):
            if out is None:
                out = np.empty((len(agent_ids), logits.shape[1]), dtype=logits.dtype)
            out[rows] = logits
        assert out is not None
        return out

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Greedy actions (the argmax of each sub-action's masked logits) in stream None.

        Shapes: -> (B,) int64 for a Discrete action, (B, K) for a MultiDiscrete one.
        """
        return self.act_batch_in_streams([None] * len(agent_ids), agent_ids, observations)

    def act_batch_in_streams(
        self, streams: Sequence[Hashable], agent_ids: Sequence[str], observations: Sequence[Observation]
    ) -> np.ndarray:
        """Greedy actions, row i continuing the episode of ``(streams[i], agent_ids[i])``.

        Shapes: -> (B,) int64 for Discrete actions, (B, K) for MultiDiscrete ones (an object array of
        rows when one batch mixes action sizes).
        """
        actions: list[Any] = [None] * len(agent_ids)
        for module_id, rows, logits in self._forward(agent_ids, observations, streams):
            for row, action in zip(
                rows, argmax_actions(self.modules[module_id].action_space, logits), strict=True
            ):
                actions[row] = action
        if len({np.shape(action) for action in actions}) == 1:
            return np.stack(actions).astype(np.int64)
        out = np.empty(len(actions), dtype=object)
        out[:] = actions
        return out

    def _forward(
        self,
        agent_ids: Sequence[str],
        observations: Sequence[Observation],
        streams: Sequence[Hashable] | None,
    ) -> Iterator[tuple[str, list[int], np.ndarray]]:
        """(module id, its rows, their masked logits) per module, carrying stateful modules' states."""
        streams = [None] * len(agent_ids) if streams is None else streams
        module_rows: dict[str, list[int]] = {}
        for row, agent in enumerate(agent_ids):
            module_rows.setdefault(self.agent_modules[agent], []).append(row)
        for module_id, rows in module_rows.items():
            module = self.modules[module_id]
            batch = stack([observations[row] for row in rows])
            keys = [(streams[row], agent_ids[row]) for row in rows]
            states = None
            if module.is_stateful():
                initial = module.get_initial_state()
                states = [self.states.get(key, initial) for key in keys]
            logits, next_states = _inference_logits(module, batch, states)
            if next_states is not None:
                self.states.update(zip(keys, next_states, strict=True))
            yield module_id, rows, logits


def stack(observations: Sequence[Observation]) -> dict[str, Any]:
    """B observations as one batch per key (a MultiDiscrete mask: one (B, n_k) array per part, whatever
    the parts' widths). Shapes: entry (...) -> (B, ...)."""
    return tree.map_structure(lambda *rows: np.stack(rows), *[dict(obs) for obs in observations])


def argmax_actions(space: gym.Space, logits: np.ndarray) -> np.ndarray:
    """The argmax of each sub-action of ``space`` in masked ``logits``.

    Shapes: logits (B, n) -> (B,) for a Discrete(n) space, (B, K) for a MultiDiscrete one (n = sum(nvec)).
    """
    if not isinstance(space, gym.spaces.MultiDiscrete):
        return logits.argmax(axis=1)
    nvec = space.nvec.ravel()
    if (nvec == nvec[0]).all():  # one reshape instead of K splits
        return logits.reshape(len(logits), nvec.size, int(nvec[0])).argmax(axis=2)
    parts = np.split(logits, np.cumsum(nvec)[:-1], axis=1)
    return np.stack([part.argmax(axis=1) for part in parts], axis=1)


def _inference_logits(
    module: RLModule, batch: Observation, states: Sequence[State] | None = None
) -> tuple[np.ndarray, list[State] | None]:
    """``module``'s action-distribution inputs for a stacked observation batch, without exploration;
    with ``states`` (one per row: a stateful module), the observations get a time axis of 1 and the
    rows' next states come back.

    Shapes: ``batch[key]`` (B, ...) -> (B, num_actions), B states.
    """
    if module.training:  # kept in eval mode by ModulePolicy; a caller may have switched it back
        module.eval()
    tensors = tree.map_structure(lambda value: torch.from_numpy(np.ascontiguousarray(value)), dict(batch))
    inputs: dict[str, Any] = {Columns.OBS: tensors}
    if states is not None:
        inputs[Columns.OBS] = tree.map_structure(lambda t: t.unsqueeze(1), tensors)  # (B, 1, ...)
        inputs[Columns.STATE_IN] = tree.map_structure(
            lambda *rows: torch.from_numpy(np.stack(rows)), *states
        )  # (B, ...)
    with torch.inference_mode():
        result = module._forward_inference(inputs)
    logits = result[Columns.ACTION_DIST_INPUTS].numpy()
    if states is None:
        return logits, None
    state_out = tree.map_structure(lambda t: t.numpy(), result[Columns.STATE_OUT])
    next_states = [
        tree.map_structure(lambda value, row=row: value[row], state_out) for row in range(len(states))
    ]
    return logits.reshape(len(states), -1), next_states
