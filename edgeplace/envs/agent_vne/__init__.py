"""The agent-vne scenario: online embedding of multi-agent LLM workflows with affinity (AgentVNE paper)."""

from edgeplace.envs.agent_vne.decoder import GreedyBFSDecoder, ListMode, priority_ranks, ranks_from_lists
from edgeplace.envs.agent_vne.env import AGENT_ID, AgentVNEEnv
from edgeplace.envs.agent_vne.feasibility import FeasibilityOracle, check_mapping
from edgeplace.envs.agent_vne.kpis import VNEKPI, StepInfo
from edgeplace.envs.agent_vne.observation import (
    NodeFeature,
    RequestFeature,
    VNEObserver,
    VNEObsKey,
    request_from_observation,
)
from edgeplace.envs.agent_vne.params import AgentVNEConfig
from edgeplace.envs.agent_vne.request import VirtualRequest
from edgeplace.envs.agent_vne.static import StaticNetwork, static_network
from edgeplace.envs.registry import Scenario

SCENARIO = Scenario(
    scenario_id="agent-vne",
    make_env=AgentVNEEnv,
    kpis=tuple(VNEKPI),
    primary_kpis=(VNEKPI.WEIGHTED_HOPS, VNEKPI.ACCEPTANCE_RATIO, VNEKPI.SOLVE_TIME_S),
    description="online embedding of agentic LLM workflows with affinity anchors (AgentVNE paper)",
)

__all__ = [
    "AGENT_ID",
    "AgentVNEConfig",
    "AgentVNEEnv",
    "FeasibilityOracle",
    "GreedyBFSDecoder",
    "ListMode",
    "NodeFeature",
    "RequestFeature",
    "SCENARIO",
    "StaticNetwork",
    "StepInfo",
    "VNEKPI",
    "VNEObsKey",
    "VNEObserver",
    "VirtualRequest",
    "check_mapping",
    "priority_ranks",
    "ranks_from_lists",
    "request_from_observation",
    "static_network",
]
