"""The joint view of a dnn-inference step: the global state and the per-agent actor inputs inside it.

The replay buffer stores only the global state s of
:func:`edgeplace.envs.dnn_inference.state.global_state` (per agent ``req`` + service token, then
``servers`` and ``links`` once); every actor input ``o^n`` (``req`` of agent n, ``servers``,
``links``) is a slice of it, and the action masks are structural (static per agent). This module
reads those slices; it follows ``global_state``'s documented layout, and a test checks the round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from edgeplace.envs.dnn_inference.state import SERVICE_TOKEN_DIM, DnnObsKey, ObservationLayout


@dataclass(frozen=True)
class JointStateLayout:
    """Widths of the global state's parts for ``agents`` (in id order) and an observation layout.

    Shapes: the global state is (..., A (R + T) + S + L) with R = request width, T = service token
    width, S = servers width, L = links width.
    """

    agents: tuple[str, ...]
    request_dim: int
    server_dim: int
    link_dim: int
    mask_dim: int
    token_dim: int = SERVICE_TOKEN_DIM

    @classmethod
    def from_layout(cls, layout: ObservationLayout, agents: Sequence[str]) -> JointStateLayout:
        out = cls(tuple(agents), layout.request_dim, layout.server_dim, layout.link_dim, layout.mask_dim)
        if out.state_dim != layout.global_state_dim(len(agents)):
            raise ValueError(
                f"global state layout mismatch: {out.state_dim} != {layout.global_state_dim(len(agents))}"
            )
        return out

    @property
    def num_agents(self) -> int:
        return len(self.agents)

    @property
    def agent_dim(self) -> int:
        """Width of one agent's block (request + service token)."""
        return self.request_dim + self.token_dim

    @property
    def state_dim(self) -> int:
        return self.num_agents * self.agent_dim + self.server_dim + self.link_dim

    def agent_blocks(self, state: np.ndarray) -> np.ndarray:
        """Each agent's [request, token]. Shapes: (..., G) -> (..., A, R + T) (a view)."""
        lead = state.shape[:-1]
        return state[..., : self.num_agents * self.agent_dim].reshape(*lead, self.num_agents, self.agent_dim)

    def requests(self, state: np.ndarray) -> np.ndarray:
        """Each agent's ``req`` observation. Shapes: (..., G) -> (..., A, R)."""
        return self.agent_blocks(state)[..., : self.request_dim]

    def servers(self, state: np.ndarray) -> np.ndarray:
        """The shared ``servers`` observation. Shapes: (..., G) -> (..., S)."""
        start = self.num_agents * self.agent_dim
        return state[..., start : start + self.server_dim]

    def links(self, state: np.ndarray) -> np.ndarray:
        """The shared ``links`` observation. Shapes: (..., G) -> (..., L)."""
        return state[..., self.state_dim - self.link_dim :]

    def observations(self, state: np.ndarray, masks: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
        """Every agent's observation dict rebuilt from the global state and the static masks (A, M)
        (bool or 0/1), as the env emits it (float32 mask)."""
        requests, servers, links = self.requests(state), self.servers(state), self.links(state)
        return {
            agent: {
                DnnObsKey.REQUEST: requests[..., n, :],
                DnnObsKey.SERVERS: servers,
                DnnObsKey.LINKS: links,
                DnnObsKey.ACTION_MASK: np.broadcast_to(
                    np.asarray(masks[n], dtype=np.float32), (*state.shape[:-1], self.mask_dim)
                ),
            }
            for n, agent in enumerate(self.agents)
        }


def static_masks(observations: Mapping[str, Mapping[str, np.ndarray]], agents: Sequence[str]) -> np.ndarray:
    """The agents' structural action masks as a bool array (A, M), from one observation dict."""
    return np.stack([np.asarray(observations[agent][DnnObsKey.ACTION_MASK]) > 0 for agent in agents])
