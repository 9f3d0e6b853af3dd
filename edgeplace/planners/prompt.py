"""The chat prompt the LLM backend sends: the request, the attribute registry, the candidate nodes and
the answer schema, as OpenAI-style ``messages``.

Candidate nodes are the nodes holding at least one registry attribute (the only possible targets);
residual fractions are rounded to :data:`RESIDUAL_DECIMALS` decimals to keep the prompt short.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeplace.planners.constraints import CONSTRAINT_SCHEMA, SCHEMA_VERSION

if TYPE_CHECKING:
    from edgeplace.workloads.agentic_workflows import SubstrateSummary, WorkflowRequest

RESIDUAL_DECIMALS = 3
#: Names of the columns of ``SubstrateSummary.residual_fraction`` in the prompt.
RESOURCE_KEYS = ("cpu", "mem", "sto")

SYSTEM_PROMPT = (
    "You map agentic workflow requests to hardware affinity constraints on an edge network. "
    "An agent needs an attribute only when its own name, role or tools require that hardware: "
    "a trusted execution environment (for example for payments, credentials, medical or other "
    "confidential data) or a live camera (for example capturing video or frames; processing stored "
    "images does not need a camera). Use only attribute names from the registry. For each constrained "
    "agent choose target_node among the candidate nodes holding all its attributes: the "
    "data_source_node when it holds them, otherwise the holder with the most residual resources. "
    "bias is a number in [0, 1] (0.4 by default). Agents without a need are left out; an empty "
    "constraints list is valid. Return only one JSON object matching the schema, without prose or "
    "code fences."
)


def prompt_payload(request: WorkflowRequest, summary: SubstrateSummary) -> dict[str, Any]:
    """The facts the model sees, as a JSON-ready dict (also the content the cache keys on)."""
    registry = sorted(summary.attributes)
    held = {name: np.asarray(summary.attributes[name], dtype=bool) for name in registry}
    residual = np.round(np.asarray(summary.residual_fraction, dtype=np.float64), RESIDUAL_DECIMALS)
    degree = np.asarray(summary.degree)
    candidates = np.flatnonzero(np.any([held[name] for name in registry], axis=0)) if registry else []
    return {
        "attribute_registry": registry,
        "num_nodes": int(degree.shape[0]),
        "request": {
            "request_id": request.request_id,
            "workflow_type": request.workflow_type,
            "description": request.description,
            "agents": [
                {"id": int(a.id), "name": a.name, "role": a.role, "tools": list(a.tools)}
                for a in request.agents
            ],
            "links": np.asarray(request.links, dtype=np.int64).reshape(-1, 2).tolist(),
            "data_source_node": None if request.data_source_node is None else int(request.data_source_node),
        },
        "candidate_nodes": [
            {
                "id": int(n),
                "attributes": [name for name in registry if held[name][n]],
                "residual_fraction": dict(zip(RESOURCE_KEYS, residual[n].tolist(), strict=True)),
                "degree": int(degree[n]),
            }
            for n in candidates
        ],
    }


def build_messages(request: WorkflowRequest, summary: SubstrateSummary) -> list[dict[str, str]]:
    """OpenAI chat ``messages``: the instructions, then the payload and the schema as JSON."""
    user = (
        f"Input:\n{json.dumps(prompt_payload(request, summary), separators=(',', ':'))}\n\n"
        f'Answer schema (schema_version "{SCHEMA_VERSION}"):\n'
        f"{json.dumps(CONSTRAINT_SCHEMA, separators=(',', ':'))}\n\n"
        "Return only JSON matching the schema."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
