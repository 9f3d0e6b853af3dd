"""The decisions of placed lm-inference prompt batches and their ``LmPlacement`` JSON documents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeplace.envs.lm_inference.lm_types import LM_LABELS, NUM_LMS, Mode
from edgeplace.envs.lm_inference.masks import KEEP
from edgeplace.serve.lm_inference_schemas import ModeName
from edgeplace.serve.responses import PlacedBatch, rounded, top_k_actions

if TYPE_CHECKING:
    from edgeplace.serve.lm_inference_placer import LmInferencePlacer, LmJob


@dataclass(frozen=True)
class Decisions:
    """B greedy decisions of one action space: ``actions`` as :func:`argmax_actions` gives them, and
    each (sub-)action's softmax ``probability`` over its ``allowed`` choices.

    Shapes: actions (B,) or (B, K); probability, allowed (B, n) or (B, K, n_k).
    """

    actions: np.ndarray
    probability: np.ndarray
    allowed: np.ndarray

    def top_k(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``k`` most probable allowed choices of each (sub-)action, best first: indices,
        probabilities and validity, each shaped like ``probability`` with its last axis cut to k."""
        shape = self.probability.shape
        flat = self.probability.reshape(-1, shape[-1])
        with np.errstate(divide="ignore"):  # log 0 = -inf: a masked choice
            logits = np.log(flat)
        top = top_k_actions(logits, self.allowed.reshape(flat.shape), k)
        return tuple(part.reshape(*shape[:-1], -1) for part in top)


class LmPlacements(PlacedBatch):
    """The decisions of B placed prompt batches: the scheduler's (B, N I) destinations and the
    deployers' (B N,) actions (row b N + n: node n of batch b)."""

    def __init__(
        self, placer: LmInferencePlacer, jobs: Sequence[LmJob], routes: Decisions, deployments: Decisions
    ) -> None:
        self.policy, self.placer, self.jobs = placer.policy.name, placer, jobs
        self.routes, self.deployments = routes, deployments
        self.route_top, self.deploy_top = routes.top_k(placer.top_k), deployments.top_k(placer.top_k)

    def documents(self) -> list[dict[str, Any]]:
        return [self.document(b, job) for b, job in enumerate(self.jobs)]

    def document(self, b: int, job: LmJob) -> dict[str, Any]:
        """The ``LmPlacement`` document of job ``b``."""
        placer = self.placer
        names, n = placer.cluster.names, placer.num_nodes
        routes = []
        for origin, lm in zip(*np.nonzero(job.view.demand), strict=True):
            pair = origin * NUM_LMS + lm
            dest = int(self.routes.actions[b, pair])
            routes.append(
                {
                    "origin": int(origin),
                    "origin_name": names[origin],
                    "lm": LM_LABELS[lm],
                    "prompts": int(job.view.demand[origin, lm]),
                    "destination": dest,
                    "destination_name": names[dest],
                    "in_role": bool(job.plan.roles[dest, lm]),
                    "probability": rounded(self.routes.probability[b, pair, dest]),
                    "candidates": candidates(*(part[b, pair] for part in self.route_top)),
                }
            )
        deployments = []
        for node, name in enumerate(names):
            row = b * n + node
            action = int(self.deployments.actions[row])
            config = placer.table.config(node, action) or job.view.node_config(node)
            deployments.append(
                {
                    "node": node,
                    "name": name,
                    "action": action,
                    "keep": action == KEEP,
                    "config": {
                        "mode": [ModeName[Mode(m).name] for m in config.mode],
                        "cores": [int(c) for c in config.cores],
                        "vgpus": [int(g) for g in config.vgpus],
                    },
                    "probability": rounded(self.deployments.probability[row, action]),
                    "candidates": candidates(*(part[row] for part in self.deploy_top)),
                }
            )
        return {"policy": self.policy, "routes": routes, "deployments": deployments}


def candidates(indices: np.ndarray, probability: np.ndarray, valid: np.ndarray) -> list[dict[str, Any]]:
    """The listed candidates of one decision. Shapes: (k,) each."""
    return [
        {"index": int(index), "probability": p}
        for index, p, ok in zip(indices, rounded(probability), valid, strict=True)
        if ok
    ]
