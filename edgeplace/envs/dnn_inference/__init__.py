"""The dnn-inference scenario: per-slot configuration, DNN model and server of inference requests."""

from edgeplace.envs.dnn_inference.env import DnnInferenceEnv
from edgeplace.envs.dnn_inference.kpis import AgentKPI, DnnKPI, StepInfo, agent_kpi
from edgeplace.envs.dnn_inference.network import ServerNetwork, load_server_network
from edgeplace.envs.dnn_inference.params import DnnInferenceConfig, DnnInferenceParams
from edgeplace.envs.dnn_inference.state import (
    DnnObsKey,
    ObservationLayout,
    agent_ids,
    agent_service,
    global_state,
)
from edgeplace.envs.dnn_inference.system_model import SlotOutcome, SlotRequests, admit_slot, request_terms
from edgeplace.envs.registry import Scenario

SCENARIO = Scenario(
    scenario_id="dnn-inference",
    make_env=DnnInferenceEnv,
    kpis=tuple(DnnKPI),
    primary_kpis=(DnnKPI.REWARD, DnnKPI.FAILURE_RATE, DnnKPI.COST_PER_SLOT, DnnKPI.DELAY_PER_REQUEST_S),
    description="configuration, DNN model and server per inference request, all agents at once (HISPER)",
    agents_config=DnnInferenceConfig.for_agents,
)

__all__ = [
    "SCENARIO",
    "AgentKPI",
    "DnnInferenceConfig",
    "DnnInferenceEnv",
    "DnnInferenceParams",
    "DnnKPI",
    "DnnObsKey",
    "ObservationLayout",
    "ServerNetwork",
    "SlotOutcome",
    "SlotRequests",
    "StepInfo",
    "admit_slot",
    "agent_ids",
    "agent_kpi",
    "agent_service",
    "global_state",
    "load_server_network",
    "request_terms",
]
