"""The lm-inference scenario's spec: epoch routing plans, slot routing and per-node LM deployment on
six edge workers, as a multi-rate hierarchy (papers/multi-agentic-lm-inference.md)."""

from __future__ import annotations

from edgeplace.algos.baselines.lm_inference.policies import BASELINES
from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.algos.learner_metrics import PPO_LEARNER_METRICS
from edgeplace.algos.lm_inference.llm import BASELINES as LLM_BASELINES
from edgeplace.algos.lm_inference.settings import FINAL_STAGE_DIR, STAGE_OPTIONS
from edgeplace.envs.lm_inference import EPISODE_KPIS, SCENARIO_ID, AgentKpi, LmKpi
from edgeplace.scenarios.lazy import Lazy
from edgeplace.scenarios.spec import AlgorithmSpec, Preparation, ReproduceSpec, ScenarioSpec

SPEC = ScenarioSpec(
    scenario_id=SCENARIO_ID,
    description="epoch plans, slot routing and per-node LM deployment on six edge workers (multi-rate MARL)",
    env=make_env,
    kpis=EPISODE_KPIS,
    primary_kpis=(LmKpi.OBJECTIVE, LmKpi.JAIN_NORM, LmKpi.MEAN_LATENCY_S, LmKpi.TYPE_MEAN_LATENCY_S),
    agent_kpis=tuple(AgentKpi),
    baselines={**BASELINES, **LLM_BASELINES},
    algorithms={
        "learned": AlgorithmSpec(
            Lazy("edgeplace.algos.lm_inference.learned:build_learned_config"),
            "the learned backend: PPO with planner, scheduler and per-hardware deployer modules",
            train_defaults={"minibatch_size": 256},
            trainer=Lazy("edgeplace.algos.lm_inference.stages:train_staged"),
            rllib_subdir=FINAL_STAGE_DIR,
            preparation=Preparation(
                Lazy("edgeplace.algos.lm_inference.stages:prepare_stages"),
                ("env_config", "model", "timesteps", *(f"algo_options.{key}" for key in STAGE_OPTIONS)),
            ),
            learner_metrics=PPO_LEARNER_METRICS,
            live_policy=Lazy("edgeplace.algos.lm_inference.policy:LearnedPolicy.from_algorithm"),
        )
    },
    load_policy=Lazy("edgeplace.algos.lm_inference.loading:load_policy"),
    placer=Lazy("edgeplace.serve.lm_inference_placer:LmInferencePlacer"),
    reproduce=ReproduceSpec(
        "lm-inference",
        Lazy("edgeplace.reproduce.lm_inference:run_lm_inference_reproduction"),
        "the multi-agentic LM inference paper's comparison: rule, learned and DRL hierarchies (Figs. 5-7)",
    ),
    sweep_files=tuple(
        f"edgeplace:tune_configs/lm_inference_{name}.yaml" for name in ("learned", "learned_smoke")
    ),
)
