"""The metaverse-dag scenario's spec: microservice placement and DAG routing per edge-controller region
on a 6G metaverse edge network (papers/llm-mappo.md): heuristic baselines, MAPPO (planner ``none``) and
LLM-MAPPO (spec e) with its soft planners, the Serve placer and the sweeps. No reproduction yet."""

from __future__ import annotations

from edgeplace.algos.baselines.metaverse_dag import BASELINES
from edgeplace.algos.llm_mappo.settings import LLM_MAPPO_LEARNER_METRICS, MEMORY_OPTIONS, RLLIB_DIR
from edgeplace.envs.metaverse_dag import EPISODE_KPIS, SCENARIO_ID, MetaverseDagEnv, MvKpi
from edgeplace.scenarios.lazy import Lazy
from edgeplace.scenarios.spec import AlgorithmSpec, Preparation, ScenarioSpec

_MODULE = Lazy("edgeplace.models.llm_mappo_module:llm_mappo_module_spec")
_MODULE_POLICY = Lazy("edgeplace.algos.module_policy:ModulePolicy.from_algorithm")
#: The paper's rollout: 2048 agent steps per update, minibatches of 256 (spec e's table).
_PAPER_BATCHES = {"train_batch_size": 2048, "minibatch_size": 256}

ALGORITHMS = {
    "mappo": AlgorithmSpec(
        Lazy("edgeplace.algos.llm_mappo.build:build_mappo_config"),
        "MAPPO: the LLM-MAPPO agent (GRU, centralised critic) with planner none (no prior, no KL)",
        train_defaults=_PAPER_BATCHES,
        learner_metrics=LLM_MAPPO_LEARNER_METRICS,
        module_spec=_MODULE,
        live_policy=_MODULE_POLICY,
    ),
    "llm-mappo": AlgorithmSpec(
        Lazy("edgeplace.algos.llm_mappo.build:build_llm_mappo_config"),
        "LLM-MAPPO: planner-guided MAPPO (fused plan, trust-weighted log-prior logits, decaying KL)",
        train_defaults=_PAPER_BATCHES,
        trainer=Lazy("edgeplace.algos.llm_mappo.preparation:train_llm_mappo"),
        rllib_subdir=RLLIB_DIR,
        preparation=Preparation(
            Lazy("edgeplace.algos.llm_mappo.preparation:prepare_planner"),
            ("env_config", "seed", *(f"algo_options.{name}" for name in MEMORY_OPTIONS)),
        ),
        learner_metrics=LLM_MAPPO_LEARNER_METRICS,
        module_spec=_MODULE,
        live_policy=_MODULE_POLICY,
    ),
}

SPEC = ScenarioSpec(
    scenario_id=SCENARIO_ID,
    description="microservice placement and DAG routing per edge-controller region (LLM-MAPPO paper)",
    env=MetaverseDagEnv,
    kpis=tuple(str(kpi) for kpi in EPISODE_KPIS),
    primary_kpis=(MvKpi.UTILITY, MvKpi.MEAN_LATENCY_MS, MvKpi.VIOLATION_RATE, MvKpi.LB_CV),
    baselines=BASELINES,
    algorithms=ALGORITHMS,
    load_policy=Lazy("edgeplace.algos.module_policy:ModulePolicy.from_checkpoint"),
    placer=Lazy("edgeplace.serve.metaverse_dag_placer:MetaverseDagPlacer"),
    sweep_files=tuple(
        f"edgeplace:tune_configs/metaverse_dag_{name}.yaml"
        for name in ("mappo", "mappo_smoke", "llm_mappo", "llm_mappo_smoke")
    ),
    planner_memory=Lazy("edgeplace.algos.llm_mappo.memory_bootstrap:build_memory"),
)
