"""The metaverse-dag scenario's spec: microservice placement and DAG routing per edge-controller region
on a 6G metaverse edge network (papers/llm-mappo.md). Heuristic baselines only so far: no algorithms,
no Serve placer, no reproduction."""

from __future__ import annotations

from edgeplace.algos.baselines.metaverse_dag import BASELINES
from edgeplace.envs.metaverse_dag import EPISODE_KPIS, SCENARIO_ID, MetaverseDagEnv, MvKpi
from edgeplace.scenarios.spec import ScenarioSpec

SPEC = ScenarioSpec(
    scenario_id=SCENARIO_ID,
    description="microservice placement and DAG routing per edge-controller region (LLM-MAPPO paper)",
    env=MetaverseDagEnv,
    kpis=tuple(str(kpi) for kpi in EPISODE_KPIS),
    primary_kpis=(MvKpi.UTILITY, MvKpi.MEAN_LATENCY_MS, MvKpi.VIOLATION_RATE, MvKpi.LB_CV),
    baselines=BASELINES,
)
