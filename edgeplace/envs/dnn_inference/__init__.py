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

#: The scenario's id: its CLI argument, RLlib env name, Serve route segment and checkpoint tag.
SCENARIO_ID = "dnn-inference"


__all__ = [
    "SCENARIO_ID",
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
