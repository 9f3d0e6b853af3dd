"""The metaverse-dag scenario (spec: papers/llm-mappo.md): K edge controllers place microservice
replicas of three service-DAG classes and split their traffic over paths on a clustered cell network,
scored by a fluid latency model (:class:`MetaverseDagEnv`)."""

from edgeplace.envs.metaverse_dag.config import PRESETS, MetaverseDagConfig
from edgeplace.envs.metaverse_dag.env import MetaverseDagEnv, agent_ids
from edgeplace.envs.metaverse_dag.kpis import EPISODE_KPIS, MvKpi
from edgeplace.envs.metaverse_dag.network import EdgeNetwork, load_network
from edgeplace.envs.metaverse_dag.observation import MvObsKey

#: The scenario's id: its CLI argument, RLlib env name, Serve route segment and checkpoint tag.
SCENARIO_ID = "metaverse-dag"

__all__ = [
    "EPISODE_KPIS",
    "PRESETS",
    "SCENARIO_ID",
    "EdgeNetwork",
    "MetaverseDagConfig",
    "MetaverseDagEnv",
    "MvKpi",
    "MvObsKey",
    "agent_ids",
    "load_network",
]
