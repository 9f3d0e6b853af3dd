"""Placement arrays -> the API's JSON documents: rounding, totals, listed candidates, schema."""

from __future__ import annotations

import json

import numpy as np

from edgeplace.serve.chain_placements import PlacedChains
from edgeplace.serve.schemas import ChainBatchPlacement, ChainPlacement


def two_requests() -> PlacedChains:
    """Request 0 meets its 2.0 s deadline; request 1 (same stages, 0.5 s deadline) does not. Every
    stage lists 2 candidates, except request 1's last stage, which had a single allowed one."""
    latency_s = np.array([[0.1, 0.2, 0.3, 0.1, 0.1234567]] * 2)
    utility = np.array([[0.5, 0.25, 0.125, 1.0, 0.3333333333]] * 2)
    candidates = np.tile(np.array([[7, 3]] * 5), (2, 1, 1))
    listed = np.ones((2, 5, 2), dtype=bool)
    listed[1, 4, 1] = False
    return PlacedChains(
        policy="mappo",
        instance=candidates[:, :, 0].copy(),
        node=np.full((2, 5), 4),
        latency_s=latency_s,
        utility=utility,
        candidates=candidates,
        candidate_node=np.where(candidates == 7, 4, 1),
        probability=np.tile(np.array([[0.6666666666, 0.3333333333]] * 5), (2, 1, 1)),
        listed=listed,
        deadline_s=np.array([2.0, 0.5]),
    )


def test_documents_round_and_total_the_stages():
    first, second = two_requests().documents()
    assert first["policy"] == "mappo" and len(first["stages"]) == 5
    last = first["stages"][4]
    assert last == {
        "instance": 7,
        "node": 4,
        "latency_s": 0.123457,
        "utility": 0.333333,
        "candidates": [
            {"instance": 7, "node": 4, "probability": 0.666667},
            {"instance": 3, "node": 1, "probability": 0.333333},
        ],
    }
    assert first["latency_s"] == 0.823457  # 0.1 + 0.2 + 0.3 + 0.1 + 0.1234567, rounded
    assert first["utility"] == 2.208333  # the listed (rounded) stage utilities add up to it
    assert (first["deadline_s"], first["meets_sla"]) == (2.0, True)
    assert (second["deadline_s"], second["meets_sla"]) == (0.5, False)
    assert [c["instance"] for c in second["stages"][4]["candidates"]] == [7]


def test_json_matches_the_response_schemas():
    placed = two_requests()
    documents = [json.loads(text) for text in placed.json_documents()]
    assert documents == placed.documents()
    for document in documents:
        assert ChainPlacement.model_validate(document).model_dump() == document
    batch = json.loads(placed.batch_json())
    assert ChainBatchPlacement.model_validate(batch).model_dump() == batch
    assert batch == {"policy": "mappo", "placements": documents}
