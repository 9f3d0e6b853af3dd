"""Checkpoint state shared by the joint learners (HISPER/HASAC and HAPPO): one actor and one optimizer
per agent, the critic-side networks of the algorithm, and the generators, all saved on the CPU."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from ray.rllib.utils.checkpoints import Checkpointable
from torch import Tensor, nn

from edgeplace.algos.hisper.actor import Actor, ActorSpec
from edgeplace.algos.hisper.joint_view import JointStateLayout


def to_cpu(obj: Any) -> Any:
    """``obj`` with every tensor moved to the CPU (checkpoints load on machines without the GPU)."""
    if isinstance(obj, Tensor):
        return obj.detach().cpu()
    if isinstance(obj, Mapping):
        return {key: to_cpu(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_cpu(value) for value in obj)
    return obj


class PerAgentActorsCheckpointable(Checkpointable):
    """``get_state``/``set_state`` of a learner with per-agent ``actors`` and ``actor_optimizers``, a
    ``critic_optimizer``, a torch ``generator``, a numpy ``rng``, an ``updates`` count, and the networks
    :meth:`critic_parts` names (e.g. critic + target critic, or value + value normaliser)."""

    def _build_actors(
        self,
        layout: JointStateLayout,
        masks: np.ndarray,
        settings: Any,
        gamma: float,
        seed: int,
        device: torch.device | str,
        critic: Callable[[], nn.Module],
    ) -> nn.Module:
        """Set the attributes both learners share (sizes, masks, one actor per agent, generators) and
        build the actors and then ``critic()`` under one seeded RNG fork; return the critic on device.

        Shapes: masks (A, sum(layout.sizes)) bool, the structural masks, True = allowed sub-action.
        """
        self.layout, self.settings, self.gamma, self.seed = layout, settings, float(gamma), int(seed)
        self.device = torch.device(device)
        self.num_agents = layout.num_agents
        self.sizes = layout.sizes
        self.masks_np = np.asarray(masks, dtype=bool)
        self.structural_masks = torch.as_tensor(self.masks_np, device=self.device)  # (A, W)
        self.masks = list(self.structural_masks.split(self.sizes, dim=-1))
        self.group_masks = [m.unsqueeze(1) for m in self.masks]  # K x (A, 1, n_k)
        self.actor_spec = ActorSpec(
            request_dim=layout.request_dim,
            server_dim=layout.server_dim,
            link_dim=layout.link_dim,
            sizes=self.sizes,
            embed_dim=settings.embed_dim,
            hidden=settings.actor_hidden,
            autoregressive=settings.autoregressive,
            lstm_hidden=settings.lstm_hidden,
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.actors = [Actor(self.actor_spec).to(self.device) for _ in range(self.num_agents)]
            network = critic().to(self.device)
        self.generator = torch.Generator(device=self.device).manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)
        self.updates = 0
        return network

    def head_masks(self, state: Tensor) -> list[Tensor]:
        """Every agent's masks at global states ``state`` (B, G): the structural masks, restricted by the
        masks stored in the state where the layout has them. Shapes: -> K x (A, B, n_k) bool."""
        layout, batch = self.layout, state.shape[0]
        if not layout.masks_in_state:
            return [m.expand(-1, batch, -1) for m in self.group_masks]
        blocks = state[:, : layout.num_agents * layout.agent_dim].unflatten(1, (layout.num_agents, -1))
        stored = blocks[..., layout.request_dim : layout.request_dim + layout.mask_dim] > 0.5  # (B, A, W)
        masks = stored.transpose(0, 1) & self.structural_masks.unsqueeze(1)  # (A, B, W)
        return list(masks.split(self.sizes, dim=-1))

    def critic_parts(self) -> dict[str, Any]:
        """Name -> object with ``state_dict``/``load_state_dict`` saved beside the actors."""
        raise NotImplementedError

    def get_state(self, components: Any = None, *, not_components: Any = None, **kwargs: Any) -> dict:
        """Networks, optimisers and generators (tensors on CPU), plus what rebuilds the actors."""
        return to_cpu(
            {
                "actor_spec": dataclasses.asdict(self.actor_spec),
                "reader": self.layout.reader.to_dict(),
                "agents": list(self.layout.agents),
                "masks": self.masks_np,
                "actors": [actor.state_dict() for actor in self.actors],
                **{name: part.state_dict() for name, part in self.critic_parts().items()},
                "actor_optimizers": [optimizer.state_dict() for optimizer in self.actor_optimizers],
                "critic_optimizer": self.critic_optimizer.state_dict(),
                "generator": self.generator.get_state(),
                "rng": self.rng.bit_generator.state,
                "updates": self.updates,
            }
        )

    def set_state(self, state: Mapping[str, Any]) -> None:
        if list(state["agents"]) != list(self.layout.agents):
            raise ValueError(f"learner state is for agents {state['agents']}, not {list(self.layout.agents)}")
        for actor, weights in zip(self.actors, state["actors"], strict=True):
            actor.load_state_dict(weights)
        for name, part in self.critic_parts().items():
            part.load_state_dict(state[name])
        for optimizer, saved in zip(self.actor_optimizers, state["actor_optimizers"], strict=True):
            optimizer.load_state_dict(saved)
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.generator.set_state(state["generator"])
        self.rng.bit_generator.state = state["rng"]
        self.updates = int(state["updates"])

    def get_ctor_args_and_kwargs(self) -> tuple[tuple, dict]:
        return (self.layout, self.masks_np, self.settings, self.gamma, self.seed), {"device": "cpu"}
