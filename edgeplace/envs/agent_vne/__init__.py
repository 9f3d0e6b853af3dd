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

#: The scenario's id: its CLI argument, RLlib env name, Serve route segment and checkpoint tag.
SCENARIO_ID = "agent-vne"


__all__ = [
    "AGENT_ID",
    "AgentVNEConfig",
    "AgentVNEEnv",
    "FeasibilityOracle",
    "GreedyBFSDecoder",
    "ListMode",
    "NodeFeature",
    "RequestFeature",
    "SCENARIO_ID",
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
