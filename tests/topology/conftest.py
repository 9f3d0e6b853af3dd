"""Shared fixtures: paths to the data sets (the ones beside the repository skip when absent) and a
small-substrate factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edgeplace.topology import Substrate
from tests.conftest import GENAI_EDGE, SHARED_DATA


def _shared(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"shared data set {path} is absent (expected next to the repository)")
    return path


@pytest.fixture(scope="session")
def genai_edge_root() -> Path:
    """The GenAI edge dataset shipped with the package (Server1..Server4)."""
    return GENAI_EDGE


@pytest.fixture(scope="session")
def shared_genai_edge() -> Path:
    """``../shared/data/genai-edge``: the source copy of the shipped dataset."""
    return _shared("genai-edge")


@pytest.fixture(scope="session")
def topologies_dir() -> Path:
    """``../shared/data/topologies`` (Geant, Brain, Waxman100 GML files)."""
    return _shared("topologies")


@pytest.fixture
def make_substrate() -> Callable[..., Substrate]:
    """Build a substrate from a link list; capacity, bandwidth and delay default to simple values."""

    def make(edges: list[tuple[int, int]], num_nodes: int | None = None, **overrides: object) -> Substrate:
        edge_index = np.array(edges, dtype=np.int64).reshape(-1, 2).T
        n = num_nodes if num_nodes is not None else int(edge_index.max()) + 1
        fields: dict[str, object] = {
            "name": "test",
            "resource_names": ("compute", "memory"),
            "capacity": np.tile([[4.0, 8.0]], (n, 1)),
            "edge_index": edge_index,
            "bandwidth_mb_s": np.full(edge_index.shape[1], 10.0),
            "delay_s": np.full(edge_index.shape[1], 1e-3),
        }
        fields.update(overrides)
        return Substrate(**fields)

    return make
