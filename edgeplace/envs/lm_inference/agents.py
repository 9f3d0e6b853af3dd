"""The agents of the lm-inference env (spec d, "Agent ids") and the hardware profile of each deployer."""

from __future__ import annotations

from enum import StrEnum

from edgeplace.envs.lm_inference.cluster import Cluster

PLANNER = "planner"
SCHEDULER = "scheduler"
DEPLOYER_PREFIX = "deployer_"


class HardwareProfile(StrEnum):
    """A worker's GPU hardware, which fixes its catalogue's shape (the deployers of one profile share a
    module)."""

    CPU = "cpu"
    ONE_GPU = "1gpu"
    TWO_GPU = "2gpu"


def deployer_ids(cluster: Cluster) -> tuple[str, ...]:
    """``deployer_<node name>`` of every worker, in node order (``deployer_VM2 .. deployer_VM7``)."""
    return tuple(f"{DEPLOYER_PREFIX}{name}" for name in cluster.names)


def hardware_profiles(cluster: Cluster) -> tuple[HardwareProfile, ...]:
    """Each worker's profile: no vGPU, one physical GPU's vGPUs at most, or more."""
    return tuple(
        HardwareProfile.CPU
        if vgpus == 0
        else HardwareProfile.ONE_GPU
        if vgpus <= cluster.vgpus_per_gpu
        else HardwareProfile.TWO_GPU
        for vgpus in cluster.vgpus.tolist()
    )
