"""The run-time records of the simulator: pod lifecycle states, pods, live requests and event kinds."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from edgeplace.envs.lm_inference.lm_types import Mode


class PodState(IntEnum):
    """Pod lifecycle states."""

    OFF = 0
    PENDING = 1
    INIT = 2
    READY = 3
    TERMINATING = 4


LOCKED_STATES = (PodState.PENDING, PodState.INIT, PodState.TERMINATING)


class EventKind(IntEnum):
    """Event kinds; at equal times a lower value runs first (a prompt finishing exactly at the
    deadline succeeds)."""

    COMPLETE = 0
    TRANSITION = 1
    ARRIVAL = 2
    DEADLINE = 3


class Where(IntEnum):
    """Where a live request is."""

    TRANSIT = 0
    QUEUED = 1
    DONE = 2


class Request:
    """A live request (row ``id`` of the episode's request log)."""

    __slots__ = ("id", "lm", "prompts", "done", "deadline_s", "download_s", "where")

    def __init__(self, rid: int, lm: int, prompts: int, deadline_s: float, download_s: float) -> None:
        self.id, self.lm, self.prompts, self.done = rid, lm, prompts, 0
        self.deadline_s, self.download_s = deadline_s, download_s
        self.where = Where.TRANSIT


class Pod:
    """The pod of one LM on one node; ``mode``/``cores``/``vgpus`` are its current incarnation's.

    While it serves, ``request`` is the request in service, ``left`` the fraction of the prompt in
    flight still to do as of ``since``, ``prompt_s`` the current full-prompt time (``alone_s`` or
    ``shared_s``) and ``started`` when the prompt began; ``version`` invalidates stale events.
    """

    __slots__ = (
        "lm", "state", "mode", "cores", "vgpus", "slots", "gpus", "next", "until", "version",
        "request", "left", "prompt_s", "since", "started", "alone_s", "shared_s",
    )  # fmt: skip

    def __init__(self, lm: int) -> None:
        self.lm, self.state = lm, PodState.OFF
        self.mode, self.cores, self.vgpus = Mode.OFF, 0, 0
        self.slots: tuple[int, ...] = ()
        self.gpus: frozenset[int] = frozenset()
        self.next: tuple[int, int, int] | None = None
        self.until, self.version = 0.0, 0
        self.request: Request | None = None
        self.left = self.prompt_s = self.since = self.started = 0.0
        self.alone_s = self.shared_s = np.inf

    def target(self) -> tuple[int, int, int]:
        """(mode, cores, vgpus) this pod is heading to: the next incarnation while terminating."""
        if self.state == PodState.TERMINATING:
            return self.next if self.next is not None else (Mode.OFF, 0, 0)
        return (self.mode, self.cores, self.vgpus)
