"""Deployers that ignore queues (spec e): full activation (RF) and random redraws (RR)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeplace.envs.lm_inference.catalogue import mode_vectors
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.completion import complete, lock_consistent
from edgeplace.envs.lm_inference.lm_types import LM_TABLE, NUM_LMS, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.plan import Plan


def full_activation(cluster: Cluster, node: int) -> NodeConfig:
    """Every LM the node can run, once (RF). GPU-only LMs take one vGPU each first, then the others
    (in LM order) while vGPUs last, the rest run on CPU; an LM is added only while RAM and vRAM fit.
    The cores are split equally over the active pods, the remainder to the lower LM index.

    On the testbed: VM2 LM1/LM2 on CPU with 11 cores each; VM3-6 LM3/LM4 on 1 vGPU, LM1/LM2 on CPU,
    cores (4, 4, 3, 3); VM7 all four on 1 vGPU, cores (4, 4, 3, 3).
    """
    order = sorted(range(NUM_LMS), key=lambda i: (bool(LM_TABLE.cpu_allowed[i]), i))
    vgpus_left, ram_left, vram_left = int(cluster.vgpus[node]), cluster.ram_gb[node], cluster.vram_gb[node]
    modes = [Mode.OFF] * NUM_LMS
    for lm in order:
        on_gpu = vgpus_left >= 1 and LM_TABLE.min_vram_gb[lm] <= vram_left
        if (not on_gpu and not LM_TABLE.cpu_allowed[lm]) or LM_TABLE.min_ram_gb[lm] > ram_left:
            continue
        modes[lm] = Mode.GPU if on_gpu else Mode.CPU
        ram_left -= LM_TABLE.min_ram_gb[lm]
        if on_gpu:
            vgpus_left -= 1
            vram_left -= LM_TABLE.min_vram_gb[lm]
    active = [lm for lm in range(NUM_LMS) if modes[lm] != Mode.OFF]
    share, extra = divmod(int(cluster.cores[node]), max(len(active), 1))
    pods = {lm: (modes[lm], share + (k < extra), int(modes[lm] == Mode.GPU)) for k, lm in enumerate(active)}
    return NodeConfig.from_pods(pods)


class FullActivationDeployer:
    """RF: at the first slot every node activates all LMs it can (:func:`full_activation`); it never
    reconfigures."""

    def __init__(self, cluster: Cluster) -> None:
        self.configs = [full_activation(cluster, n) for n in range(cluster.num_nodes)]

    def deploy(self, view: ClusterView, plan: Plan) -> Sequence[NodeConfig | None]:
        """Each node's target configuration, None to keep it (:class:`Deployer` protocol)."""
        return self.configs if view.slot == 0 else [None] * len(self.configs)


class RandomDeployer:
    """RR: at slot 0, and then each slot with probability ``redraw_probability``, each node takes a
    uniformly random feasible, lock-consistent mode vector that the completion rule can complete.

    Draws every slot: one uniform number per node, then one index per redrawing node (in node order).
    """

    def __init__(
        self,
        cluster: Cluster,
        params: LmInferenceParams,
        seed: int | Sequence[int],
        redraw_probability: float = 0.2,
    ) -> None:
        if not 0.0 <= redraw_probability <= 1.0:
            raise ValueError(f"redraw_probability must be in [0, 1], got {redraw_probability!r}")
        self.cluster, self.params, self.redraw_probability = cluster, params, redraw_probability
        self.vectors = [mode_vectors(cluster, n, params) for n in range(cluster.num_nodes)]
        self.rng = np.random.default_rng(seed)

    def deploy(self, view: ClusterView, plan: Plan) -> Sequence[NodeConfig | None]:
        """Each node's target configuration, None to keep it (:class:`Deployer` protocol)."""
        redraw = (self.rng.random(view.num_nodes) < self.redraw_probability) | (view.slot == 0)
        configs: list[NodeConfig | None] = [None] * view.num_nodes
        locked = view.locked
        for n in np.flatnonzero(redraw):
            current = view.node_config(n)
            vectors = self.vectors[n][lock_consistent(self.vectors[n], view.mode[n], locked[n])]
            options = [
                config
                for modes in vectors
                if (config := complete(modes, current, locked[n], self.cluster, n, self.params)) is not None
            ]
            configs[n] = options[self.rng.integers(len(options))]
        return configs
