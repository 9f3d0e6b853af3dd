"""Shared fixtures: the dataset location (tests that need it skip without it) and one Ray session."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
GENAI_EDGE = SHARED_DATA / "genai-edge"


def genai_edge_dir(server: int) -> Path:
    """The dataset directory of topology S<server>, or skip the test when the dataset is absent."""
    path = GENAI_EDGE / f"Server{server}"
    if not path.is_dir():
        pytest.skip(f"GenAI edge dataset not found at {path} (it lives in ../shared/data beside the repo)")
    return path


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole test run (2 CPUs, no dashboard)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()
