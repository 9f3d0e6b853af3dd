"""The toy scenario's spec: what it gives the platform, found through its ``edgeplace.scenarios`` entry
point (see this package's pyproject.toml)."""

from __future__ import annotations

from edgeplace.algos.learner_metrics import PPO_LEARNER_METRICS
from edgeplace.scenarios import AlgorithmSpec, Lazy, ScenarioSpec
from edgeplace_toy.baselines import BASELINES
from edgeplace_toy.env import ToyEnv, ToyKPI

SPEC = ScenarioSpec(
    scenario_id="toy",
    description="toy plug-in: two agents place jobs on four nodes, every step at once",
    env=ToyEnv,
    kpis=tuple(ToyKPI),
    primary_kpis=(ToyKPI.OVERLOAD_RATE,),
    baselines=BASELINES,
    algorithms={
        "mappo": AlgorithmSpec(
            Lazy("edgeplace.algos.mappo:build_ppo_config"),
            "MAPPO: RLlib's PPO with one shared masked-MLP module",
            takes_options=False,
            learner_metrics=PPO_LEARNER_METRICS,
            module_spec=Lazy("edgeplace_toy.module:toy_module_spec"),
        )
    },
    load_policy=Lazy("edgeplace.algos.module_policy:ModulePolicy.from_checkpoint"),
    placer=Lazy("edgeplace_toy.placer:ToyPlacer"),
    sweep_files=("edgeplace_toy:sweeps/toy_mappo_smoke.yaml",),
)
