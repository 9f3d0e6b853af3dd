"""The lm-inference scenario (spec: papers/multi-agentic-lm-inference.md): a calibrated discrete-event
simulator of six edge workers serving four LM types, the decision interfaces every controller uses
(plan, routes, node configurations) and the multi-rate RLlib env on top of them (:class:`LmInferenceEnv`;
its factory, which adds the planner's random-policy reference, is
:func:`edgeplace.algos.baselines.lm_inference.reference.make_env`)."""

from edgeplace.envs.lm_inference.cluster import Cluster, load_cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.config import LmInferenceConfig
from edgeplace.envs.lm_inference.env import EPISODE_KPIS, AgentKpi, EpisodeKpi, LmInferenceEnv
from edgeplace.envs.lm_inference.episode import RunResult, RunSpec, run_episode
from edgeplace.envs.lm_inference.hierarchy import Deployer, Hierarchy, Planner, Scheduler, run_hierarchy
from edgeplace.envs.lm_inference.kpis import CohortKpis, LmKpi, cohort_kpis, jain
from edgeplace.envs.lm_inference.lm_types import LM_TABLE, NUM_LMS, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.simulator import LmInferenceSim
from edgeplace.envs.lm_inference.telemetry import EpochTelemetry, epoch_telemetry

#: The scenario's id: its CLI argument, RLlib env name, Serve route segment and checkpoint tag.
SCENARIO_ID = "lm-inference"

__all__ = [
    "EPISODE_KPIS",
    "LM_TABLE",
    "NUM_LMS",
    "SCENARIO_ID",
    "AgentKpi",
    "Cluster",
    "ClusterView",
    "CohortKpis",
    "Deployer",
    "EpisodeKpi",
    "EpochTelemetry",
    "Hierarchy",
    "LmInferenceConfig",
    "LmInferenceEnv",
    "LmInferenceParams",
    "LmInferenceSim",
    "LmKpi",
    "Mode",
    "NodeConfig",
    "Plan",
    "Planner",
    "RunResult",
    "RunSpec",
    "Scheduler",
    "cohort_kpis",
    "epoch_telemetry",
    "jain",
    "load_cluster",
    "run_episode",
    "run_hierarchy",
]
