"""Trained HISPER/HASAC/HAPPO actors behind the policy protocol (argmax path), from a learner or a
checkpoint."""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ray.rllib.utils.checkpoints import Checkpointable

from edgeplace.algos.checkpoints import CheckpointError, read_metadata, resolve_checkpoint
from edgeplace.algos.hisper.actor import Actor, ActorSpec, group_forward
from edgeplace.algos.hisper.joint_algorithm import LEARNER_COMPONENT
from edgeplace.algos.hisper.learner import HISPERLearner
from edgeplace.algos.hisper.observation_reader import ObservationReader
from edgeplace.envs.dnn_inference.joint_view import DnnJointView
from edgeplace.models.autoregressive_head import ActionMode
from edgeplace.policy import Observation

#: The reader of dnn-inference observations (``req`` own, ``servers`` and ``links`` shared, structural
#: masks): the default, and that of checkpoints saved before readers were (all dnn-inference's).
DNN_READER = ObservationReader(DnnJointView.own_keys, DnnJointView.shared_keys)


class HISPERPolicy:
    """Greedy joint policy: each agent's own actor, argmax at every sub-action step.

    Args:
        name: The policy's name in reports.
        actors: One actor per agent, in ``agents`` order.
        agents: Agent ids.
        masks: Structural action masks over the padded sub-actions, bool (A, sum(sizes)).
        reader: How the actors' inputs and masks are read from observations.
    """

    def __init__(
        self,
        name: str,
        actors: Sequence[Actor],
        agents: Sequence[str],
        masks: np.ndarray,
        reader: ObservationReader = DNN_READER,
    ) -> None:
        if len(actors) != len(agents) or len(masks) != len(agents):
            raise ValueError(f"need one actor and mask per agent: {len(actors)}, {len(masks)}, {len(agents)}")
        self.name = name
        self.actors = [actor.cpu().eval() for actor in actors]
        self.index = {agent: n for n, agent in enumerate(agents)}
        self.masks = np.asarray(masks, dtype=bool)  # (A, W)
        self.reader = reader

    @classmethod
    def from_learner(cls, learner: HISPERLearner, name: str = "hisper") -> HISPERPolicy:
        """A CPU copy of a learner's current actors."""
        actors = []
        for actor in learner.actors:
            copy = Actor(actor.spec)
            copy.load_state_dict({k: v.detach().cpu() for k, v in actor.state_dict().items()})
            actors.append(copy)
        return cls(name, actors, learner.layout.agents, learner.masks_np, learner.layout.reader)

    @classmethod
    def from_algorithm(cls, algo: Any, agent_ids: Sequence[str], name: str = "trained") -> HISPERPolicy:
        """The policy of a running HISPER-family or HAPPO algorithm (its learner's actors, which hold
        the agents), as its checkpoint would restore it."""
        return cls.from_learner(algo.learner, name)

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, name: str | None = None, env_config: Mapping[str, Any] | None = None
    ) -> HISPERPolicy:
        """Load from a HISPER, HASAC or HAPPO checkpoint (or a run directory: its latest checkpoint).
        The actors act in any env config with the checkpoint's agents and observation layout, so
        ``env_config`` (the scenario loader protocol's) changes nothing."""
        checkpoint = resolve_checkpoint(path)
        metadata = read_metadata(checkpoint)
        state_file = checkpoint / LEARNER_COMPONENT / f"{Checkpointable.STATE_FILE_NAME}.pkl"
        if not state_file.is_file():
            raise CheckpointError(
                f"{checkpoint}: no HISPER learner state ({state_file.name} under {LEARNER_COMPONENT}/)"
            )
        with state_file.open("rb") as f:
            state = pickle.load(f)
        fields = dict(state["actor_spec"])
        fields["sizes"], fields["hidden"] = tuple(fields["sizes"]), tuple(fields["hidden"])
        spec = ActorSpec(**fields)
        actors = []
        for weights in state["actors"]:
            actor = Actor(spec)
            actor.load_state_dict(weights)
            actors.append(actor)
        reader = ObservationReader.from_dict(state["reader"]) if "reader" in state else DNN_READER
        return cls(name or metadata.get("name", "hisper"), actors, state["agents"], state["masks"], reader)

    @torch.inference_mode()
    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Greedy padded sub-actions per row. Shapes: -> (B, K) int64, or (B,) for Discrete agents.

        Rows are grouped by agent; when every agent present has the same number of rows (lockstep
        evaluation), all of them act in one batched forward, else one forward per agent.
        """
        rows: dict[int, list[int]] = {}
        for row, agent in enumerate(agent_ids):
            if agent not in self.index:
                raise KeyError(f"unknown agent {agent!r}; this policy acts for {sorted(self.index)}")
            rows.setdefault(self.index[agent], []).append(row)
        spec = self.actors[0].spec
        out = np.zeros((len(agent_ids), len(spec.sizes)), dtype=np.int64)
        counts = {len(r) for r in rows.values()}
        groups = [list(rows)] if len(counts) == 1 else [[n] for n in rows]
        for group in groups:
            picked = [[observations[r] for r in rows[n]] for n in group]  # (G, B) observations
            own = np.stack([self.reader.own(obs, spec.request_dim) for obs in picked])  # (G, B, R)
            shared = [
                np.stack(parts) for parts in zip(*(self.reader.shared(obs) for obs in picked), strict=True)
            ]
            absent = np.zeros((*own.shape[:2], 0), dtype=np.float32)
            servers, links = [*shared, absent, absent][:2]  # (G, B, S), (G, B, L); absent: width 0
            masks = np.stack(
                [
                    self.reader.masks(obs, np.broadcast_to(self.masks[n], (len(obs), self.masks.shape[1])))
                    for n, obs in zip(group, picked, strict=True)
                ]
            )  # (G, B, W)
            result = group_forward(
                [self.actors[n] for n in group],
                torch.as_tensor(own),
                torch.as_tensor(servers),
                torch.as_tensor(links),
                list(torch.as_tensor(masks).split(spec.sizes, dim=-1)),  # K x (G, B, n_k)
                mode=ActionMode.ARGMAX,
            )
            actions = result.actions.numpy()  # (G, B, K)
            for g, n in enumerate(group):
                out[rows[n]] = actions[g]
        return out[:, 0] if self.reader.discrete else out
