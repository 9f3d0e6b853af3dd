"""The agent-vne scenario's spec: online embedding of agentic LLM workflows (AgentVNE paper)."""

from __future__ import annotations

from edgeplace.algos.agentvne.settings import AGENTVNE_TRAIN_DEFAULTS, FINETUNE_DIR, PRETRAIN_OPTIONS
from edgeplace.algos.baselines.agent_vne import BASELINES
from edgeplace.algos.learner_metrics import PPO_LEARNER_METRICS
from edgeplace.envs.agent_vne import SCENARIO_ID, VNEKPI, AgentVNEEnv
from edgeplace.scenarios.lazy import Lazy
from edgeplace.scenarios.spec import AlgorithmSpec, Preparation, ReproduceSpec, ScenarioSpec

#: The learned comparison policies, from checkpoints named by environment variables.
LEARNED_BASELINES = {
    "gal-vne": Lazy("edgeplace.algos.agentvne.gal_vne:gal_vne_factory"),
    "agentvne": Lazy("edgeplace.algos.agentvne.policy:agentvne_factory"),
}

AGENTVNE = AlgorithmSpec(
    Lazy("edgeplace.algos.agentvne.build:build_agentvne_config"),
    "AgentVNE: NodeRank pre-training (RUN/pretrain), then PPO fine-tuning (RUN/finetune)",
    train_defaults=AGENTVNE_TRAIN_DEFAULTS,
    trainer=Lazy("edgeplace.algos.agentvne.stages:train_agentvne"),
    rllib_subdir=FINETUNE_DIR,
    preparation=Preparation(
        Lazy("edgeplace.algos.agentvne.stages:pretrain_stage"),
        ("env_config", "model", *(f"algo_options.{name}" for name in PRETRAIN_OPTIONS)),
    ),
    learner_metrics=PPO_LEARNER_METRICS,
    live_policy=Lazy("edgeplace.algos.agentvne.policy:AgentVNEPolicy.from_algorithm"),
)

SPEC = ScenarioSpec(
    scenario_id=SCENARIO_ID,
    description="online embedding of agentic LLM workflows with affinity anchors (AgentVNE paper)",
    env=AgentVNEEnv,
    kpis=tuple(VNEKPI),
    primary_kpis=(VNEKPI.WEIGHTED_HOPS, VNEKPI.ACCEPTANCE_RATIO, VNEKPI.SOLVE_TIME_S),
    wall_clock_kpis=(VNEKPI.SOLVE_TIME_S,),
    baselines=BASELINES,
    trained_baselines=LEARNED_BASELINES,
    algorithms={"agentvne": AGENTVNE},
    load_policy=Lazy("edgeplace.algos.agentvne.policy:AgentVNEPolicy.from_checkpoint"),
    placer=Lazy("edgeplace.serve.agent_vne_placer:VNEPlacer"),
    reproduce=ReproduceSpec(
        "agentvne",
        Lazy("edgeplace.reproduce.agentvne:run_agentvne_reproduction"),
        "AgentVNE on Waxman substrates (Tables IV-V, Figs. 5-6, solving time)",
    ),
    sweep_files=(
        "edgeplace:tune_configs/agent_vne_agentvne.yaml",
        "edgeplace:tune_configs/agent_vne_agentvne_smoke.yaml",
    ),
)
