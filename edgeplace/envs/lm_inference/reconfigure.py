"""Turning a node's target configuration into pod operations (spec c, "Reconfiguration").

Per LM, comparing the target with where the pod is heading (:meth:`Pod.target`):

- same mode, vGPUs and cores: nothing;
- target off: terminate;
- pod off: create;
- another mode or vGPU count: restart (terminate, then create);
- cores only: in-place cgroup resize; a shrink applies at once, a grow is capped by the free cores.

A pod that is PENDING, INIT or TERMINATING is locked: its part of the target is ignored (and counted).
If any pod of the node is PENDING when the step starts, the step's creations, restarts and grows
(the allocating changes) are voided (and counted); terminations and shrinks still apply.
Terminations and shrinks go first, so what they free is available to the creations of the same step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from edgeplace.envs.lm_inference.lm_types import NUM_LMS, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.node_runtime import NodeRuntime
from edgeplace.envs.lm_inference.pod import LOCKED_STATES, PodState


class Change(Enum):
    """What a control step does to one pod."""

    NONE = "none"
    TERMINATE = "terminate"
    SHRINK = "shrink"
    CREATE = "create"
    RESTART = "restart"
    GROW = "grow"

    @property
    def allocates(self) -> bool:
        """Needs resources (voided while a pod of the node is PENDING)."""
        return self in (Change.CREATE, Change.RESTART, Change.GROW)


def pod_change(have: tuple[int, int, int], want: tuple[int, int, int]) -> Change:
    """The change from ``have`` to ``want``, both ``(mode, cores, vgpus)``."""
    if want == have:
        return Change.NONE
    if want[0] == Mode.OFF:
        return Change.TERMINATE
    if have[0] == Mode.OFF:
        return Change.CREATE
    if have[0] != want[0] or have[2] != want[2]:
        return Change.RESTART
    return Change.SHRINK if want[1] < have[1] else Change.GROW


@dataclass
class ReconfigCounts:
    """What one or more control steps did."""

    creations: int = 0
    restarts: int = 0
    terminations: int = 0
    resizes: int = 0
    voided: int = 0
    """Creations, restarts and grows voided by a PENDING pod."""
    locked: int = 0
    """Changes asked of a locked pod, ignored."""

    def add(self, other: ReconfigCounts) -> None:
        """Accumulate ``other`` into this."""
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def apply_node_config(node: NodeRuntime, config: NodeConfig, now: float) -> ReconfigCounts:
    """Apply ``config`` (already checked against the node's hardware) at time ``now``."""
    counts = ReconfigCounts()
    pending = any(pod.state == PodState.PENDING for pod in node.pods)
    changes = []
    for lm in range(NUM_LMS):
        change = pod_change(node.pods[lm].target(), config.pod(lm))
        if change is Change.NONE:
            continue
        if node.pods[lm].state in LOCKED_STATES:
            counts.locked += 1
        elif change.allocates and pending:
            counts.voided += 1
        else:
            changes.append((change.allocates, lm, change))
    for _, lm, change in sorted(changes, key=lambda item: item[:2]):
        want = config.pod(lm)
        if change is Change.TERMINATE:
            node.terminate(lm, now)
            counts.terminations += 1
        elif change is Change.CREATE:
            node.create(lm, want, now)
            counts.creations += 1
        elif change is Change.RESTART:
            node.terminate(lm, now, want)
            counts.restarts += 1
        else:
            node.resize(lm, want[1], now)
            counts.resizes += 1
    return counts
