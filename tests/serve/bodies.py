"""Request bodies and constants shared by the placement API tests."""

from __future__ import annotations

from edgeplace.envs.genai_chain import SCENARIO_ID
from edgeplace.serve.routes import Route

TOPOLOGY = "synthetic:genai-small"
NUM_NODES = 25
MAIN_POLICY, NO_VIDEO_POLICY = "mappo", "no-video"
VIDEO = 3
"""The model type (image-to-video) that the no-video policy's topology lacks."""
MAX_BATCH_REQUESTS = 16
MAX_BODY_BYTES = 64 * 1024
PLACE, PLACE_BATCH = Route.PLACE.of(SCENARIO_ID), Route.PLACE_BATCH.of(SCENARIO_ID)


def idle_state(num_nodes: int = NUM_NODES) -> dict:
    """A network state with no load and no slowdown."""
    return {"load": [0.0] * num_nodes, "telemetry": [0.0] * num_nodes}


def sample_request(**changes) -> dict:
    """A feasible genai-chain request on TOPOLOGY (every model type), with ``changes`` applied."""
    return {"route": [1, 2, 1, 3, 1], "omega": 0.5, "size_scale": 0.5, "access_node": 3} | changes


def place_body(state: dict | None = None, request: dict | None = None, **extra) -> dict:
    """A /place body: ``state`` (default idle), ``request`` (default sample), extra top-level fields."""
    return {"state": state or idle_state(), "request": request or sample_request(), **extra}
