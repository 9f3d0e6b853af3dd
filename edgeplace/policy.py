"""The policy protocol: what evaluation, benchmarks and Serve call, for baselines and trained
modules alike.

A policy maps a batch of (agent id, observation) pairs to actions. Batching is part of the contract
so that a trained module makes one forward pass for many envs; a single-env caller uses
:func:`act`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

Observation = Mapping[str, np.ndarray]


class PolicyUnavailable(ValueError):
    """A policy needs an outside service (an LLM endpoint) that is not configured here; the message
    says how to configure it."""


@runtime_checkable
class Policy(Protocol):
    """Anything that picks actions for agents from their observations."""

    name: str

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Actions for ``observations[i]`` of agent ``agent_ids[i]``.

        Shapes: -> (B,) int64 for a Discrete action, (B, K) int64 for K sub-actions (MultiDiscrete).
        """
        ...


def act(policy: Policy, observations: Mapping[str, Observation]) -> dict[str, int | np.ndarray]:
    """The protocol's dict form: observation dict (agent id -> obs) in, action dict out (an int per
    Discrete agent, a (K,) array per MultiDiscrete agent)."""
    agent_ids = list(observations)
    actions = policy.act_batch(agent_ids, [observations[agent] for agent in agent_ids])
    return {
        agent: int(action) if np.ndim(action) == 0 else np.asarray(action)
        for agent, action in zip(agent_ids, actions, strict=True)
    }


@runtime_checkable
class RecurrentPolicy(Policy, Protocol):
    """A policy whose actions depend on the earlier steps of an episode (a GRU belief). Each row belongs
    to a stream (one env copy, say); the caller resets a stream whenever a new episode starts in it."""

    def act_batch_in_streams(
        self, streams: Sequence[Hashable], agent_ids: Sequence[str], observations: Sequence[Observation]
    ) -> np.ndarray:
        """:meth:`Policy.act_batch`, row i continuing the episode of ``(streams[i], agent_ids[i])``."""
        ...

    def reset_streams(self, streams: Sequence[Hashable]) -> None:
        """Forget what the policy carries for ``streams`` (new episodes start there)."""
        ...


def act_in_streams(
    policy: Policy, streams: Sequence[Hashable], agent_ids: Sequence[str], observations: Sequence[Observation]
) -> np.ndarray:
    """``policy``'s actions, in their streams for a :class:`RecurrentPolicy` (any other ignores them)."""
    if isinstance(policy, RecurrentPolicy):
        return policy.act_batch_in_streams(streams, agent_ids, observations)
    return policy.act_batch(agent_ids, observations)


def reset_streams(policy: Policy, streams: Sequence[Hashable]) -> None:
    """Start ``streams`` afresh for a :class:`RecurrentPolicy` (a no-op for any other policy)."""
    if isinstance(policy, RecurrentPolicy):
        policy.reset_streams(streams)
