"""Shared fixtures: the dataset locations and one Ray session."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeplace.topology import shipped_genai_edge_root

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Data sets beside the repository (``../shared/data``), absent from a fresh clone: the Topology Zoo
#: examples, and the source copy of the GenAI edge dataset the package ships.
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
#: The GenAI edge dataset shipped with the package (``Server1`` .. ``Server4``).
GENAI_EDGE = shipped_genai_edge_root()


def genai_edge_dir(server: int) -> Path:
    """The shipped dataset directory of topology S<server> (``genai-edge:S<server>``)."""
    return GENAI_EDGE / f"Server{server}"


#: TrainConfig overrides for a MAPPO run that trains in seconds (one 200-decision iteration, tiny model).
TINY_TRAINING = dict(
    timesteps=200,
    train_batch_size=200,
    minibatch_size=100,
    num_epochs=1,
    num_envs_per_env_runner=4,
    checkpoint_every=1,
    model={"d_model": 16, "num_heads": 2, "item_hidden": [16], "value_hidden": [16]},
)

#: Each node of the test cluster: one CPU (two nodes = the machine's two cores) and a small object store.
TEST_NODE_CPUS = 1
TEST_NODE_OBJECT_STORE_BYTES = 256 * 1024**2


@pytest.fixture(scope="session")
def ray_session():
    """One Ray for the whole test run: a two-node cluster on this machine (head + one worker node,
    1 CPU each), so trials and actors really spread over nodes. No dashboard, quiet logs.
    Yields the ``ray.cluster_utils.Cluster``."""
    import ray
    from ray.cluster_utils import Cluster

    node_args = {"num_cpus": TEST_NODE_CPUS, "object_store_memory": TEST_NODE_OBJECT_STORE_BYTES}
    cluster = Cluster(initialize_head=True, head_node_args={**node_args, "include_dashboard": False})
    try:
        cluster.add_node(**node_args)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
