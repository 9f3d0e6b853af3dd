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
from edgeplace.envs.registry import Scenario

SCENARIO = Scenario(
    scenario_id="genai-chain",
    make_env=GenAIChainEnv,
    kpis=tuple(ChainKPI),
    primary_kpis=(ChainKPI.SLA_SATISFACTION, ChainKPI.UTILITY, ChainKPI.LATENCY_S),
    description="5-stage GenAI request chains placed on model instances (VAMAPPO paper)",
    has_splits=True,
)

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
    "SCENARIO",
]
