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
from edgeplace.envs.dnn_inference.state import DnnObsKey
from edgeplace.models.autoregressive_head import ActionMode
from edgeplace.policy import Observation


class HISPERPolicy:
    """Greedy joint policy: each agent's own actor, argmax at every sub-action step.

    Args:
        name: The policy's name in reports.
        actors: One actor per agent, in ``agents`` order.
        agents: Agent ids.
        masks: Structural action masks, bool (A, 16 + 4 + P).
    """

    def __init__(self, name: str, actors: Sequence[Actor], agents: Sequence[str], masks: np.ndarray) -> None:
        if len(actors) != len(agents) or len(masks) != len(agents):
            raise ValueError(f"need one actor and mask per agent: {len(actors)}, {len(masks)}, {len(agents)}")
        self.name = name
        self.actors = [actor.cpu().eval() for actor in actors]
        self.index = {agent: n for n, agent in enumerate(agents)}
        sizes = actors[0].spec.sizes
        self.masks = list(torch.as_tensor(np.asarray(masks, dtype=bool)).split(sizes, dim=-1))  # 3 x (A, n_k)

    @classmethod
    def from_learner(cls, learner: HISPERLearner, name: str = "hisper") -> HISPERPolicy:
        """A CPU copy of a learner's current actors."""
        actors = []
        for actor in learner.actors:
            copy = Actor(actor.spec)
            copy.load_state_dict({k: v.detach().cpu() for k, v in actor.state_dict().items()})
            actors.append(copy)
        return cls(name, actors, learner.layout.agents, learner.masks_np)

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
        return cls(name or metadata.get("name", "hisper"), actors, state["agents"], state["masks"])

    @torch.inference_mode()
    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Greedy (configuration, model, server) per row. Shapes: -> (B, 3) int64.

        Rows are grouped by agent; when every agent present has the same number of rows (lockstep
        evaluation), all of them act in one batched forward, else one forward per agent.
        """
        rows: dict[int, list[int]] = {}
        for row, agent in enumerate(agent_ids):
            if agent not in self.index:
                raise KeyError(f"unknown agent {agent!r}; this policy acts for {sorted(self.index)}")
            rows.setdefault(self.index[agent], []).append(row)
        out = np.zeros((len(agent_ids), 3), dtype=np.int64)
        counts = {len(r) for r in rows.values()}
        groups = [list(rows)] if len(counts) == 1 else [[n] for n in rows]
        for group in groups:
            picked = [rows[n] for n in group]  # (G, B) row indices

            def stack(key: str, picked: list[list[int]] = picked) -> torch.Tensor:
                return torch.as_tensor(
                    np.stack([[np.asarray(observations[r][key], np.float32) for r in rs] for rs in picked])
                )  # (G, B, F)

            masks = [m[group].unsqueeze(1) for m in self.masks]  # 3 x (G, 1, n_k)
            result = group_forward(
                [self.actors[n] for n in group],
                stack(DnnObsKey.REQUEST),
                stack(DnnObsKey.SERVERS),
                stack(DnnObsKey.LINKS),
                masks,
                mode=ActionMode.ARGMAX,
            )
            actions = result.actions.numpy()  # (G, B, 3)
            for g, rs in enumerate(picked):
                out[rs] = actions[g]
        return out
