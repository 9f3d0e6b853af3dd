"""The agents' observations of the dnn-inference scenario on one server network, assembled once for the
env and Serve from :class:`ObservationLayout`'s encoders (the layout: :mod:`.state`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeplace.envs.base import Observation
from edgeplace.envs.dnn_inference.network import ServerNetwork
from edgeplace.envs.dnn_inference.request_batch import RequestBatch
from edgeplace.envs.dnn_inference.state import DnnObsKey, ObservationLayout, agent_service


class SlotObserver:
    """Builds agents' observations; the links and the agents' action masks are static and built once.

    Args:
        layout: the observation layout.
        network: the server network (its links, and its static server features when observed).
        agents: the agent ids, in agent order: an agent is given by its index in them.
    """

    def __init__(self, layout: ObservationLayout, network: ServerNetwork, agents: Sequence[str]) -> None:
        self.layout, self.network = layout, network
        self.links = layout.encode_links(network)  # (L,)
        self.masks = np.stack([layout.action_mask(agent_service(agent)) for agent in agents])  # (A, 16+4+P)

    def observe(
        self, request_features: np.ndarray, server_features: np.ndarray, agent: np.ndarray
    ) -> Observation:
        """The observations of agents ``agent`` (index or index array, shape (...)) given their encoded
        requests and servers.

        Shapes: request_features (..., P + 2), server_features (..., |servers|), agent (...) -> arrays
        (..., F) per key; ``links`` is the static links (a read-only view of them for an index array).
        """
        return {
            DnnObsKey.REQUEST: request_features,
            DnnObsKey.SERVERS: server_features,
            DnnObsKey.LINKS: self.links if np.ndim(agent) == 0 else self._links_for(np.shape(agent)),
            DnnObsKey.ACTION_MASK: self.masks[agent],
        }

    def _links_for(self, shape: tuple[int, ...]) -> np.ndarray:
        """The static links repeated for agents of ``shape``, as a read-only view. Shapes: -> (*shape, L)."""
        return np.broadcast_to(self.links, (*shape, self.links.size))

    def observe_requests(self, requests: RequestBatch, agent: np.ndarray) -> Observation:
        """The observation of each request as its agent (``agent`` (B,) indices) sees it on its slot
        state: the env's observation of that agent in that slot, bit for bit.

        Shapes: request fields (B,), background (B, V) -> (B, F) float32 per key.
        """
        layout = self.layout
        return self.observe(
            layout.encode_requests(requests.local, requests.deadline_s, requests.data_mb),
            layout.encode_servers(requests.background_tflop, requests.background_memory_mb, self.network),
            agent,
        )
