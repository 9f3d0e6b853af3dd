"""The dnn-inference scenario's joint view for the joint-transition algorithms (HISPER, HASAC, HAPPO):
the global state of :func:`~edgeplace.envs.dnn_inference.state.global_state` (per agent ``req`` + service
token, then ``servers`` and ``links`` once), structural masks, and the three reward parts of the infos.

It fulfils :class:`edgeplace.algos.hisper.joint_view.JointView` (numpy only, as every env module).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgeplace.envs.dnn_inference.kpis import StepInfo
from edgeplace.envs.dnn_inference.state import (
    SERVICE_TOKEN_DIM,
    DnnObsKey,
    ObservationLayout,
    agent_service,
    global_state,
)
from edgeplace.workloads.dnn_inference import MAX_MODELS, NUM_CONFIGS

#: The reward parts the hybrid critic learns: accuracy, delay, cost (the team's, in every agent's infos).
REWARD_PART_KEYS = (StepInfo.R_ACC, StepInfo.R_DELAY, StepInfo.R_COST)


class DnnJointView:
    """The joint view of ``agents`` on observations of ``layout``.

    Shapes: global state (A (P + 2 + 2) + |servers| + |links|,); actions (A, 3) padded to
    (16, MAX_MODELS, P); structural masks (A, 16 + MAX_MODELS + P); reward parts (3,).
    """

    token_dim = SERVICE_TOKEN_DIM
    masks_in_state = False
    reward_parts = tuple(str(key) for key in REWARD_PART_KEYS)
    own_keys = (DnnObsKey.REQUEST.value,)
    shared_keys = (DnnObsKey.SERVERS.value, DnnObsKey.LINKS.value)
    discrete = False

    def __init__(self, layout: ObservationLayout, agents: Sequence[str]) -> None:
        self.agents = tuple(agents)
        self.request_dim, self.server_dim, self.link_dim = (
            layout.request_dim,
            layout.server_dim,
            layout.link_dim,
        )
        self.sizes = (NUM_CONFIGS, MAX_MODELS, layout.max_nodes)
        self.structural_masks = np.stack([layout.structural_mask(agent_service(a)) for a in self.agents])
        self.high = np.stack([layout.action_space(agent_service(a)).nvec for a in self.agents])  # (A, 3)

    def global_state(self, observations: Mapping[str, Mapping[str, np.ndarray]]) -> np.ndarray:
        return global_state(observations, self.agents)

    def reward(self, rewards: Mapping[str, float], infos: Mapping[str, Mapping[str, Any]]) -> np.ndarray:
        info = infos[self.agents[0]]
        return np.array([info[key] for key in REWARD_PART_KEYS], dtype=np.float32)

    def env_actions(self, actions: np.ndarray) -> dict[str, Any]:
        return dict(zip(self.agents, actions, strict=True))

    def random_actions(self, rng: np.random.Generator, states: np.ndarray) -> np.ndarray:
        """Uniform over each agent's native sub-action ranges (its structural mask)."""
        return rng.integers(0, self.high, size=(len(states), *self.high.shape))
