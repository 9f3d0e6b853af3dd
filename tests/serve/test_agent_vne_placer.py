"""The agent-vne placer in process: served embeddings equal the env-side greedy evaluation of the
restored checkpoint (hosts, rejections, Eq.26 hops, Eq.5-6 latency), and not a fresh network's;
batched placement equals one-by-one; sequential batches equal the env embedding a step's arrivals one
after another; the response's contents."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from edgeplace.algos.agentvne.policy import AgentVNEPolicy
from edgeplace.algos.checkpoints import read_metadata
from edgeplace.planners.rule_based import ATTRIBUTE_VOCABULARY, RuleBasedParser
from edgeplace.serve.agent_vne_placer import VNEPlacer
from edgeplace.serve.agent_vne_schemas import AgentVNEPlaceBatchRequest, AgentVNEPlaceRequest
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.responses import DECIMALS
from edgeplace.serve.sources import PolicySource
from tests.serve.agent_vne_bodies import (
    POLICY,
    SCENARIO_ID,
    EnvDecision,
    EnvTrace,
    greedy_trace,
    place_body,
    trace_env_config,
    vne_checkpoint,
)

TOLERANCE = 10.0**-DECIMALS
SEEDS = (0, 1)


@pytest.fixture(scope="module")
def checkpoint(ray_session, tmp_path_factory) -> Path:
    return vne_checkpoint(tmp_path_factory)


@pytest.fixture(scope="module")
def placer(checkpoint) -> VNEPlacer:
    source = PolicySource(POLICY, SCENARIO_ID, checkpoint, read_metadata(checkpoint), topology=None)
    return VNEPlacer.load(source, top_k=3)


@pytest.fixture(scope="module")
def traces(checkpoint) -> list[EnvTrace]:
    env_config = trace_env_config(checkpoint)
    policy = AgentVNEPolicy.from_checkpoint(checkpoint, env_config)  # as `edgeplace evaluate` loads it
    return [greedy_trace(policy, env_config, seed) for seed in SEEDS]


def place(placer: VNEPlacer, decisions: list[EnvDecision]) -> list[dict | ServeInputError]:
    """/place of each decision, placed together; placements as JSON documents."""
    jobs = [placer.job(AgentVNEPlaceRequest.model_validate(place_body(d))) for d in decisions]
    return [out if isinstance(out, ServeInputError) else json.loads(out) for out in placer.place(jobs)]


def hosts_of(placement: dict) -> list[int]:
    return [agent["host"] for agent in placement["agents"]]


def test_served_embeddings_equal_env_side_greedy_evaluation(placer, traces):
    for trace in traces:
        latency_s = []
        for decision in trace.decisions:
            (placed,) = place(placer, [decision])
            if not decision.accepted:
                assert isinstance(placed, ServeInputError) and placed.status == 409, placed
                assert placed.field == "request" and "no feasible embedding" in placed.detail
                continue
            assert hosts_of(placed) == decision.hosts
            assert placed["network_weighted_hops"] == pytest.approx(decision.weighted_hops, abs=TOLERANCE)
            if decision.time > 0:  # the env's KPI window (warm-up 0)
                latency_s.append(placed["latency_s"])
        assert np.mean(latency_s) == pytest.approx(trace.latency_s, abs=TOLERANCE)
    outcomes = {decision.accepted for trace in traces for decision in trace.decisions}
    assert outcomes == {True, False}, "the traces must hold accepted and rejected workflows"


def test_served_network_is_the_trained_one_not_a_fresh_one(placer, traces):
    fresh_network = copy.deepcopy(placer.policy.network)
    torch.manual_seed(0)
    fresh_network.reset_parameters()
    fresh = VNEPlacer(AgentVNEPolicy(fresh_network, placer.static, name="fresh"), placer.config, top_k=3)
    decisions = traces[0].decisions
    served, fresh_placed = place(placer, decisions), place(fresh, decisions)
    assert [hosts_of(p) for p in served if isinstance(p, dict)] != [
        hosts_of(p) for p in fresh_placed if isinstance(p, dict)
    ]


def test_batched_placement_equals_one_by_one_and_leaves_the_jobs_unchanged(placer, traces):
    decisions = traces[0].decisions[::3] + traces[1].decisions[::3]
    jobs = [placer.job(AgentVNEPlaceRequest.model_validate(place_body(d))) for d in decisions]
    before = [job.load.node_free.copy() for job in jobs]
    batched = placer.place(jobs)
    singles = [placer.place([job])[0] for job in jobs]
    for one, alone in zip(batched, singles, strict=True):
        if isinstance(alone, ServeInputError):
            assert isinstance(one, ServeInputError) and one.detail == alone.detail
            continue
        one, alone = json.loads(one), json.loads(alone)
        assert hosts_of(one) == hosts_of(alone) and one["routes"] == alone["routes"]
        for a, b in zip(one["agents"], alone["agents"], strict=True):
            assert [c["node"] for c in a["candidates"]] == [c["node"] for c in b["candidates"]]
            np.testing.assert_allclose(
                [c["probability"] for c in a["candidates"]],
                [c["probability"] for c in b["candidates"]],
                atol=2 * TOLERANCE,
            )
    for job, node_free in zip(jobs, before, strict=True):
        np.testing.assert_array_equal(job.load.node_free, node_free)
    assert [isinstance(one, bytes) for one in batched] == [isinstance(one, bytes) for one in singles]


def test_sequential_batch_equals_the_env_embedding_one_steps_arrivals_in_turn(placer, traces):
    """Arrivals of one unit step meet no departure in between: the env embeds each on what the ones
    before left, as a sequential batch does from the state the first one saw."""
    groups = [
        list(group)
        for trace in traces
        for _, group in itertools.groupby(trace.decisions, key=lambda d: d.time)
    ]
    groups = [group for group in groups if len(group) > 1]
    assert groups, "the traces must hold a step with several arrivals"
    for group in groups:
        body = {"state": group[0].state, "requests": [d.request for d in group]}
        sequential = json.loads(placer.place_batch(AgentVNEPlaceBatchRequest.model_validate(body)))
        assert sequential["mode"] == "sequential"
        for result, decision in zip(sequential["results"], group, strict=True):
            assert result["accepted"] == decision.accepted
            if decision.accepted:
                assert hosts_of(result["placement"]) == decision.hosts
                hops = result["placement"]["network_weighted_hops"]
                assert hops == pytest.approx(decision.weighted_hops, abs=TOLERANCE)
        independent = body | {"mode": "independent"}
        batch = json.loads(placer.place_batch(AgentVNEPlaceBatchRequest.model_validate(independent)))
        alone = place(placer, [EnvDecision(group[0].state, d.request, [], True, 0.0, 0) for d in group])
        for result, single in zip(batch["results"], alone, strict=True):
            assert result["accepted"] == isinstance(single, dict)
            assert result["placement"] is None or hosts_of(result["placement"]) == hosts_of(single)


def test_placement_lists_anchors_routes_and_candidates_consistently(placer, traces):
    decisions = [
        d for t in traces for d in t.decisions if d.accepted and d.request["data_source_node"] is not None
    ]
    assert decisions, "the traces must hold an accepted workflow with an affinity anchor"
    static = placer.static
    for decision, placement in zip(decisions, place(placer, decisions), strict=True):
        hosts = hosts_of(placement) + [anchor["node"] for anchor in placement["anchors"]]
        (anchor,) = placement["anchors"]
        tag = static.attribute_names.index(anchor["attributes"][0])
        assert (
            static.attributes[anchor["node"], tag] and anchor["node"] == decision.request["data_source_node"]
        )
        links = decision.request["links"]
        assert len(placement["routes"]) == len(links) + 1
        assert placement["routes"][-1]["src"] == len(decision.request["agents"])  # the anchor's link
        assert placement["routes"][-1]["dst"] == anchor["agent"]
        for route in placement["routes"]:
            path = route["path"]
            assert path[0] == hosts[route["src"]] and path[-1] == hosts[route["dst"]]
            assert len(path) == len(route["links"]) + 1
            for (a, b), link in zip(itertools.pairwise(path), route["links"], strict=True):
                assert sorted((a, b)) == sorted(static.edge_index[:, link].tolist())
        assert placement["hops"] == sum(len(route["links"]) for route in placement["routes"])
        free = np.asarray(decision.state["node_free"])
        for agent, body in zip(placement["agents"], decision.request["agents"], strict=True):
            probabilities = [c["probability"] for c in agent["candidates"]]
            # each is rounded to DECIMALS, so their sum may exceed 1 by half a unit per candidate
            rounding = len(probabilities) * TOLERANCE / 2
            assert probabilities == sorted(probabilities, reverse=True)
            assert sum(probabilities) <= 1 + rounding + 1e-12
            nodes = [c["node"] for c in agent["candidates"]]
            assert (np.asarray(body["demand"]) <= free[nodes] + 1e-9).all()


def test_workflow_needing_attributes_no_node_holds_gets_409_naming_the_agent(placer, traces, monkeypatch):
    parser = RuleBasedParser(vocabulary={**ATTRIBUTE_VOCABULARY, "gpu": ("gpu",)})
    monkeypatch.setattr(placer.builder, "parser", parser)
    decision = traces[0].decisions[0]
    request = copy.deepcopy(decision.request)
    request["agents"][2]["tools"] = ["gpu"]
    body = AgentVNEPlaceRequest.model_validate(place_body(decision) | {"request": request})
    with pytest.raises(ServeInputError) as error:
        placer.job(body)
    assert error.value.status == 409 and error.value.field == "request.agents[2]"
