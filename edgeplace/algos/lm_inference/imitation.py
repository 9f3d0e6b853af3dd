"""Behaviour-cloning warm start of the ``learned`` backend (``imitate``, like AgentVNE's pre-training):
a rule controller plays the full env, each learned agent's observation is recorded with the
controller's decision in the learned form (:meth:`DecisionCodec.learned_form`), and every module learns
to copy it by the cross-entropy of its masked logits (a MultiDiscrete action: summed over its
sub-actions). A sub-action whose copy its mask forbids (a configuration outside the node's catalogue,
a route the role mask forbids) teaches nothing. The modules are saved as a checkpoint that
``initial_modules`` reads; the critics keep their initial weights.

Reads top to bottom: record (:class:`DemonstrationRecorder`) -> batch (:class:`Demonstrations`) ->
fit (:func:`fit_module`) -> save (:func:`imitate`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModule
from ray.rllib.core.rl_module.rl_module import RLModule, RLModuleSpec
from torch import Tensor
from torch.nn import functional

from edgeplace.algos.baselines.lm_inference.policies import HierarchyPolicy
from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.algos.checkpoints import METADATA_FILE, MODULE_SUBDIR, checkpoint_metadata
from edgeplace.algos.lm_inference.learned import agent_modules, module_model_config
from edgeplace.algos.lm_inference.policy import action_logits, argmax_actions, stack
from edgeplace.algos.train_config import TrainConfig
from edgeplace.atomic_io import write_directory_atomic
from edgeplace.envs.action_masks import mask_parts, sub_action_sizes
from edgeplace.envs.lm_inference.decisions import DecisionCodec
from edgeplace.envs.lm_inference.env import LmInferenceEnv
from edgeplace.envs.lm_inference.observation import LmObs
from edgeplace.envs.lm_inference.state_codec import decode_state
from edgeplace.evaluation.runner import run_episodes
from edgeplace.models.masked_mlp_module import MaskedMlpModule
from edgeplace.obs_keys import ObsKey
from edgeplace.policy import Observation
from edgeplace.torch_threads import torch_threads

LOG = logging.getLogger(__name__)
IMITATION_DIR = "imitation"
"""Where a staged run keeps its imitated modules, under its run directory."""
EPOCHS = 10
"""Passes over the demonstrations, at least."""
MIN_STEPS = 1000
"""Gradient steps per module, at least (more passes over few demonstrations)."""
MINIBATCH = 256
LR = 1e-3
"""Adam's learning rate."""
IMITATION_METADATA = "imitation"
"""The checkpoint metadata's entry on the imitation: controller, slots, wall_s and ``agreement``."""


@dataclass(frozen=True)
class Demonstrations:
    """One module's demonstrations.

    Shapes (B samples, K sub-actions, 1 for a Discrete action):
        observations: entry -> (B, ...), the actor's inputs and ``action_mask`` (a MultiDiscrete's:
            K x (B, n_k)).
        targets: (B, K) int64, the controller's actions in the learned form (negative: none).
        weights: (B, K) float32, 1 where the mask allows the target, else 0 (nothing to learn).
    """

    observations: dict[str, Any]
    targets: np.ndarray
    weights: np.ndarray

    @classmethod
    def from_samples(
        cls, observations: Sequence[Observation], targets: Sequence[np.ndarray]
    ) -> Demonstrations:
        """Stack samples; a target counts where it is an action its observation's mask allows."""
        batch = stack(observations)
        target = np.stack(targets)  # (B, K)
        parts = mask_parts(batch[ObsKey.ACTION_MASK])  # K x (B, n_k)
        index = np.clip(target, 0, None)
        allowed = np.stack(
            [np.take_along_axis(part, index[:, [k]], axis=1)[:, 0] > 0 for k, part in enumerate(parts)],
            axis=1,
        )
        return cls(batch, target, (allowed & (target >= 0)).astype(np.float32))

    def agreement(self, module: RLModule) -> float:
        """Share of the counted targets that the module's greedy action equals."""
        greedy = argmax_actions(module.action_space, action_logits(module, self.observations))
        hits = (greedy.reshape(self.targets.shape) == self.targets) * self.weights
        return float(hits.sum() / max(self.weights.sum(), 1.0))


class DemonstrationRecorder:
    """A policy that plays ``controller`` and records, per module, the observations of the learned
    agents and the controller's decisions in the learned form. Each ``act_batch`` must hold one phase
    of one env (``run_episodes`` with one env).

    Args:
        controller: the rule controller.
        codec: the env's decision codec; ``num_nodes``: the cluster's size.
        agent_modules: agent id -> module id of the agents to record.
        keys: module id -> the observation entries to keep.
    """

    def __init__(
        self,
        controller: HierarchyPolicy,
        codec: DecisionCodec,
        num_nodes: int,
        agent_modules: Mapping[str, str],
        keys: Mapping[str, Sequence[str]],
    ) -> None:
        self.name, self.controller, self.codec, self.num_nodes = controller.name, controller, codec, num_nodes
        self.agent_modules, self.keys = dict(agent_modules), keys
        self.observations: dict[str, list[Observation]] = {module: [] for module in keys}
        self.targets: dict[str, list[np.ndarray]] = {module: [] for module in keys}

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """The controller's explicit actions (recorded on the way)."""
        actions = self.controller.act_batch(agent_ids, observations)
        view, _ = decode_state(observations[0][LmObs.STATE], self.num_nodes)
        targets = self.codec.learned_form(agent_ids, actions, view)  # (B, K)
        for agent, observation, target in zip(agent_ids, observations, targets, strict=True):
            module = self.agent_modules.get(agent)
            if module is not None:
                self.observations[module].append({key: observation[key] for key in self.keys[module]})
                self.targets[module].append(target)
        return actions

    def demonstrations(self) -> dict[str, Demonstrations]:
        """Module id -> its demonstrations so far."""
        return {
            module: Demonstrations.from_samples(self.observations[module], self.targets[module])
            for module in self.keys
        }


