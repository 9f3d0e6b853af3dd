"""The agent-vne RLlib MultiAgentEnv: one agent, ``embedder``, embeds each arriving workflow
(papers/agentvne.md, sections b and f).

One env step = one arriving request. Between steps the env advances the unit-step clock: at every
step departures go first, then that step's arrivals are handed to the embedder one by one. The action
is the whole mapping, ``MultiDiscrete([Ns + 1] * Nv)`` (value Ns = unassigned); the env re-validates
it with the shared feasibility oracle, and an infeasible mapping is a rejection, not an error.
Reward (Eq.25): -H right after a commit (Eq.26, the new workflow included), or -P_fail.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from edgeplace.envs.agent_vne.instance import EmbeddingInstance, InstanceBuilder
from edgeplace.envs.agent_vne.kpis import StepInfo, VNEKPIs, revenue_and_cost
from edgeplace.envs.agent_vne.network_state import NetworkState
from edgeplace.envs.agent_vne.observation import VNEObserver
from edgeplace.envs.agent_vne.params import AgentVNEConfig
from edgeplace.envs.agent_vne.static import static_network
from edgeplace.envs.base import Observation
from edgeplace.envs.turn_based import TurnBasedEnv
from edgeplace.workloads.agentic_workflows import Arrival, ArrivalProcess, WorkflowGenerator

AGENT_ID = "embedder"


class AgentVNEEnv(TurnBasedEnv):
    """Online embedding of agentic workflows on a substrate.

    Observation: the Dict of :class:`~edgeplace.envs.agent_vne.observation.VNEObsKey`.
    Action: (Nv,) int64 hosts, Ns = unassigned; padded agents' entries are ignored.
    An episode ends after ``arrivals_per_episode`` arrivals or at ``horizon_steps``; it is a
    truncation (the arrival process goes on), so RLlib bootstraps the last value.

    Seeding: :mod:`edgeplace.envs.base`'s convention; ``config.seed`` is the seed before the first
    ``reset(seed=...)``.
    """

    ends_in_truncation = True

    def __init__(self, config: Mapping[str, Any] | AgentVNEConfig | None = None) -> None:
        super().__init__()
        self.config = AgentVNEConfig.from_env_config(config)
        if self.config.seed is not None:
            self.seed = self.config.seed
        self.static = static_network(self.config)
        self.observer = VNEObserver(self.static, self.config.max_virtual_nodes)
        self.builder = InstanceBuilder(self.static, self.config.bias, self.config.strict_affinity)
        self.generator = WorkflowGenerator(self.static.substrate.affinity)
        self.state = NetworkState(self.static)
        self.kpis = VNEKPIs(self.config.warmup_steps)
        self.agents = self.possible_agents = [AGENT_ID]
        self.observation_spaces = {AGENT_ID: self.observer.observation_space()}
        self.action_spaces = {
            AGENT_ID: gym.spaces.MultiDiscrete([self.static.max_nodes + 1] * self.config.max_virtual_nodes)
        }
        self.time = -1
        self.arrivals: ArrivalProcess | None = None
        self.current: tuple[Arrival, EmbeddingInstance] | None = None
        self._shown_at = 0.0

    @property
    def unassigned(self) -> int:
        """The action value meaning "no host" (Ns)."""
        return self.static.max_nodes

    # --- hooks ------------------------------------------------------------------------------
    def _begin_episode(self) -> str:
        self.arrivals = ArrivalProcess(
            self.generator,
            self.config.arrival_rate,
            self.config.mean_lifetime,
            self.rng,
            f"{self.episode_index}-",
        )
        self.state.reset()
        self.kpis.reset()
        self.time = -1
        self.current = None
        if not self._next_request():
            raise RuntimeError("the episode has no arrival to embed (every request was infeasible)")
        return AGENT_ID

    def _observe(self, agent_id: str) -> Observation:
        instance = self.current[1] if self.current is not None else None
        obs = self.observer.observe(self.state, instance)
        self._shown_at = time.perf_counter()  # the policy's share of the solve time starts here
        return obs

    def _apply(self, agent_id: str, action: np.ndarray) -> tuple[float, str | None, dict[str, Any]]:
        assert self.current is not None
        arrival, instance = self.current
        request = instance.request
        assert request is not None
        hosts = action[: request.num_agents]
        workflow, reason = self.state.embed(self.arrivals.count, request, hosts, arrival.departure)
        weighted_hops = self.state.weighted_hops()
        solve_s = time.perf_counter() - self._shown_at
        if workflow is None:
            reward = -self.config.rejection_penalty
            self.kpis.record_request(arrival.time, False, solve_s)
        else:
            reward = -weighted_hops
            revenue, cost = revenue_and_cost(workflow)
            self.kpis.record_request(
                arrival.time, True, solve_s, revenue, cost, self.state.latency_s(workflow)
            )
        info = {
            StepInfo.ACCEPTED: workflow is not None,
            StepInfo.REASON: reason,
            StepInfo.TIME: arrival.time,
            StepInfo.WEIGHTED_HOPS: weighted_hops,
        }
        return reward, AGENT_ID if self._next_request() else None, info

    def _episode_kpis(self) -> dict[str, float]:
        return self.kpis.summary()

    # --- the clock --------------------------------------------------------------------------
    def _next_request(self) -> bool:
        """Advance to the next arrival that needs a decision; False (and the last steps recorded) when
        the episode is over. Requests the parser finds infeasible are rejected on the spot."""
        assert self.arrivals is not None
        config = self.config
        while True:
            if config.arrivals_per_episode is not None and self.arrivals.count >= config.arrivals_per_episode:
                self._advance_to(self.time + 1)
                self.current = None
                return False
            arrival = self.arrivals.next_arrival()
            first = self.current is None and not self.kpis.num_requests
            if config.horizon_steps is not None and arrival.time > config.horizon_steps and not first:
                self._advance_to(config.horizon_steps + 1)
                self.current = None
                return False
            self._advance_to(arrival.time)
            instance = self.builder.build(arrival.request, np.asarray(self.state.node_free))
            if instance.request is None:
                self.kpis.record_request(arrival.time, False, 0.0)
                continue
            self.current = (arrival, instance)
            return True

    def _advance_to(self, step: int) -> None:
        """Close steps up to ``step`` - 1 (recording their end state) and open ``step`` (departures)."""
        while self.time < step:
            if self.time >= 0:
                self._record_step()
            self.time += 1
            self.state.depart_until(self.time)

    def _record_step(self) -> None:
        state = self.state
        self.kpis.record_step(
            self.time,
            state.weighted_hops(),
            len(state.live),
            float(state.ledger.utilisation().mean()),
            state.objective(),
        )
