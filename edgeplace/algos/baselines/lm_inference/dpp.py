"""The drift-plus-penalty (Lyapunov) deployer of RL, AL, LL and MAL (spec e, Eq. 14-19).

Each slot each node picks, among its feasible lock-consistent mode vectors a, the one maximising
``sum_i Q_ni mu_ni(a) - V C_n(a, t)`` (Eq. 15), then completes it (:func:`complete`):

- mu (Eq. 16): ``alpha_cpu f(eta_cpu) f(eta_mem)`` in CPU mode, ``alpha_gpu_i f(eta_gpu)`` in GPU
  mode, 0 off; f(eta) = 0.5 + 0.5 eta;
- C = pi N_GPU(a) + churn (Eq. 17-19): pi = p0 + p1 (1 - eta_gpu) + p2 phi_img with phi_img =
  (Q_n3 + Q_n4) / sum_i Q_ni (0 with an empty backlog); churn = lambda_churn sum_i [mode_i changes]
  (1 + kappa Q_ni), a CPU <-> GPU switch counting as a change.

Candidates keep every locked pod's mode; ties go to the first vector in lexicographic order; a vector
the completion rule cannot complete is skipped. The controller does not anticipate the pending rule:
while a pod of the node is PENDING, the simulator voids the allocating part of its choice (the paper's
rule). Roles are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgeplace.envs.lm_inference.catalogue import mode_vectors
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.completion import complete, lock_consistent
from edgeplace.envs.lm_inference.lm_types import Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.plan import Plan

IMAGE_LMS = (2, 3)
"""LM3 and LM4, whose share of the backlog is phi_img."""


@dataclass(frozen=True)
class DppSettings:
    """Coefficients of the DPP controller (paper values; p0 and V are ours)."""

    alpha_cpu: float = 1.0
    alpha_gpu: tuple[float, ...] = (1.0, 1.2, 1.5, 1.5)
    p0: float = 0.1
    p1: float = 0.25
    p2: float = 0.37
    churn: float = 0.08
    """lambda_churn."""
    kappa: float = 0.76
    penalty_weight: float = 1.0
    """V."""

    def __post_init__(self) -> None:
        for name in ("alpha_cpu", "p0", "p1", "p2", "churn", "kappa", "penalty_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"DppSettings.{name} must be >= 0, got {getattr(self, name)!r}")


def smooth(eta: np.ndarray) -> np.ndarray:
    """f(eta) = 0.5 + 0.5 eta. Shapes: any."""
    return 0.5 + 0.5 * np.asarray(eta)


class DppDeployer:
    """Drift-plus-penalty deployment on every node (see the module docstring)."""

    def __init__(
        self, cluster: Cluster, params: LmInferenceParams, settings: DppSettings | None = None
    ) -> None:
        self.cluster, self.params = cluster, params
        self.settings = settings or DppSettings()
        self.vectors = [mode_vectors(cluster, n, params) for n in range(cluster.num_nodes)]
        if len(self.settings.alpha_gpu) != self.vectors[0].shape[1]:
            raise ValueError(
                f"DppSettings.alpha_gpu: expected one weight per LM, got {self.settings.alpha_gpu}"
            )

    def scores(self, view: ClusterView, node: int, vectors: np.ndarray) -> np.ndarray:
        """Eq. 15 of each mode vector on ``node``. Shapes: vectors (A, I) -> (A,)."""
        s = self.settings
        backlog = view.backlog_prompts[node].astype(np.float64)
        eta_gpu = view.eta_gpu[node]
        cpu_rate = s.alpha_cpu * smooth(view.eta_cpu[node]) * smooth(view.eta_mem[node])
        gpu_rate = np.asarray(s.alpha_gpu) * smooth(eta_gpu)
        rate = np.where(vectors == Mode.CPU, cpu_rate, np.where(vectors == Mode.GPU, gpu_rate[None, :], 0.0))
        total = backlog.sum()
        image_share = backlog[list(IMAGE_LMS)].sum() / total if total > 0 else 0.0
        price = s.p0 + s.p1 * (1.0 - eta_gpu) + s.p2 * image_share
        changed = vectors != view.mode[node][None, :]
        churn = s.churn * (changed * (1.0 + s.kappa * backlog)[None, :]).sum(axis=1)
        cost = price * (vectors == Mode.GPU).sum(axis=1) + churn
        return (rate * backlog[None, :]).sum(axis=1) - s.penalty_weight * cost

    def deploy(self, view: ClusterView, plan: Plan) -> Sequence[NodeConfig | None]:
        """Each node's target configuration, None to keep it (:class:`Deployer` protocol)."""
        locked = view.locked
        configs: list[NodeConfig | None] = []
        for n in range(view.num_nodes):
            vectors = self.vectors[n][lock_consistent(self.vectors[n], view.mode[n], locked[n])]
            current = view.node_config(n)
            chosen = current
            for index in np.argsort(-self.scores(view, n, vectors), kind="stable"):
                config = complete(vectors[index], current, locked[n], self.cluster, n, self.params)
                if config is not None:
                    chosen = config
                    break
            configs.append(None if chosen == current else chosen)
        return configs
