"""Agents, observations and the global state of the dnn-inference scenario (spec: papers/hisper.md, e).

THE place that maps the network state and requests to numpy observations and back, and the joint
observation to the global state; the env, the baselines, the learner and Serve all use it.

Agents: ``od_0 .. od_{N-1}`` then ``mot_0 .. mot_{N-1}``, which is also the processing order.

Observation of one agent (P = padded server count, V <= P real servers; float32 but the mask):

===============  ================  =========================================================
key              shape             content
===============  ================  =========================================================
``req``          (P + 2,)          one-hot local server v_u (P), dreq / 25 s, data / 20 MB
``servers``      (2P,) or (5P,)    h_sys / 0.3 TFLOP (P), H_mem / 1024 MB (P); with
                                   ``static_server_features``: A_k / 1.33, B_k / 4096, rho_k / 72
``links``        (P (P - 1) / 2,)  upper triangle (row-major, ``triu_indices(P, 1)``) of W / 400
                                   Mbit/s, 0 where there is no link; static
``action_mask``  (16,), (|M_s|,),  structural only, in Gymnasium's layout for the agent's
                 (V,) int8         ``MultiDiscrete([16, |M_s|, V])``: every configuration, every
                                   model of its service, every real server
===============  ================  =========================================================

Padded server slots are 0 everywhere. The joint policies act on padded sub-actions (16, MAX_MODELS, P);
:meth:`ObservationLayout.structural_mask` is an agent's mask over them. Global state
(:func:`global_state`): for each agent in id order its ``req`` followed by a service token (OD
``[1, 0]``, MOT ``[0, 1]``), then ``servers`` and ``links`` once: ``2N (P + 4) + |servers| + |links|``
values (312 at 8 agents, 352 at 10, P = 16).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

import gymnasium as gym
import numpy as np

from edgeplace.envs.action_masks import mask_space, multi_discrete_mask, padded_parts
from edgeplace.envs.dnn_inference.network import ServerNetwork
from edgeplace.envs.dnn_inference.request_batch import RequestBatch
from edgeplace.obs_keys import ObsKey
from edgeplace.workloads.dnn_inference import MAX_MODELS, NUM_CONFIGS, NUM_SERVICES, SERVICE_TABLES, Service

DEADLINE_SCALE_S = 25.0
DATA_SCALE_MB = 20.0
BACKGROUND_SCALE_TFLOP = 0.3
BACKGROUND_SCALE_MB = 1024.0
LINK_SCALE_MBPS = 400.0
COMPUTE_SCALE_TFLOPS = 1.33
MEMORY_SCALE_MB = 4096.0
UPLINK_SCALE_MBPS = 72.0
SERVICE_TOKEN_DIM = NUM_SERVICES
_PREFIXES = {Service.OD: "od", Service.MOT: "mot"}


class DnnObsKey(StrEnum):
    """Keys of a dnn-inference observation (``req`` and ``action_mask`` as in :class:`ObsKey`)."""

    REQUEST = ObsKey.REQUEST.value
    SERVERS = "servers"
    LINKS = "links"
    ACTION_MASK = ObsKey.ACTION_MASK.value


def agent_ids(agents_per_service: int) -> tuple[str, ...]:
    """``od_0 .. od_{N-1}, mot_0 .. mot_{N-1}``: the agents in processing order."""
    return tuple(f"{_PREFIXES[s]}_{n}" for s in Service for n in range(agents_per_service))


def agent_rank(agent_id: str) -> tuple[Service, int]:
    """(service, index within the service) of an agent id; sorting by it gives the processing order."""
    prefix, _, index = agent_id.rpartition("_")
    for service, name in _PREFIXES.items():
        if prefix == name and index.isdigit():
            return service, int(index)
    raise ValueError(f"not a dnn-inference agent id: {agent_id!r} (expected 'od_<n>' or 'mot_<n>')")


def agent_service(agent_id: str) -> Service:
    """The service an agent serves."""
    return agent_rank(agent_id)[0]


class ObservationLayout:
    """Sizes of the observation for V real servers padded to P, and its encoders and decoders.

    The encoders take any leading batch dimensions (e.g. (T, R) for a whole episode at once).
    """

    def __init__(self, num_servers: int, max_nodes: int, static_server_features: bool = False) -> None:
        if not 1 <= num_servers <= max_nodes:
            raise ValueError(f"max_nodes ({max_nodes}) must be >= the server count ({num_servers})")
        self.num_servers, self.max_nodes = num_servers, max_nodes
        self.static_server_features = static_server_features
        self.request_dim = max_nodes + 2
        self.server_dim = (5 if static_server_features else 2) * max_nodes
        self.link_dim = max_nodes * (max_nodes - 1) // 2
        #: Padded sub-action sizes the joint policies act on: configurations, model slots, server slots.
        self.padded_sizes = (NUM_CONFIGS, MAX_MODELS, max_nodes)

    # --- encoders -------------------------------------------------------------------------------
    def encode_requests(self, local: np.ndarray, deadline_s: np.ndarray, data_mb: np.ndarray) -> np.ndarray:
        """Shapes: local, deadline_s, data_mb (...) -> (..., P + 2) float32."""
        out = np.zeros((*np.shape(local), self.request_dim), dtype=np.float32)
        np.put_along_axis(out, np.asarray(local, dtype=np.int64)[..., None], 1.0, axis=-1)
        out[..., self.max_nodes] = np.asarray(deadline_s) / DEADLINE_SCALE_S
        out[..., self.max_nodes + 1] = np.asarray(data_mb) / DATA_SCALE_MB
        return out

    def encode_servers(
        self, background_tflop: np.ndarray, background_memory_mb: np.ndarray, network: ServerNetwork
    ) -> np.ndarray:
        """Shapes: background_tflop, background_memory_mb (..., V) -> (..., |servers|) float32."""
        blocks = [background_tflop / BACKGROUND_SCALE_TFLOP, background_memory_mb / BACKGROUND_SCALE_MB]
        if self.static_server_features:
            lead = np.shape(background_tflop)[:-1]
            blocks += [
                np.broadcast_to(values / scale, (*lead, self.num_servers))
                for values, scale in (
                    (network.compute_tflops, COMPUTE_SCALE_TFLOPS),
                    (network.memory_mb, MEMORY_SCALE_MB),
                    (network.uplink_mbps, UPLINK_SCALE_MBPS),
                )
            ]
        pad = [(0, 0)] * (np.ndim(background_tflop) - 1) + [(0, self.max_nodes - self.num_servers)]
        return np.concatenate([np.pad(block, pad) for block in blocks], axis=-1).astype(np.float32)

    def encode_links(self, network: ServerNetwork) -> np.ndarray:
        """Shapes: -> (P (P - 1) / 2,) float32."""
        padded = np.zeros((self.max_nodes, self.max_nodes))
        padded[: self.num_servers, : self.num_servers] = network.bandwidth_matrix_mbps / LINK_SCALE_MBPS
        return padded[np.triu_indices(self.max_nodes, k=1)].astype(np.float32)

    def action_mask(self, service: Service) -> tuple[np.ndarray, ...]:
        """The observed action mask of an agent of ``service`` (everything in its action space is allowed).

        Shapes: -> ((16,), (|M_s|,), (V,)) int8, read-only.
        """
        return multi_discrete_mask([np.ones(n, dtype=bool) for n in self.action_space(service).nvec])

    def structural_mask(self, service: Service) -> np.ndarray:
        """:meth:`action_mask` over the padded sub-actions (MOT: model slot 3 False; server padding False).

        Shapes: -> (16 + MAX_MODELS + P,) bool.
        """
        return np.concatenate(padded_parts([self.action_mask(service)], self.padded_sizes), axis=1)[0]

    # --- decoders -------------------------------------------------------------------------------
    def decode_requests(self, request: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(local server, deadline s, raw data MB). Shapes: (..., P + 2) -> 3 x (...)."""
        request = np.asarray(request, dtype=np.float64)
        local = request[..., : self.max_nodes].argmax(axis=-1)
        return local, request[..., self.max_nodes] * DEADLINE_SCALE_S, request[..., -1] * DATA_SCALE_MB

    def decode_background(self, servers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(h_sys TFLOP, H_mem MB) of the real servers. Shapes: (..., |servers|) -> 2 x (..., V)."""
        servers = np.asarray(servers, dtype=np.float64)
        p, v = self.max_nodes, self.num_servers
        return servers[..., :v] * BACKGROUND_SCALE_TFLOP, servers[..., p : p + v] * BACKGROUND_SCALE_MB

    def decode_batch(self, agent_ids: Sequence[str], batch: Mapping[str, np.ndarray]) -> RequestBatch:
        """The requests and server background that stacked observations of ``agent_ids`` show.

        Shapes: batch ``req`` (B, P + 2), ``servers`` (B, |servers|); agent_ids (B,).

        Raises:
            ValueError: the observations do not have this layout's sizes.
        """
        request, servers = batch[DnnObsKey.REQUEST], batch[DnnObsKey.SERVERS]
        if request.shape[1:] != (self.request_dim,) or servers.shape[1:] != (self.server_dim,):
            raise ValueError(
                f"req/servers observations of shapes {request.shape[1:]} / {servers.shape[1:]} do not fit "
                f"this env_config ({self.request_dim},) / ({self.server_dim},): "
                "check topology, max_nodes and static_server_features"
            )
        local, deadline_s, data_mb = self.decode_requests(request)
        background_tflop, background_mb = self.decode_background(servers)
        service = np.array([agent_service(agent) for agent in agent_ids], dtype=np.int64)
        return RequestBatch(service, local, deadline_s, data_mb, background_tflop, background_mb)

    # --- spaces ---------------------------------------------------------------------------------
    def observation_space(self, service: Service) -> gym.spaces.Dict:
        """The Dict observation space of an agent of ``service``."""

        def box(size: int) -> gym.spaces.Box:
            return gym.spaces.Box(0.0, np.inf, (size,), np.float32)

        return gym.spaces.Dict(
            {
                DnnObsKey.REQUEST: box(self.request_dim),
                DnnObsKey.SERVERS: box(self.server_dim),
                DnnObsKey.LINKS: box(self.link_dim),
                DnnObsKey.ACTION_MASK: mask_space(self.action_space(service)),
            }
        )

    def action_space(self, service: Service) -> gym.spaces.MultiDiscrete:
        """(configuration, model, server) with native sizes: [16, |M_s|, V]."""
        return gym.spaces.MultiDiscrete(
            [NUM_CONFIGS, int(SERVICE_TABLES.num_models[service]), self.num_servers]
        )

    def global_state_dim(self, num_agents: int) -> int:
        """Length of :func:`global_state` for ``num_agents`` agents."""
        return num_agents * (self.request_dim + SERVICE_TOKEN_DIM) + self.server_dim + self.link_dim


def service_token(agent_id: str) -> np.ndarray:
    """One-hot of the agent's service. Shapes: -> (2,) float32."""
    return np.eye(NUM_SERVICES, dtype=np.float32)[agent_service(agent_id)]


def global_state(observations: Mapping[str, Mapping[str, np.ndarray]], agents: Sequence[str]) -> np.ndarray:
    """The global state s (the union of the agents' observations, spec e) in the module's layout.

    ``servers`` and ``links`` are taken from the first agent (every agent observes the same ones).
    Works on single observations and on batches alike.

    Shapes: each observation array (..., F) with the same leading dims ... -> (..., G) float32,
    G = ``ObservationLayout.global_state_dim(len(agents))``.
    """
    first = observations[agents[0]]
    lead = np.shape(first[DnnObsKey.REQUEST])[:-1]
    parts: list[np.ndarray] = []
    for agent in agents:
        parts.append(np.asarray(observations[agent][DnnObsKey.REQUEST], dtype=np.float32))
        parts.append(np.broadcast_to(service_token(agent), (*lead, SERVICE_TOKEN_DIM)))
    parts += [np.asarray(first[DnnObsKey.SERVERS]), np.asarray(first[DnnObsKey.LINKS])]
    return np.concatenate(parts, axis=-1).astype(np.float32, copy=False)
