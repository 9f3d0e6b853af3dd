"""The slot-level observations (scheduler, deployers) and the keys every agent shares, built from a
:class:`ClusterView` and a :class:`Plan`: the one mapping the env and Serve both use."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeplace.envs.base import Observation
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.masks import ActionMasks
from edgeplace.envs.lm_inference.observation import LmObs, ObservationBuilder
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.state_codec import encode_state
from edgeplace.obs_keys import ObsKey


class SlotObserver:
    """The scheduler's and the deployers' observations of one cluster.

    Args:
        builder, masks: the env's feature builder and action masks.
        scheduler: the scheduler's agent id; ``deployers``: the deployers' ids, in node order.
    """

    def __init__(
        self, builder: ObservationBuilder, masks: ActionMasks, scheduler: str, deployers: Sequence[str]
    ) -> None:
        self.builder, self.masks = builder, masks
        self.scheduler, self.deployers = scheduler, tuple(deployers)

    def common(
        self, view: ClusterView, pods: np.ndarray, plan: Plan, epoch_slot: int, episode: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The keys every agent's observation holds: ``global_state``, ``state`` (without telemetry) and
        ``episode``. Shapes: pods (N, I, 14) from :meth:`ObservationBuilder.pod_features`; episode (2,)
        int64 (env seed, episode index)."""
        return {
            LmObs.GLOBAL_STATE: self.builder.global_state(view, pods, plan, epoch_slot),
            LmObs.STATE: encode_state(view),
            LmObs.EPISODE: episode,
        }

    def observe(
        self, view: ClusterView, plan: Plan, epoch_slot: int, episode: np.ndarray, agents: Sequence[str]
    ) -> dict[str, Observation]:
        """The observations of the slot-level ``agents`` (the scheduler and deployers among them) on
        ``view`` under ``plan``; ``epoch_slot`` is the slot's index within its epoch."""
        builder = self.builder
        pods = builder.pod_features(view)
        common = self.common(view, pods, plan, epoch_slot, episode)
        out: dict[str, Observation] = {}
        if self.scheduler in agents:
            out[self.scheduler] = {
                **builder.scheduler(view, pods, plan),
                **common,
                ObsKey.ACTION_MASK: self.masks.scheduler(plan.roles),
            }
        deploying = [(n, agent) for n, agent in enumerate(self.deployers) if agent in agents]
        if deploying:
            masks, own = self.masks.deployers(view), builder.deployers(view, pods, plan)
            for n, agent in deploying:
                out[agent] = {**own[n], **common, ObsKey.ACTION_MASK: masks[n]}
        return out
