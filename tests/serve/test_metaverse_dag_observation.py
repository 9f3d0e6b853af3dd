"""The metaverse-dag observation builder shared by env and Serve: from its explicit inputs it gives the
env's observation mid-episode (with failures and a planner), and the placer's observation of a DAG is
the env's first observation of that DAG as its class's template (the same slot, edge, mask, link,
region and critic-state entries; node load from the state's reservations). No checkpoint: the placer
runs an untrained module here (tests/serve/test_metaverse_dag_placer.py serves a trained one)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import data_equivalence

from edgeplace.algos.baselines.metaverse_dag import GreedyPolicy
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.envs.metaverse_dag import MetaverseDagConfig, MetaverseDagEnv, MvObsKey
from edgeplace.envs.metaverse_dag.encode import LiveState
from edgeplace.envs.metaverse_dag.metrics import LATENCY_REF_S
from edgeplace.envs.metaverse_dag.observation import NodeCol
from edgeplace.envs.metaverse_dag.state_view import PlannerInputs, RegionSignals, slot_reservations
from edgeplace.models.llm_mappo_module import llm_mappo_module_spec
from edgeplace.policy import act
from edgeplace.serve.metaverse_dag_placer import MetaverseDagPlacer, MvJob
from edgeplace.serve.metaverse_dag_schemas import MetaversePlaceRequest
from edgeplace.workloads.metaverse_dag import DagTemplates, ServiceClass
from tests.algos.test_llm_mappo_training import TINY_MODEL

MID_EPISODE = {
    "horizon": 6,
    "planner": "heuristic",
    "plan_period_s": 20.0,
    "fail_fraction": 0.3,
    "fail_step": 1,
}
START_HOUR = 9.5
LOAD_COLUMNS = [NodeCol.FREE_CPU, NodeCol.FREE_RAM, NodeCol.CPU_UTIL]


def untrained_placer(config: MetaverseDagConfig, top_k: int = 3) -> MetaverseDagPlacer:
    """A placer over an untrained LLM-MAPPO module (tiny widths) shared by every agent."""
    env = MetaverseDagEnv(config)
    torch.manual_seed(0)
    spec = llm_mappo_module_spec(TINY_MODEL)
    spec.observation_space, spec.action_space = env.observation_spaces["ec_0"], env.action_spaces["ec_0"]
    policy = ModulePolicy("untrained", {"shared": spec.build()}, dict.fromkeys(env.possible_agents, "shared"))
    return MetaverseDagPlacer(policy, config, top_k)


def template_request(templates: DagTemplates, c: int, region: int, order: np.ndarray | None = None) -> dict:
    """Class ``c``'s template as a request body of region ``region`` (microservices listed in ``order``)."""
    n = int(templates.num_ms[c])
    order = np.arange(n) if order is None else order
    listed_at = np.empty(n, np.int64)
    listed_at[order] = np.arange(n)
    services = []
    for i in order.tolist():
        parents = np.flatnonzero(templates.parents[c, i, :n])
        services.append(
            {
                "cpu": float(templates.cpu[c, i]),
                "ram_gb": float(templates.ram_gb[c, i]),
                "stateful": bool(templates.stateful[c, i]),
                "parents": [int(listed_at[p]) for p in parents],
                "payload_fractions": [float(templates.payload_fraction[c, p, i]) for p in parents],
            }
        )
    return {
        "service_class": ServiceClass(c).name,
        "microservices": services,
        "deadline_s": float(templates.deadline_s[c]),
        "region": region,
    }


def test_the_builder_from_explicit_inputs_gives_the_env_observation_mid_episode():
    env = MetaverseDagEnv(MID_EPISODE)
    policy = GreedyPolicy(MID_EPISODE)
    observations, _ = env.reset(seed=5)
    for _ in range(3):
        observations, *_ = env.step(act(policy, observations))
    assert env.last is not None and not env.node_up.all()  # a failure and a last step to read
    layout, cfg, m, t = env.layout, env.cfg, env.last_metrics, env.t
    live = LiveState(
        slot_node=env.options.nodes(env.choice),
        choice=env.choice,
        pattern=env.pattern,
        node_up=env.node_up,
        es_rate=env.arrivals.rates(t * cfg.step_s),
        slot_rho=layout.per_slot(env.last.rho),
        slot_sojourn_s=layout.per_slot(env.last.sojourn_s),
        link_rho=env.last.link_rho,
    )
    kpis = np.column_stack(
        [
            m.region_latency_s / LATENCY_REF_S,
            m.region_violations,
            m.region_success,
            m.region_lb,
            m.region_r_tot_ratio,
        ]
    )
    global_kpis = np.array(
        [m.latency_s / LATENCY_REF_S, m.violations, m.success, m.lb, m.r_tot_ratio, m.sigma_r]
    )
    signals = RegionSignals(
        kpis, global_kpis, m.r_g, env.arrivals.bursts.on, env.arrivals.hour(t * cfg.step_s), t / cfg.horizon
    )
    features = env.observer.features(env.workload, live)
    planning = env.planning
    planner = PlannerInputs(env.guidance, planning.r_hat, planning.z_plan, planning.prior(features.place))
    assert planning.z_plan.any() and planner.prior.any()  # the heuristic planner's inputs are in use
    rebuilt, _ = env.observer.observe(
        env.workload, live, signals, planner, previous_regions=env.previous_regions
    )
    assert data_equivalence(dict(zip(env.possible_agents, rebuilt, strict=True)), observations, exact=True)


