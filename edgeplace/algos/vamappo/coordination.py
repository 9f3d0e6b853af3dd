"""What VAMAPPO needs to know about a scenario: which agent's decision feeds which, and how to rebuild
the successor's observation under the predecessor's mean action (CAF, spec e4)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Batch = dict[str, np.ndarray]


@dataclass(frozen=True)
class Coordination:
    """A scenario's coordination structure.

    Attributes:
        agent_ids: the agents in order; their index is the row's agent id in the learner.
        successor: agent -> the agent whose observation its decision shapes (N_out(a)).
        counterfactual: (obs_a, probs_a (K, M), obs_b) -> b's observations under a's mean action.
        transfer_mb: b's observations (K, ...) -> the data a hands to b, MB (K,), for omega_{a->b}.
        bandwidth_mb_s: the link rate B of omega's transfer time.
    """

    agent_ids: tuple[str, ...]
    successor: Mapping[str, str]
    counterfactual: Callable[[Batch, np.ndarray, Batch], Batch]
    transfer_mb: Callable[[Batch], np.ndarray]
    bandwidth_mb_s: float


def genai_chain_coordination(env_config: Mapping[str, Any]) -> Coordination:
    """Stage i feeds stage i+1 of the same request; hops come from the run's topology."""
    from edgeplace.envs.genai_chain import AGENT_IDS, GenAIChainConfig, RequestFeature
    from edgeplace.envs.genai_chain.counterfactual import CounterfactualSuccessor
    from edgeplace.envs.genai_chain.observation import SIZE_MB_SCALE
    from edgeplace.obs_keys import ObsKey
    from edgeplace.workloads.genai_chain import load_workload

    config = GenAIChainConfig.from_env_config(env_config)
    hops = load_workload(config.topology, seed=config.workload_seed).substrate.paths.hops
    return Coordination(
        agent_ids=tuple(AGENT_IDS),
        successor=dict(zip(AGENT_IDS[:-1], AGENT_IDS[1:], strict=True)),
        counterfactual=CounterfactualSuccessor(hops, config.params),
        transfer_mb=lambda obs: obs[ObsKey.REQUEST][:, RequestFeature.INPUT_MB] * SIZE_MB_SCALE,
        bandwidth_mb_s=config.params.bandwidth_mb_s,
    )
