"""The metaverse-dag scenario's spec: microservice placement and DAG routing per edge-controller region
on a 6G metaverse edge network (papers/llm-mappo.md): heuristic baselines, MAPPO (planner ``none``),
LLM-MAPPO (spec e) with its soft planners, section f's learned baselines (``rsppo``, ``gnn-drl``,
``mu-ddrl``: MAPPO's learner with env options and model switches; ``cromadqn``: a branching dueling
double DQN), the Serve placer, the sweeps and
``edgeplace reproduce llm-mappo``."""

from __future__ import annotations

from edgeplace.algos.baselines.metaverse_dag import BASELINES
from edgeplace.algos.cromadqn.settings import CROMADQN_LEARNER_METRICS
from edgeplace.algos.llm_mappo.settings import LLM_MAPPO_LEARNER_METRICS, MEMORY_OPTIONS, RLLIB_DIR
from edgeplace.envs.metaverse_dag import EPISODE_KPIS, SCENARIO_ID, MetaverseDagEnv, MvKpi
from edgeplace.scenarios.lazy import Lazy
from edgeplace.scenarios.spec import AlgorithmSpec, Preparation, ReproduceSpec, ScenarioSpec

_MODULE = Lazy("edgeplace.models.llm_mappo_module:llm_mappo_module_spec")
_MODULE_POLICY = Lazy("edgeplace.algos.module_policy:ModulePolicy.from_algorithm")
#: The paper's rollout: 2048 agent steps per update, minibatches of 256 (spec e's table).
_PAPER_BATCHES = {"train_batch_size": 2048, "minibatch_size": 256}
_BASELINE_TRAINER = Lazy("edgeplace.algos.llm_mappo.build:train_baseline")


def _baseline(builder: str, description: str, **train_defaults: object) -> AlgorithmSpec:
    """A section f baseline: MAPPO's learner and module with the builder's env options and switches."""
    return AlgorithmSpec(
        Lazy(f"edgeplace.algos.llm_mappo.build:{builder}"),
        description,
        train_defaults={**_PAPER_BATCHES, **train_defaults},
        trainer=_BASELINE_TRAINER,
        learner_metrics=LLM_MAPPO_LEARNER_METRICS,
        module_spec=_MODULE,
        live_policy=_MODULE_POLICY,
    )


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
    "rsppo": _baseline(
        "build_rsppo_config",
        "RSPPO-like: shared PPO, MLP agent, global critic, replica autoscaler, potential shaping",
    ),
    "gnn-drl": _baseline(
        "build_gnn_drl_config",
        "GNN-DRL: shared PPO, GraphSAGE over the option graph and the DAG slots, pointer head, no GRU",
    ),
    "mu-ddrl": _baseline(
        "build_mu_ddrl_config",
        "mu-DDRL-like: independent PPO per EC, local critic and neighbours' region vectors, local reward",
        module_sharing="per-agent",
    ),
    "cromadqn": AlgorithmSpec(
        Lazy("edgeplace.algos.cromadqn.build:build_cromadqn_config"),
        "CROMADQN-like: independent double DQN with shared parameters and branching dueling heads "
        "(planner none)",
        learner_metrics=CROMADQN_LEARNER_METRICS,
        module_spec=Lazy("edgeplace.models.branching_q_module:branching_q_module_spec"),
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
    reproduce=ReproduceSpec(
        "llm-mappo",
        Lazy("edgeplace.reproduce.llm_mappo:run_llm_mappo_reproduction"),
        "the LLM-MAPPO paper's experiments: Table 3 (planner), Table 4 and Fig. 9 (methods, ablations)",
    ),
)