@pytest.fixture(scope="module")
def placer() -> MetaverseDagPlacer:
    return untrained_placer(MetaverseDagConfig(start_hour=START_HOUR))


def served_job(placer: MetaverseDagPlacer, state: dict, request: dict) -> MvJob:
    """The placer's job of a JSON body (as the routes validate it)."""
    body = MetaversePlaceRequest.model_validate_json(json.dumps({"state": state, "request": request}))
    return placer.job(body)


def reset_state(placer: MetaverseDagPlacer, env: MetaverseDagEnv, request: dict) -> dict:
    """The env's reset state as a state body: every node up, its rates and hour, and the reservations of
    its reset placement of every class and region, less the served DAG's own (its reset placement in the
    request's region, which the placer adds)."""
    idle = [0.0] * placer.num_nodes
    state = {"reserved_cpu": idle, "reserved_ram_gb": idle, "node_up": [True] * placer.num_nodes}
    state |= {"es_rate": env.arrivals.rates(0.0).tolist(), "hour": START_HOUR}
    job = served_job(placer, state, request)
    own = slot_reservations(
        placer.net,
        placer.layout,
        job.workload.templates,
        placer.live(job.state, job.region, job.workload).slot_node,
    )
    everything = slot_reservations(env.net, env.layout, env.templates, env.options.nodes(env.choice))
    state["reserved_cpu"], state["reserved_ram_gb"] = (
        np.maximum(total - mine, 0.0).tolist() for total, mine in zip(everything, own, strict=True)
    )
    return state


@pytest.mark.parametrize("service_class", list(ServiceClass), ids=[c.name for c in ServiceClass])
def test_the_served_observation_is_the_env_first_observation_of_the_dag(placer, service_class):
    env = MetaverseDagEnv(placer.config)
    observations, _ = env.reset(seed=1)
    c, region, layout = int(service_class), 1, env.layout
    request = template_request(env.templates, c, region)
    served = served_job(placer, reset_state(placer, env, request), request).observation
    expected = observations[env.possible_agents[region]]
    nodes, expected_nodes = served[MvObsKey.NODE_FEATS], expected[MvObsKey.NODE_FEATS]
    np.testing.assert_allclose(nodes[:, LOAD_COLUMNS], expected_nodes[:, LOAD_COLUMNS], atol=1e-6)
    others = [col for col in range(nodes.shape[1]) if col not in LOAD_COLUMNS]
    assert np.array_equal(nodes[:, others], expected_nodes[:, others])
    slots, entries = np.flatnonzero(layout.slot_class == c), np.flatnonzero(layout.edge_class == c)
    for key, rows in ((MvObsKey.SLOT_FEATS, slots), (MvObsKey.EDGE_FEATS, entries)):
        assert np.array_equal(served[key][rows], expected[key][rows]), key
    assert np.array_equal(served[MvObsKey.EDGE_INDEX][:, entries], expected[MvObsKey.EDGE_INDEX][:, entries])
    for part in [*slots, *(layout.num_slots + entries)]:
        assert np.array_equal(served[MvObsKey.ACTION_MASK][part], expected[MvObsKey.ACTION_MASK][part])
    same = (MvObsKey.LINK_FEATS, MvObsKey.LINK_INDEX, MvObsKey.REGION, MvObsKey.STATE, MvObsKey.PLAN_Z)
    for key in (*same, MvObsKey.PLAN_PRIOR):
        assert data_equivalence(served[key], expected[key], exact=True), key
    padding = np.flatnonzero(layout.slot_class != c)  # the other classes: no feature, NONE alone
    assert not served[MvObsKey.SLOT_FEATS][padding].any()
    none_alone = [0] * (placer.num_actions - 1) + [1]
    assert all(served[MvObsKey.ACTION_MASK][slot].tolist() == none_alone for slot in padding)


def test_a_dag_listed_out_of_topological_order_is_renumbered(placer):
    """A DAG is renumbered in a topological order (the env's numbering); the same DAG listed in that order
    is observed and placed the same, and the response lists microservices and edges in request terms."""
    env = MetaverseDagEnv(placer.config)
    env.reset(seed=2)
    c = int(ServiceClass.HOLO)
    state = reset_state(placer, env, template_request(env.templates, c, 0))
    n = int(env.templates.num_ms[c])
    listed = np.array([0, *range(n - 1, 0, -1)])  # template index of each request index: entry, then reversed
    shuffled = served_job(placer, state, template_request(env.templates, c, 0, listed))
    position = np.empty(n, np.int64)
    position[shuffled.dag.order] = np.arange(n)
    parents = env.templates.parents[c, :n, :n]  # [child, parent] in template indices
    assert all(
        position[np.flatnonzero(listed == p)[0]] < position[i]
        for i in range(n)
        for p in np.flatnonzero(parents[listed[i]])
    )
    canonical = listed[shuffled.dag.order]  # template index of each topological position
    ordered = served_job(placer, state, template_request(env.templates, c, 0, canonical))
    assert np.array_equal(ordered.dag.order, np.arange(n))
    assert data_equivalence(shuffled.observation, ordered.observation, exact=True)
    placed, expected = (json.loads(doc) for doc in placer.place([shuffled, ordered]))
    for index in range(n):
        assert placed["microservices"][index]["index"] == index
        assert (
            placed["microservices"][index]["replicas"]
            == expected["microservices"][position[index]]["replicas"]
        )
    as_positions = sorted(
        (position[e["source"]], position[e["destination"]], e["pattern"]) for e in placed["edges"]
    )
    assert as_positions == sorted((e["source"], e["destination"], e["pattern"]) for e in expected["edges"])
