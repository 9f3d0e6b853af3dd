"""The agent-vne placer tests' shared pieces: one tiny trained AgentVNE checkpoint per test session,
env-side greedy evaluation traces of it, and request bodies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edgeplace.algos.agentvne.policy import AgentVNEPolicy
from edgeplace.algos.agentvne.settings import FINETUNE_DIR
from edgeplace.algos.checkpoints import latest_checkpoint, read_metadata
from edgeplace.algos.registry import run_training
from edgeplace.envs.agent_vne import AGENT_ID, VNEKPI, AgentVNEEnv, StepInfo
from edgeplace.envs.base import ALL_AGENTS, KPI_INFO_KEY
from edgeplace.policy import act
from edgeplace.serve.agent_vne_inputs import workflow_body
from edgeplace.serve.routes import Route
from tests.algos.test_agentvne_stages import tiny_agentvne_config

SCENARIO_ID = "agent-vne"
PLACE, PLACE_BATCH = Route.PLACE.of(SCENARIO_ID), Route.PLACE_BATCH.of(SCENARIO_ID)
POLICY = "agentvne"
TRACE_CONFIG = {"arrival_rate": 0.5, "arrivals_per_episode": 40, "warmup_steps": 0}
"""Traced episodes: loaded enough that some workflows are rejected; KPIs over every step (t > 0)."""


def vne_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny AgentVNE run of tests/algos (2-epoch pre-training, one 20-decision PPO iteration on
    waxman:nodes=12,seed=1), trained once per test session (needs the ``ray_session`` fixture)."""
    run_dir = tmp_path_factory.getbasetemp() / "agent_vne_serve_run"
    checkpoint = latest_checkpoint(run_dir / FINETUNE_DIR)
    if checkpoint is None:
        checkpoint = run_training(tiny_agentvne_config(20), run_dir).checkpoint
    return checkpoint


def trace_env_config(checkpoint: Path) -> dict[str, Any]:
    """The checkpoint's env config under :data:`TRACE_CONFIG`."""
    return {**read_metadata(checkpoint)["env_config"], **TRACE_CONFIG}


@dataclass(frozen=True)
class EnvDecision:
    """A workflow as the env presented it (state and raw request as /place bodies) and what the
    env-side greedy evaluation did with it."""

    state: dict
    request: dict
    hosts: list[int]
    accepted: bool
    weighted_hops: float
    time: int


@dataclass(frozen=True)
class EnvTrace:
    """One episode of env-side greedy evaluation."""

    decisions: list[EnvDecision]
    kpis: dict[str, float]

    @property
    def latency_s(self) -> float:
        """The env's mean Eq.5-6 latency of accepted workflows after step 0 (warm-up 0)."""
        return self.kpis[VNEKPI.LATENCY_S]


def state_body(env: AgentVNEEnv) -> dict:
    """The env's live state as a network state body."""
    state = env.state
    return {
        "node_free": state.node_free.tolist(),
        "link_free_mbps": state.link_free_mbps.tolist(),
        "link_flows": state.flow_count.tolist(),
        "link_workflows": state.workflow_count.tolist(),
        "live_workflows": len(state.live),
    }


def greedy_trace(policy: AgentVNEPolicy, env_config: dict, seed: int) -> EnvTrace:
    """One episode in which ``policy`` embeds every arrival, as ``edgeplace evaluate`` runs it."""
    env = AgentVNEEnv(env_config)
    observations, _ = env.reset(seed=seed)
    decisions = []
    while True:
        arrival, _ = env.current
        state, request = state_body(env), workflow_body(arrival.request).model_dump(mode="json")
        actions = act(policy, observations)
        observations, _, terminated, truncated, infos = env.step(actions)
        info = infos[AGENT_ID]
        hosts = actions[AGENT_ID][: arrival.request.num_agents].tolist()
        accepted, hops = info[StepInfo.ACCEPTED], info[StepInfo.WEIGHTED_HOPS]
        decisions.append(EnvDecision(state, request, hosts, accepted, hops, arrival.time))
        if terminated[ALL_AGENTS] or truncated[ALL_AGENTS]:
            return EnvTrace(decisions, info[KPI_INFO_KEY])


def place_body(decision: EnvDecision, **extra) -> dict:
    """The /place body of a traced decision."""
    return {"state": decision.state, "request": decision.request, **extra}
