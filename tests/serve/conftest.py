"""One trained tiny checkpoint and one running placement application for the whole package.

The application serves two policies from the same checkpoint: ``mappo`` on its training topology
(``synthetic:genai-small``) and ``no-video`` zero-shot on a 25-node GenAI-edge directory written
here from the same substrate, whose deployment has no image-to-video (type 3) instance, so routes
that need one cannot be placed.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import train
from edgeplace.serve.routes import Route
from edgeplace.serve.server import APP_NAME
from edgeplace.topology import load_topology
from edgeplace.topology.names import NodeFeature
from edgeplace.workloads.genai_chain import synthesize_instances
from tests.conftest import TINY_TRAINING as TINY
from tests.serve.bodies import (
    MAIN_POLICY,
    MAX_BATCH_REQUESTS,
    MAX_BODY_BYTES,
    NO_VIDEO_POLICY,
    TOPOLOGY,
    VIDEO,
)

START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class ServedApp:
    """The running application: its base URL, a client on it, and the checkpoint it serves."""

    url: str
    client: httpx.Client
    checkpoint: Path


@pytest.fixture(scope="package")
def tiny_checkpoint(ray_session, tmp_path_factory) -> Path:
    config = TrainConfig(env_config={"topology": TOPOLOGY}, **TINY)
    return train(config, tmp_path_factory.mktemp("serve_run")).checkpoint


def write_no_video_dataset(directory: Path) -> str:
    """A GenAI-edge directory of TOPOLOGY's substrate whose instances are of types 1 and 2 only.

    Returns its topology URI.
    """
    substrate = load_topology(TOPOLOGY)
    ids = substrate.node_ids
    lon, lat = substrate.coords.T
    rows = ["ServerID,Longitude,Latitude,LinkBandwidth,ComputationCapacity,StorageCapacity,TrafficRate"]
    for i in range(substrate.num_nodes):
        features = substrate.node_features
        rows.append(
            f"{ids[i]},{lon[i]},{lat[i]},50,{substrate.capacity[i, 0]:g},"
            f"{features[NodeFeature.STORAGE][i]:g},{features[NodeFeature.TRAFFIC_RATE][i]:g}"
        )
    (directory / "s_information.csv").write_text("\n".join(rows) + "\n")
    adjacency = np.zeros((substrate.num_nodes, substrate.num_nodes), dtype=int)
    adjacency[tuple(substrate.edge_index)] = adjacency[tuple(substrate.edge_index[::-1])] = 1
    matrix = ["," + ",".join(map(str, ids))]
    matrix += [f"{ids[i]}," + ",".join(map(str, row)) for i, row in enumerate(adjacency)]
    (directory / "s_topology.csv").write_text("\n".join(matrix) + "\n")
    types, quality, nodes = synthesize_instances(substrate, np.random.default_rng(0))
    keep = np.flatnonzero(types != VIDEO)
    deployment = ["ModelID,ModelType,ArenaScore,ServerID"]
    deployment += [f"{k + 1},{types[i]},{quality[i]},{ids[nodes[i]]}" for k, i in enumerate(keep)]
    (directory / "s_RandomDeployment.csv").write_text("\n".join(deployment) + "\n")
    tasks = 'UserId,La,Lo,route,w1,w2,size\n1,{lat},{lon},"[1, 2, 1, 1, 1]",0.5,0.5,256\n'
    for split in ("train", "test"):
        (directory / f"{split}.csv").write_text(tasks.format(lat=lat[0], lon=lon[0]))
    return f"genai-edge:{directory}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(client: httpx.Client, timeout_s: float) -> None:
    """Poll /healthz until it answers 200 or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if client.get(Route.HEALTH).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"placement API not healthy after {timeout_s:.0f} s")
        time.sleep(0.2)


@pytest.fixture(scope="package")
def served(ray_session, tiny_checkpoint, tmp_path_factory) -> Iterator[ServedApp]:
    from ray import serve

    from edgeplace.serve.app import build_app

    no_video = write_no_video_dataset(tmp_path_factory.mktemp("no_video"))
    args = {
        "checkpoints": [
            f"{MAIN_POLICY}={tiny_checkpoint}",
            {"path": str(tiny_checkpoint), "name": NO_VIDEO_POLICY, "topology": no_video},
        ],
        "max_batch_requests": MAX_BATCH_REQUESTS,
        "max_body_bytes": MAX_BODY_BYTES,
        "replica_cpus": 0.1,
    }
    port = free_port()
    serve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": port})
    try:
        serve.run(build_app(args), name=APP_NAME, route_prefix="/", blocking=False)
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=30.0) as client:
            wait_healthy(client, START_TIMEOUT_S)
            yield ServedApp(url=url, client=client, checkpoint=tiny_checkpoint)
    finally:
        serve.shutdown()
