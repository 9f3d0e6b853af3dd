"""The genai-chain scenario's spec: 5-stage GenAI request chains (VAMAPPO paper)."""

from __future__ import annotations

from functools import partial

from edgeplace.algos.baselines.genai_chain import BASELINES
from edgeplace.algos.learner_metrics import PPO_LEARNER_METRICS, VAMAPPO_LEARNER_METRICS
from edgeplace.algos.vamappo.settings import PRESETS as VAMAPPO_PRESETS
from edgeplace.envs.genai_chain import SCENARIO_ID, ChainKPI, GenAIChainEnv
from edgeplace.scenarios.lazy import Lazy
from edgeplace.scenarios.spec import AlgorithmSpec, ReproduceSpec, ScenarioSpec

_PLACEMENT_MODULE = Lazy("edgeplace.models.placement_ppo_module:placement_module_spec")
_MODULE_POLICY = Lazy("edgeplace.algos.module_policy:ModulePolicy.from_algorithm")
_VAMAPPO = Lazy("edgeplace.algos.vamappo.build:build_vamappo_config")
_COORDINATION = Lazy("edgeplace.algos.vamappo.coordination:genai_chain_coordination")

ALGORITHMS = {
    "mappo": AlgorithmSpec(
        Lazy("edgeplace.algos.mappo:build_ppo_config"),
        "MAPPO: RLlib's PPO with shared (or per-stage) placement modules",
        takes_options=False,
        learner_metrics=PPO_LEARNER_METRICS,
        module_spec=_PLACEMENT_MODULE,
        live_policy=_MODULE_POLICY,
    ),
    "metappo": AlgorithmSpec(
        Lazy("edgeplace.algos.metappo:build_metappo_config"),
        "METAPPO: MAPPO trained with load-aware reward and task migration",
        takes_options=False,
        learner_metrics=PPO_LEARNER_METRICS,
        module_spec=_PLACEMENT_MODULE,
        live_policy=_MODULE_POLICY,
    ),
    **{
        name: AlgorithmSpec(
            partial(_VAMAPPO, preset=name, coordination=_COORDINATION),
            preset.description,
            learner_metrics=VAMAPPO_LEARNER_METRICS,
            module_spec=_PLACEMENT_MODULE,
            live_policy=_MODULE_POLICY,
        )
        for name, preset in VAMAPPO_PRESETS.items()
    },
}

SPEC = ScenarioSpec(
    scenario_id=SCENARIO_ID,
    description="5-stage GenAI request chains placed on model instances (VAMAPPO paper)",
    env=GenAIChainEnv,
    kpis=tuple(ChainKPI),
    primary_kpis=(ChainKPI.SLA_SATISFACTION, ChainKPI.UTILITY, ChainKPI.LATENCY_S),
    baselines=BASELINES,
    algorithms=ALGORITHMS,
    load_policy=Lazy("edgeplace.algos.module_policy:ModulePolicy.from_checkpoint"),
    placer=Lazy("edgeplace.serve.genai_chain_placer:ChainPlacer"),
    reproduce=ReproduceSpec(
        "vamappo",
        Lazy("edgeplace.reproduce.vamappo:run_vamappo_reproduction"),
        "VAMAPPO on the GenAI edge dataset S1-S4 (Tables IV-V, Figs. 9-10)",
        reads_data=True,
    ),
    sweep_files=tuple(
        f"edgeplace:tune_configs/genai_chain_{name}.yaml"
        for name in ("mappo", "mappo_smoke", "vamappo", "vamappo_smoke")
    ),
    has_splits=True,
)
