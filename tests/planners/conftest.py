"""Shared inputs of the planner tests: a 6-node substrate summary and the four workflow types."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.workloads.agentic_workflows import (
    WORKFLOW_TEMPLATES,
    SubstrateSummary,
    WorkflowAgent,
    WorkflowRequest,
    WorkflowType,
    build_request,
)

#: TEE on nodes 2 and 4, Camera on node 5.
TEE_NODES = (2, 4)
CAMERA_NODE = 5
#: Mean residual fraction per node: node 4 (0.8) beats node 2 (0.5) among the TEE holders.
MEAN_RESIDUAL = (0.9, 0.9, 0.5, 0.9, 0.8, 0.3)


def make_summary(
    mean_residual=MEAN_RESIDUAL, attributes: dict[str, np.ndarray] | None = None
) -> SubstrateSummary:
    """A summary whose residual fractions are equal across resources (so the mean is the value)."""
    residual = np.repeat(np.asarray(mean_residual, dtype=np.float64)[:, None], 3, axis=1)
    num_nodes = residual.shape[0]
    if attributes is None:
        tee, camera = np.zeros(num_nodes, bool), np.zeros(num_nodes, bool)
        tee[list(TEE_NODES)], camera[CAMERA_NODE] = True, True
        attributes = {"tee": tee, "camera": camera}
    return SubstrateSummary(attributes, residual, np.full(num_nodes, 2, dtype=np.int64))


def workflow(
    kind: WorkflowType, data_source_node: int | None = None, request_id: str = "r-1"
) -> WorkflowRequest:
    """The un-jittered request of a workflow type."""
    return build_request(WORKFLOW_TEMPLATES[kind], request_id, data_source_node=data_source_node)


def custom_request(
    *agents: tuple[str, str, tuple[str, ...]], data_source_node: int | None = None
) -> WorkflowRequest:
    """A chain of agents given as (name, role, tools), each with demand (0.1, 0.1, 0.1)."""
    built = tuple(
        WorkflowAgent(i, name, role, tools, (0.1, 0.1, 0.1)) for i, (name, role, tools) in enumerate(agents)
    )
    count = len(built)
    return WorkflowRequest(
        request_id="custom",
        workflow_type="custom",
        description="hand-made",
        agents=built,
        links=np.stack([np.arange(count - 1), np.arange(1, count)], axis=1),
        link_bandwidth_mbps=np.full(count - 1, 2.0),
        link_data_mb=np.full(count - 1, 0.02),
        data_source_node=data_source_node,
    )


@pytest.fixture
def summary() -> SubstrateSummary:
    return make_summary()
