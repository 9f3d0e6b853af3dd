"""The joint view of a simultaneous env: its global state, the per-agent actor inputs inside it, the
agents' action structure and masks, and the reward parts a critic learns.

The joint algorithms store only global states s; every actor input ``o^n`` is a slice of s. An env
gives its view through :meth:`~edgeplace.envs.simultaneous.SimultaneousEnv.joint_view` (dnn-inference:
:class:`~edgeplace.envs.dnn_inference.joint_view.DnnJointView`); an env without one gets the generic
:class:`~edgeplace.algos.hisper.flat_view.FlatJointView` of its flattened observations.
:class:`JointStateLayout` is what the networks read of a view: the widths of the state's parts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from edgeplace.algos.hisper.flat_view import FlatJointView
from edgeplace.algos.hisper.observation_reader import ObservationReader
from edgeplace.envs.action_masks import multi_discrete_mask, padded_parts
from edgeplace.envs.dnn_inference.joint_view import DnnJointView
from edgeplace.envs.dnn_inference.state import DnnObsKey, ObservationLayout
from edgeplace.envs.simultaneous import SimultaneousEnv


class JointView(Protocol):
    """What a simultaneous env tells the joint algorithms (numpy only).

    The global state is, for each agent in ``agents`` order, a block of ``request_dim + token_dim``
    values (its own actor input, then what only the critic reads: a service token, or the agent's
    action mask where ``masks_in_state``), then ``server_dim`` and ``link_dim`` values every agent
    observes alike (0: none). Actions are K sub-actions padded to ``sizes`` (a Discrete(n) agent: K = 1);
    ``structural_masks`` mark each agent's native slots.
    """

    agents: tuple[str, ...]
    request_dim: int
    token_dim: int
    server_dim: int
    link_dim: int
    sizes: tuple[int, ...]
    structural_masks: np.ndarray
    """(A, sum(sizes)) bool: True where a padded slot is one of the agent's sub-action values."""
    masks_in_state: bool
    reward_parts: tuple[str, ...]
    """Names of the reward parts the hybrid critic learns (one: the reward itself)."""
    own_keys: tuple[str, ...]
    shared_keys: tuple[str, ...]
    discrete: bool

    def global_state(self, observations: Mapping[str, Mapping[str, np.ndarray]]) -> np.ndarray:
        """The global state of one observation dict. Shapes: -> (G,) float32."""
        ...

    def reward(self, rewards: Mapping[str, float], infos: Mapping[str, Mapping[str, Any]]) -> np.ndarray:
        """The reward parts of one step (their sum is the team reward). Shapes: -> (P,) float32."""
        ...

    def env_actions(self, actions: np.ndarray) -> dict[str, Any]:
        """The env's action dict of one joint action (A, K) of padded sub-actions."""
        ...

    def random_actions(self, rng: np.random.Generator, states: np.ndarray) -> np.ndarray:
        """Uniform random joint actions among the allowed ones. Shapes: states (E, G) -> (E, A, K)."""
        ...


def joint_view(env: SimultaneousEnv) -> JointView:
    """The env's own joint view, or the generic view of its flattened observations."""
    return env.joint_view() or FlatJointView(env)


