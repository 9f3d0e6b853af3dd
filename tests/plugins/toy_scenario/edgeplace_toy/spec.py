"""The toy scenario's spec: what it gives the platform, found through its ``edgeplace.scenarios`` entry
point (see this package's pyproject.toml)."""

from __future__ import annotations

from functools import partial

from edgeplace.algos.learner_metrics import HAPPO_LEARNER_METRICS, HISPER_LEARNER_METRICS, PPO_LEARNER_METRICS
from edgeplace.scenarios import AlgorithmSpec, Lazy, ScenarioSpec
from edgeplace_toy.baselines import BASELINES
from edgeplace_toy.env import ToyEnv, ToyKPI

_HISPER = Lazy("edgeplace.algos.hisper.build:build_hisper_config")
_JOINT_POLICY = Lazy("edgeplace.algos.hisper.policy:HISPERPolicy.from_algorithm")

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
            live_policy=Lazy("edgeplace.algos.module_policy:ModulePolicy.from_algorithm"),
        ),
        "hisper": AlgorithmSpec(
            partial(_HISPER, preset="hisper"),
            "HISPER: HASAC with autoregressive heads, on the generic joint view",
            learner_metrics=HISPER_LEARNER_METRICS,
            live_policy=_JOINT_POLICY,
        ),
        "hasac": AlgorithmSpec(
            partial(_HISPER, preset="hasac"),
            "HASAC: soft actor-critic, factorised heads, on the generic joint view",
            learner_metrics=HISPER_LEARNER_METRICS,
            live_policy=_JOINT_POLICY,
        ),
        "happo": AlgorithmSpec(
            Lazy("edgeplace.algos.hisper.build:build_happo_config"),
            "HAPPO: heterogeneous-agent PPO (sequential updates), on the generic joint view",
            learner_metrics=HAPPO_LEARNER_METRICS,
            live_policy=_JOINT_POLICY,
        ),
    },
    load_policy=Lazy("edgeplace_toy.policies:load_policy"),
    placer=Lazy("edgeplace_toy.placer:ToyPlacer"),
    sweep_files=("edgeplace_toy:sweeps/toy_mappo_smoke.yaml",),
)
