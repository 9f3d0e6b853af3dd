"""The genai-chain scenario: 5-stage GenAI request chains placed on model instances at edge nodes."""

from edgeplace.envs.genai_chain.env import AGENT_IDS, GenAIChainEnv
from edgeplace.envs.genai_chain.kpis import ChainKPI
from edgeplace.envs.genai_chain.observation import (
    ChainObserver,
    ChainProgress,
    ItemFeature,
    NodeFeature,
    RequestFeature,
)
from edgeplace.envs.genai_chain.params import GenAIChainConfig, GenAIChainParams

#: The scenario's id: its CLI argument, RLlib env name, Serve route segment and checkpoint tag.
SCENARIO_ID = "genai-chain"


__all__ = [
    "AGENT_IDS",
    "ChainKPI",
    "ChainObserver",
    "ChainProgress",
    "GenAIChainConfig",
    "GenAIChainEnv",
    "GenAIChainParams",
    "ItemFeature",
    "NodeFeature",
    "RequestFeature",
    "SCENARIO_ID",
]
