"""Measured testbeds: small real networks written down from their operators' figures, not drawn.

``testbed("bristol")`` is the city-wide edge testbed of papers/multi-agentic-lm-inference.md (section
c): seven VMs at three Bristol sites, one of them (VM1) a controller that hosts no workload. The
substrate carries what a workload needs to run on it:

- resources (columns of ``capacity``), all *allocatable* (total minus the 2-core / 4-GB reserve for
  the OS, Kubernetes and DaemonSets): ``compute`` in cores, ``memory`` in GB of RAM, :data:`VGPU`
  time-sliced GPU shares (:data:`VGPUS_PER_GPU` per physical GPU), :data:`VRAM` in GB;
- node feature :data:`SITE` (site index, see :data:`BRISTOL_SITES`) and :data:`GPUS` (physical GPUs);
- affinity tag :data:`WORKER` (False on the controller);
- a full mesh of links: 0.5 ms and 400 Mbit/s inside a site, 2 ms and 100 Mbit/s between sites (the
  effective application throughput on the 100 GbE links), stored in MB/s as every substrate;
- ``node_ids`` 1..7 (VM1..VM7) and approximate site coordinates.
"""

from __future__ import annotations

import numpy as np

from edgeplace.topology.errors import TopologyError
from edgeplace.topology.names import Resource
from edgeplace.topology.substrate import Substrate

#: Resource column: vGPUs, time-sliced shares of a physical GPU.
VGPU = "vgpu"
#: Resource column: GPU memory, GB.
VRAM = "vram"
#: Node feature: the site a node is at (index into the testbed's site list).
SITE = "site"
#: Node feature: physical GPUs of a node; vGPU k lies on GPU ``k // VGPUS_PER_GPU``.
GPUS = "gpus"
#: Affinity tag: the node hosts workloads and originates traffic (False: control only).
WORKER = "worker"
#: vGPUs per physical GPU (time slicing).
VGPUS_PER_GPU = 2

BRISTOL_SITES = ("UoB", "We The Curious", "M Shed")
"""Site names by index."""
_BRISTOL_SITE_LONLAT = ((-2.6040, 51.4585), (-2.5985, 51.4508), (-2.5984, 51.4474))
"""Approximate (longitude, latitude) of the sites."""
# One row per VM (VM1..VM7): site, allocatable cores, allocatable RAM GB, physical GPUs, worker.
_BRISTOL_NODES = (
    (0, 6, 12.0, 0, False),
    (0, 22, 28.0, 0, True),
    (0, 14, 20.0, 1, True),
    (1, 14, 20.0, 1, True),
    (1, 14, 20.0, 1, True),
    (2, 14, 20.0, 1, True),
    (2, 14, 20.0, 2, True),
)
_GPU_VRAM_GB = 24.0
"""vRAM of one A5000."""
_INTRA_SITE = (0.5e-3, 400.0)
"""(one-way latency s, bandwidth Mbit/s) of a link inside a site."""
_INTER_SITE = (2e-3, 100.0)
_MBIT_PER_MB = 8.0


def testbed(name: str) -> Substrate:
    """The testbed ``name`` (known: ``bristol``).

    Raises:
        TopologyError: an unknown name (field ``name``).
    """
    if name != "bristol":
        raise TopologyError(f"unknown testbed {name!r}; known: ['bristol']", field="name")
    site, cores, ram_gb, gpus, worker = (np.array(column) for column in zip(*_BRISTOL_NODES, strict=True))
    src, dst = np.triu_indices(site.size, k=1)
    same_site = site[src] == site[dst]
    delay_s = np.where(same_site, _INTRA_SITE[0], _INTER_SITE[0])
    bw_mbps = np.where(same_site, _INTRA_SITE[1], _INTER_SITE[1])
    return Substrate(
        name="testbed:bristol",
        resource_names=(Resource.COMPUTE, Resource.MEMORY, VGPU, VRAM),
        capacity=np.stack([cores, ram_gb, gpus * VGPUS_PER_GPU, gpus * _GPU_VRAM_GB], axis=1),
        edge_index=np.stack([src, dst]),
        bandwidth_mb_s=bw_mbps / _MBIT_PER_MB,
        delay_s=delay_s,
        node_ids=np.arange(1, site.size + 1),
        coords=np.asarray(_BRISTOL_SITE_LONLAT)[site],
        affinity={WORKER: worker},
        node_features={SITE: site, GPUS: gpus},
    )
