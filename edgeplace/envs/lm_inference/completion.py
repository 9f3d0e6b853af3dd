"""The completion rule: a mode vector plus the current configuration -> a full node configuration
(spec e; used by RR, the drift-plus-penalty deployers and the DQN baseline).

- LMs in GPU mode before and after (keepers) keep their vGPUs.
- New GPU-mode LMs split the free vGPUs evenly, the remainder going to the larger B_i. If vGPUs are
  short, the (unlocked) keeper with the most is shrunk by one until they suffice; that is a restart.
- GPU pods get ``gpu_host_cores`` cores; CPU pods share the remaining cores equally (remainder to
  the lower LM index), resized in place.
"""

from __future__ import annotations

import numpy as np

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.lm_types import LM_TABLE, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.params import LmInferenceParams


def complete(
    modes: np.ndarray,
    current: NodeConfig,
    locked: np.ndarray,
    cluster: Cluster,
    node: int,
    params: LmInferenceParams,
) -> NodeConfig | None:
    """The configuration the completion rule gives ``modes`` on a node heading to ``current``.

    Args:
        modes: (I,) int :class:`Mode` per LM (a feasible vector, see :func:`catalogue.mode_vectors`).
        current: the configuration the node's pods are heading to.
        locked: (I,) bool, pods that cannot change (their vGPUs cannot be shrunk).
        cluster, node: the node (its allocatable cores and vGPUs).

    Returns:
        The configuration, or None when the vector cannot be completed (too few vGPUs or cores).
    """
    modes = np.asarray(modes)
    cores, vgpus = int(cluster.cores[node]), int(cluster.vgpus[node])
    gpu_now = np.asarray(current.mode) == Mode.GPU
    gpu = modes == Mode.GPU
    given = np.where(gpu & gpu_now, np.asarray(current.vgpus), 0)
    new = np.flatnonzero(gpu & ~gpu_now)
    free = vgpus - int(given.sum())
    while free < new.size:
        shrinkable = np.where(~np.asarray(locked) & (given > 1), given, 0)
        if not shrinkable.any():
            return None
        given[int(np.argmax(shrinkable))] -= 1
        free += 1
    if new.size:
        share, extra = divmod(free, new.size)
        given[new] = share
        by_size = new[np.argsort(-LM_TABLE.gpu_1vgpu_s[new], kind="stable")]
        given[by_size[:extra]] += 1
    cpu = np.flatnonzero(modes == Mode.CPU)
    spare = cores - params.gpu_host_cores * int(gpu.sum())
    if spare < cpu.size:
        return None
    given_cores = np.where(gpu, params.gpu_host_cores, 0)
    if cpu.size:
        share, extra = divmod(spare, cpu.size)
        given_cores[cpu] = share
        given_cores[cpu[:extra]] += 1
    return NodeConfig(tuple(modes.tolist()), tuple(given_cores.tolist()), tuple(given.tolist()))


def lock_consistent(vectors: np.ndarray, target_modes: np.ndarray, locked: np.ndarray) -> np.ndarray:
    """Which mode vectors keep every locked pod's mode. Shapes: (A, I), (I,), (I,) bool -> (A,) bool."""
    return ((vectors == np.asarray(target_modes)[None, :]) | ~np.asarray(locked)[None, :]).all(axis=1)
