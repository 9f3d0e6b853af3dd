"""The dnn-inference RLlib MultiAgentEnv: 2N agents choose (configuration, model, server) for the
slot's N object-detection and N tracking requests, all at once (spec: papers/hisper.md, section e)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgeplace.envs.base import Observation
from edgeplace.envs.dnn_inference.joint_view import DnnJointView
from edgeplace.envs.dnn_inference.kpis import EpisodeKPIs, step_infos
from edgeplace.envs.dnn_inference.network import ServerNetwork, load_server_network
from edgeplace.envs.dnn_inference.observer import SlotObserver
from edgeplace.envs.dnn_inference.params import DnnInferenceConfig
from edgeplace.envs.dnn_inference.state import ObservationLayout, agent_ids, agent_service
from edgeplace.envs.dnn_inference.system_model import SlotOutcome, SlotRequests, admit_slot
from edgeplace.envs.simultaneous import SimultaneousEnv
from edgeplace.topology import padded_size
from edgeplace.workloads.dnn_inference import EpisodeDraws, Service, draw_episode


class DnnInferenceEnv(SimultaneousEnv):
    """One slot per step; every agent handles one request of its service per slot.

    Observation: the Dict of :mod:`edgeplace.envs.dnn_inference.state` (``req``, ``servers``,
    ``links``, ``action_mask``). Action: ``MultiDiscrete([16, |M_s|, V])`` (configuration, model,
    server); an out-of-range action raises :class:`~edgeplace.envs.base.MaskedActionError`. Infeasible
    choices are not masked: the admission rejects them (penalty -100). Reward: the team reward
    r = r1 + r2 + r3 for every agent; ``infos`` carry the parts
    (:class:`~edgeplace.envs.dnn_inference.kpis.StepInfo`). An episode is ``horizon`` slots and ends
    in truncation. Requests and background never depend on actions.
    """

    sub_action_names = ("configuration", "model", "server")

    def __init__(
        self,
        config: Mapping[str, Any] | DnnInferenceConfig | None = None,
        *,
        network: ServerNetwork | None = None,
    ) -> None:
        """``network`` replaces the one built from ``config.topology`` (hand-built networks in tests)."""
        self.config = (
            config if isinstance(config, DnnInferenceConfig) else DnnInferenceConfig.from_env_config(config)
        )
        self.network = network or load_server_network(self.config.topology, self.config.attribute_seed)
        self._init_spaces(self.network)
        super().__init__(self.config.horizon)
        self.kpis = EpisodeKPIs(self.possible_agents)
        self.draws: EpisodeDraws | None = None
        self.last_outcome: SlotOutcome | None = None

    def _init_spaces(self, network: ServerNetwork) -> None:
        cfg = self.config
        if cfg.local_server == "nearest" and network.positions_km is None:
            raise ValueError(f"local_server='nearest' needs server coordinates; {cfg.topology!r} has none")
        self.layout = ObservationLayout(
            network.num_servers,
            padded_size(network.num_servers, cfg.max_nodes, source=cfg.topology),
            cfg.static_server_features,
        )
        agents = agent_ids(cfg.agents_per_service)
        self.agents = self.possible_agents = list(agents)
        self.services = np.array([agent_service(agent) for agent in agents], dtype=np.int64)
        spaces = {service: self.layout.observation_space(service) for service in Service}  # one per service
        self.observation_spaces = {agent: spaces[agent_service(agent)] for agent in agents}
        self.action_spaces = {agent: self.layout.action_space(agent_service(agent)) for agent in agents}
        self.observer = SlotObserver(self.layout, network, agents)

    # --- hooks ------------------------------------------------------------------------------
    def _begin_episode(self) -> None:
        cfg = self.config
        positions = self.network.positions_km if cfg.local_server == "nearest" else None
        draws = draw_episode(
            self.rng, self.services, cfg.horizon + 1, self.network.num_servers, server_xy_km=positions
        )  # slot T is observed only (the final observation)
        self.draws = draws
        self._requests = self.layout.encode_requests(
            draws.local, draws.deadline_s, draws.data_mb
        )  # (T+1, R, P+2)
        self._servers = self.layout.encode_servers(
            draws.background_tflop, draws.background_memory_mb, self.network
        )  # (T+1, |servers|)
        self.kpis.reset()
        self.last_outcome = None

    def _observe(self) -> dict[str, Observation]:
        t = self.t
        return {
            agent: self.observer.observe(self._requests[t, n], self._servers[t], n)
            for n, agent in enumerate(self.possible_agents)
        }

    def _apply(self, actions: Sequence[Any]) -> tuple[dict[str, float], dict[str, dict]]:
        outcome = admit_slot(self.network, self.config.params, self.slot_requests(self.t), np.stack(actions))
        self.kpis.record(outcome)
        self.last_outcome = outcome
        reward = outcome.reward
        return dict.fromkeys(self.possible_agents, reward), step_infos(self.possible_agents, outcome)

    def _episode_kpis(self) -> dict[str, float]:
        return self.kpis.summary()

    def joint_view(self) -> DnnJointView:
        """Its own view for the joint-transition algorithms (the paper's global state)."""
        return DnnJointView(self.layout, self.possible_agents)

    # --- helpers ----------------------------------------------------------------------------
    def slot_requests(self, t: int) -> SlotRequests:
        """Slot ``t``'s requests (agent order) and background."""
        draws = self.draws
        if draws is None:
            raise RuntimeError("no episode: call reset() first")
        return SlotRequests(
            service=self.services,
            local=draws.local[t],
            data_mb=draws.data_mb[t],
            deadline_s=draws.deadline_s[t],
            background_tflop=draws.background_tflop[t],
            background_memory_mb=draws.background_memory_mb[t],
        )
