"""The dnn-inference scenario's spec: configuration, DNN model and server per request (HISPER paper)."""

from __future__ import annotations

from functools import partial

from edgeplace.algos.baselines.dnn_inference import BASELINES
from edgeplace.algos.hisper.settings import PRESETS as HISPER_PRESETS
from edgeplace.algos.learner_metrics import HAPPO_LEARNER_METRICS, HISPER_LEARNER_METRICS
from edgeplace.envs.dnn_inference import SCENARIO_ID, AgentKPI, DnnInferenceConfig, DnnInferenceEnv, DnnKPI
from edgeplace.scenarios.lazy import Lazy
from edgeplace.scenarios.spec import AlgorithmSpec, ReproduceSpec, ScenarioSpec

_HISPER = Lazy("edgeplace.algos.hisper.build:build_hisper_config")
_LIVE_POLICY = Lazy("edgeplace.algos.hisper.policy:HISPERPolicy.from_algorithm")
_PRESET_DESCRIPTIONS = {
    "hisper": "HISPER: HASAC with autoregressive heads and the hybrid-reward critic",
    "hasac": "HASAC: soft actor-critic, factorised heads, one reward",
    "hisper-noHRA": "HISPER without the hybrid reward (ablation)",
    "hisper-noAR": "HISPER without the autoregressive heads (ablation)",
}

ALGORITHMS = {
    **{
        name: AlgorithmSpec(
            partial(_HISPER, preset=name),
            _PRESET_DESCRIPTIONS[name],
            learner_metrics=HISPER_LEARNER_METRICS,
            live_policy=_LIVE_POLICY,
        )
        for name in HISPER_PRESETS
    },
    "happo": AlgorithmSpec(
        Lazy("edgeplace.algos.hisper.build:build_happo_config"),
        "HAPPO: heterogeneous-agent PPO (sequential updates)",
        learner_metrics=HAPPO_LEARNER_METRICS,
        live_policy=_LIVE_POLICY,
    ),
}

SPEC = ScenarioSpec(
    scenario_id=SCENARIO_ID,
    description="configuration, DNN model and server per inference request, all agents at once (HISPER)",
    env=DnnInferenceEnv,
    kpis=tuple(DnnKPI),
    primary_kpis=(DnnKPI.REWARD, DnnKPI.FAILURE_RATE, DnnKPI.COST_PER_SLOT, DnnKPI.DELAY_PER_REQUEST_S),
    agent_kpis=tuple(AgentKPI),
    baselines=BASELINES,
    algorithms=ALGORITHMS,
    load_policy=Lazy("edgeplace.algos.hisper.policy:HISPERPolicy.from_checkpoint"),
    placer=Lazy("edgeplace.serve.dnn_inference_placer:DnnInferencePlacer"),
    reproduce=ReproduceSpec(
        "hisper",
        Lazy("edgeplace.reproduce.hisper:run_hisper_reproduction"),
        "HISPER against HASAC/HAPPO and the heuristics at 8 and 10 agents (Figs. 3-6)",
    ),
    sweep_files=tuple(
        f"edgeplace:tune_configs/dnn_inference_{name}.yaml"
        for name in ("hisper", "hisper_smoke", "happo", "happo_smoke")
    ),
    agents_config=DnnInferenceConfig.for_agents,
)