def build_modules(
    env: LmInferenceEnv, mapping: Mapping[str, str], model: Mapping[str, Any], seed: int
) -> MultiRLModule:
    """Fresh modules of the learned agents, specified as :func:`build_learned_config` does, initialised
    from ``seed``."""
    agents = {module: agent for agent, module in reversed(mapping.items())}  # module -> one of its agents
    specs = {
        module: RLModuleSpec(
            module_class=MaskedMlpModule,
            observation_space=env.observation_spaces[agent],
            action_space=env.action_spaces[agent],
            model_config=module_model_config(module, model),
        )
        for module, agent in sorted(agents.items())
    }
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return MultiRLModule(rl_module_specs=specs)


def masked_cross_entropy(logits: Tensor, sizes: Sequence[int], targets: Tensor, weights: Tensor) -> Tensor:
    """The weighted cross-entropy of each sub-action, summed over sub-actions, averaged over the batch.

    Shapes: logits (B, sum(n_k)), targets (B, K) int64 in range, weights (B, K) -> ().
    """
    parts = torch.split(logits, list(sizes), dim=1)
    losses = torch.stack(
        [functional.cross_entropy(part, targets[:, k], reduction="none") for k, part in enumerate(parts)],
        dim=1,
    )  # (B, K)
    return (losses * weights).sum(dim=1).mean()


def fit_module(module: RLModule, data: Demonstrations, rng: np.random.Generator) -> float:
    """Train ``module``'s actor to copy ``data`` (Adam; shuffled minibatches of :data:`MINIBATCH`,
    :data:`EPOCHS` passes or more to make :data:`MIN_STEPS` steps); returns the last pass's mean loss."""
    observations = {
        key: tuple(map(torch.from_numpy, value)) if isinstance(value, tuple) else torch.from_numpy(value)
        for key, value in data.observations.items()
    }
    targets, weights = torch.from_numpy(np.clip(data.targets, 0, None)), torch.from_numpy(data.weights)
    sizes = sub_action_sizes(module.action_space)
    optimizer = torch.optim.Adam(module.parameters(), lr=LR)
    module.train()
    count = len(targets)
    batches = max(1, math.ceil(count / MINIBATCH))
    losses: list[float] = []
    for _ in range(max(EPOCHS, math.ceil(MIN_STEPS / batches))):
        losses = []
        for rows in np.array_split(rng.permutation(count), batches):
            index = torch.from_numpy(rows)
            batch = {
                key: tuple(part[index] for part in value) if isinstance(value, tuple) else value[index]
                for key, value in observations.items()
            }
            logits = module.forward_train({Columns.OBS: batch})[Columns.ACTION_DIST_INPUTS]
            loss = masked_cross_entropy(logits, sizes, targets[index], weights[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    module.eval()
    return float(np.mean(losses)) if losses else 0.0


def imitation_dir(run_dir: str | Path) -> Path:
    """Where a staged run keeps its imitated modules."""
    return Path(run_dir) / IMITATION_DIR


def imitate(config: TrainConfig, directory: Path, controller: str, slots: int) -> Path:
    """Modules of every learned agent of ``config``'s full env (no scripted agents) that copy the rule
    controller ``controller`` over at least ``slots`` slots of its episodes (seeded by ``config.seed``),
    saved atomically as the checkpoint ``directory`` (``edgeplace.json`` included; its
    :data:`IMITATION_METADATA` entry holds each module's agreement with the demonstrations). A
    directory that already holds the checkpoint is returned as it is.

    Raises:
        ValueError: an unknown controller.
    """
    if (directory / METADATA_FILE).is_file():
        return directory
    start = time.perf_counter()
    full = config.replace(env_config={**config.env_config, "scripted_agents": []})
    env = make_env(full.env_config)
    mapping = agent_modules(full.env_config)
    modules = build_modules(env, mapping, config.model, config.seed)
    keys = {mid: [*modules[mid].actor_inputs, ObsKey.ACTION_MASK] for mid in set(mapping.values())}
    recorder = DemonstrationRecorder(
        HierarchyPolicy(controller, config.seed, full.env_config),
        env.codec,
        env.cluster.num_nodes,
        mapping,
        keys,
    )
    episodes = max(1, math.ceil(slots / env.horizon))
    LOG.info("imitation: %s plays %d episodes of %d slots", controller, episodes, env.horizon)
    run_episodes(lambda: env, recorder, seed=config.seed, episodes=episodes, num_envs=1)
    data = recorder.demonstrations()
    rng = np.random.default_rng(config.seed)
    with torch_threads(1):
        losses = {mid: fit_module(modules[mid], data[mid], rng) for mid in sorted(data)}
        agreement = {mid: data[mid].agreement(modules[mid]) for mid in sorted(data)}
    wall_s = time.perf_counter() - start
    LOG.info("imitation: %.0f s, loss %s, agreement %s", wall_s, losses, agreement)
    metadata = checkpoint_metadata(full, mapping, iteration=0, timesteps=0, wall_s=wall_s)
    metadata[IMITATION_METADATA] = {
        "controller": controller,
        "slots": episodes * env.horizon,
        "wall_s": wall_s,
        "agreement": agreement,
    }

    def fill(staging: Path) -> None:
        modules.save_to_path(str(staging / MODULE_SUBDIR))
        (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True))

    return write_directory_atomic(directory, fill)
