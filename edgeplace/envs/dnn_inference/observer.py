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

    Attributes:
        action_masks: each agent's observed mask (Gymnasium's layout, read-only arrays shared by every
            observation).
        structural_masks: the same over the padded sub-actions the joint policies act on, (A, 16 + 4 + P)
            bool.

    Args:
        layout: the observation layout.
        network: the server network (its links, and its static server features when observed).
        agents: the agent ids, in agent order: an agent is given by its index in them.
    """

    def __init__(self, layout: ObservationLayout, network: ServerNetwork, agents: Sequence[str]) -> None:
        self.layout, self.network = layout, network
        self.links = layout.encode_links(network)  # (L,)
        services = [agent_service(agent) for agent in agents]
        self.action_masks = [layout.action_mask(service) for service in services]
        self.structural_masks = np.stack([layout.structural_mask(service) for service in services])

    def observe(
        self, request_features: np.ndarray, server_features: np.ndarray, agent: np.ndarray
    ) -> Observation:
        """The observations of agent ``agent`` (an index) or of agents ``agent`` (an index array (B,))
        given their encoded requests and servers.

        Shapes: request_features (P + 2,) or (B, P + 2), server_features (|servers|,) or (B, |servers|)
        -> arrays (F,) or (B, F) per key; ``links`` is the static links (a read-only view of them for an
        index array); ``action_mask`` the agent's mask, or a list of each row's (the two services' masks
        have other shapes, so they do not stack).
        """
        single = np.ndim(agent) == 0
        return {
            DnnObsKey.REQUEST: request_features,
            DnnObsKey.SERVERS: server_features,
            DnnObsKey.LINKS: self.links if single else self._links_for(np.shape(agent)),
            DnnObsKey.ACTION_MASK: self.action_masks[agent]
            if single
            else [self.action_masks[n] for n in agent],
        }

    def _links_for(self, shape: tuple[int, ...]) -> np.ndarray:
        """The static links repeated for agents of ``shape``, as a read-only view. Shapes: -> (*shape, L)."""
        return np.broadcast_to(self.links, (*shape, self.links.size))

    def observe_requests(self, requests: RequestBatch, agent: np.ndarray) -> Observation:
        """The observation of each request as its agent (``agent`` (B,) indices) sees it on its slot
        state: the env's observation of that agent in that slot, bit for bit.

        Shapes: request fields (B,), background (B, V) -> (B, F) float32 per key (``action_mask``: a list
        of B masks).
        """
        layout = self.layout
        return self.observe(
            layout.encode_requests(requests.local, requests.deadline_s, requests.data_mb),
            layout.encode_servers(requests.background_tflop, requests.background_memory_mb, self.network),
            agent,
        )