@dataclass(frozen=True)
class JointStateLayout:
    """Widths of the global state's parts for ``agents`` (in id order), the action and reward structure,
    and the reader of the actors' inputs.

    Shapes: the global state is (..., A (R + T) + S + L) with R = the agent's own input width, T = the
    rest of its block (a service token, or its action mask), S and L = the shared parts' widths.
    """

    agents: tuple[str, ...]
    request_dim: int
    server_dim: int
    link_dim: int
    sizes: tuple[int, ...]
    """Padded sub-action sizes (K,)."""
    token_dim: int
    masks_in_state: bool
    """Whether each agent block ends with its action mask (``mask_dim`` values, 1 = allowed)."""
    reward_parts: int
    reader: ObservationReader

    @classmethod
    def from_view(cls, view: JointView) -> JointStateLayout:
        return cls(
            agents=tuple(view.agents),
            request_dim=view.request_dim,
            server_dim=view.server_dim,
            link_dim=view.link_dim,
            sizes=tuple(view.sizes),
            token_dim=view.token_dim,
            masks_in_state=view.masks_in_state,
            reward_parts=len(view.reward_parts),
            reader=ObservationReader(view.own_keys, view.shared_keys, view.masks_in_state, view.discrete),
        )

    @classmethod
    def from_layout(cls, layout: ObservationLayout, agents: Sequence[str]) -> JointStateLayout:
        """dnn-inference's layout for ``agents`` (see :class:`DnnJointView`)."""
        return cls.from_view(DnnJointView(layout, agents))

    @property
    def num_agents(self) -> int:
        return len(self.agents)

    @property
    def mask_dim(self) -> int:
        """Width W of an agent's padded action mask: sum(sizes)."""
        return sum(self.sizes)

    @property
    def agent_dim(self) -> int:
        """Width of one agent's block (own input + token or mask)."""
        return self.request_dim + self.token_dim

    @property
    def state_dim(self) -> int:
        return self.num_agents * self.agent_dim + self.server_dim + self.link_dim

    def agent_blocks(self, state: np.ndarray) -> np.ndarray:
        """Each agent's block. Shapes: (..., G) -> (..., A, R + T) (a view)."""
        lead = state.shape[:-1]
        return state[..., : self.num_agents * self.agent_dim].reshape(*lead, self.num_agents, self.agent_dim)

    def requests(self, state: np.ndarray) -> np.ndarray:
        """Each agent's own actor input. Shapes: (..., G) -> (..., A, R)."""
        return self.agent_blocks(state)[..., : self.request_dim]

    def servers(self, state: np.ndarray) -> np.ndarray:
        """The first shared part. Shapes: (..., G) -> (..., S)."""
        start = self.num_agents * self.agent_dim
        return state[..., start : start + self.server_dim]

    def links(self, state: np.ndarray) -> np.ndarray:
        """The second shared part. Shapes: (..., G) -> (..., L)."""
        return state[..., self.state_dim - self.link_dim :]

    def observations(self, state: np.ndarray, masks: np.ndarray) -> dict[str, dict[str, Any]]:
        """Every agent's dnn-inference observation dict rebuilt from the global state and the structural
        masks (True exactly on each agent's own sub-action values), as the env emits it.

        Shapes: state (..., G), masks (A, W) bool -> arrays (..., F) per key; ``action_mask`` a tuple of
        (..., n_k) int8 (Gymnasium's layout, batched as RLlib batches it).
        """
        lead = state.shape[:-1]
        requests, servers, links = self.requests(state), self.servers(state), self.links(state)
        observations = {}
        for n, agent in enumerate(self.agents):
            padded = np.split(np.asarray(masks[n], dtype=bool), np.cumsum(self.sizes)[:-1])
            native = multi_discrete_mask([part[: part.sum()] for part in padded])
            observations[agent] = {
                DnnObsKey.REQUEST: requests[..., n, :],
                DnnObsKey.SERVERS: servers,
                DnnObsKey.LINKS: links,
                DnnObsKey.ACTION_MASK: tuple(np.broadcast_to(part, (*lead, part.size)) for part in native),
            }
        return observations


def static_masks(
    observations: Mapping[str, Mapping[str, Any]], agents: Sequence[str], sizes: Sequence[int]
) -> np.ndarray:
    """The agents' observed action masks over the padded sub-actions ``sizes`` (K,), from one
    observation dict. Shapes: -> (A, sum(sizes)) bool."""
    masks = [observations[agent][DnnObsKey.ACTION_MASK] for agent in agents]
    return np.concatenate(padded_parts(masks, sizes), axis=1)
