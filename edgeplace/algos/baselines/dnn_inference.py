"""Baselines of the dnn-inference scenario (spec: papers/hisper.md, section g).

- ``heuristic``: each agent alone takes the action with the highest own reward on the slot's
  pre-decision state (background only), with no state update between agents.
- ``greedy-sequential``: the same score, but each agent sees the state left by the earlier agents of
  its slot (their queues, memory and instances).
- ``random``: uniform over each sub-action.

The first two use privileged simulator parameters (the server network built from ``env_config``)
and score every (configuration, model, server) of every agent in one vectorised pass with the
env's own per-request outcome (:class:`~edgeplace.envs.dnn_inference.request_outcome.RequestOutcome`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgeplace.algos.baselines.stacking import stack_observations
from edgeplace.envs.action_masks import padded_parts
from edgeplace.envs.dnn_inference.network import ServerNetwork, load_server_network
from edgeplace.envs.dnn_inference.params import DnnInferenceConfig, DnnInferenceParams
from edgeplace.envs.dnn_inference.request_batch import RequestBatch
from edgeplace.envs.dnn_inference.request_outcome import RequestOutcome
from edgeplace.envs.dnn_inference.state import DnnObsKey, ObservationLayout, agent_rank
from edgeplace.envs.dnn_inference.system_model import ServerLoad
from edgeplace.policy import Observation
from edgeplace.topology import padded_size
from edgeplace.workloads.dnn_inference import MAX_MODELS, NUM_CONFIGS, SERVICE_TABLES


class ActionScorer:
    """Scores every action of a batch of requests on given server loads with the request's own reward
    (:class:`RequestOutcome`: accuracy or -100, minus delay, minus the cost it adds, new instance memory
    included).

    Shapes: the candidate grid is (B, C, M, V) = (requests, 16 configurations, 4 model slots, servers).
    """

    def __init__(self, network: ServerNetwork, layout: ObservationLayout, params: DnnInferenceParams) -> None:
        self.network, self.layout, self.params = network, layout, params
        self.config = np.arange(NUM_CONFIGS)[None, :, None, None]
        self.model = np.arange(MAX_MODELS)[None, None, :, None]
        self.server = np.arange(network.num_servers)[None, None, None, :]

    @classmethod
    def from_env_config(cls, env_config: Mapping[str, Any]) -> ActionScorer:
        """The network and observation layout of envs built from ``env_config``."""
        cfg = DnnInferenceConfig.from_env_config(env_config)
        network = load_server_network(cfg.topology, cfg.attribute_seed)
        layout = ObservationLayout(
            network.num_servers, padded_size(network.num_servers, cfg.max_nodes), cfg.static_server_features
        )
        return cls(network, layout, cfg.params)

    def decode(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> RequestBatch:
        """The requests and server background the observations show."""
        return self.layout.decode_batch(
            agent_ids, stack_observations(observations, (DnnObsKey.REQUEST, DnnObsKey.SERVERS))
        )

    def best_actions(self, load: ServerLoad, rows: np.ndarray, request: RequestBatch) -> np.ndarray:
        """Argmax of the request's own reward over every action of each request on load row ``rows[b]``;
        ties go to the lowest (configuration, model, server).

        Shapes: rows (B,), request fields (B,) -> (B, 3) int64.
        """
        outcome = RequestOutcome.evaluate(
            self.network, self.params, load, rows, request, self.config, self.model, self.server
        )
        valid = SERVICE_TABLES.model_valid[request.service[:, None, None, None], self.model]  # (B, 1, M, 1)
        score = np.where(valid, outcome.reward, -np.inf).reshape(rows.size, -1)
        flat = score.argmax(axis=1)
        grid = (NUM_CONFIGS, MAX_MODELS, self.network.num_servers)
        return np.stack(np.unravel_index(flat, grid), axis=1).astype(np.int64)

    def commit(self, load: ServerLoad, rows: np.ndarray, request: RequestBatch, actions: np.ndarray) -> None:
        """Add the requests' actions to their load rows where admission accepts them (K rows, distinct)."""
        config, model, server = actions.T
        outcome = RequestOutcome.evaluate(
            self.network, self.params, load, rows, request, config, model, server
        )
        load.commit(rows, request.service, model, server, outcome.terms, outcome.accepted)


class HeuristicPolicy:
    """Every agent independently takes its best action on the pre-decision state (spec g)."""

    name = "heuristic"

    def __init__(self, scorer: ActionScorer) -> None:
        self.scorer = scorer

    @classmethod
    def from_env_config(cls, env_config: Mapping[str, Any]) -> HeuristicPolicy:
        """For envs built from ``env_config``."""
        return cls(ActionScorer.from_env_config(env_config))

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        request = self.scorer.decode(agent_ids, observations)
        load = ServerLoad.background(request.background_tflop, request.background_memory_mb)
        return self.scorer.best_actions(load, np.arange(len(agent_ids)), request)


class GreedySequentialPolicy:
    """The heuristic, but each agent acts on the state its slot's earlier agents left (spec g).

    The batch must hold each slot's agents as one contiguous run in processing order (``od_*`` then
    ``mot_*``, as the env's observation dicts list them); a run ends where the order restarts. Runs
    whose ``servers`` differ inside are rejected (they mix slots).
    """

    name = "greedy-sequential"

    def __init__(self, scorer: ActionScorer) -> None:
        self.scorer = scorer

    @classmethod
    def from_env_config(cls, env_config: Mapping[str, Any]) -> GreedySequentialPolicy:
        """For envs built from ``env_config``."""
        return cls(ActionScorer.from_env_config(env_config))

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        request = self.scorer.decode(agent_ids, observations)
        slot, position = _slot_runs(agent_ids, observations)
        starts = np.flatnonzero(position == 0)
        load = ServerLoad.background(request.background_tflop[starts], request.background_memory_mb[starts])
        actions = np.zeros((len(agent_ids), 3), dtype=np.int64)
        for p in range(int(position.max()) + 1):
            members = np.flatnonzero(position == p)  # the p-th agent of every slot that has one
            part = request.select(members)
            actions[members] = self.scorer.best_actions(load, slot[members], part)
            self.scorer.commit(load, slot[members], part, actions[members])
        return actions


class RandomPolicy:
    """Uniform over each sub-action: configuration, the service's models, the real servers."""

    name = "random"

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        segments = padded_parts([obs[DnnObsKey.ACTION_MASK] for obs in observations])  # 3 x (B, w_k)
        draws = self.rng.random((len(observations), len(segments)))
        columns = []
        for k, allowed in enumerate(segments):
            nth = np.floor(draws[:, k] * allowed.sum(axis=1)).astype(np.int64)  # the nth allowed entry
            columns.append((np.cumsum(allowed, axis=1) > nth[:, None]).argmax(axis=1))
        return np.stack(columns, axis=1).astype(np.int64)


def _slot_runs(
    agent_ids: Sequence[str], observations: Sequence[Observation]
) -> tuple[np.ndarray, np.ndarray]:
    """Split a batch into slots: (slot index, position within the slot) of every entry. Shapes: (B,), (B,)."""
    slot, position = np.zeros(len(agent_ids), np.int64), np.zeros(len(agent_ids), np.int64)
    previous = None
    for b, agent in enumerate(agent_ids):
        rank = agent_rank(agent)
        if previous is not None and rank > previous:
            slot[b], position[b] = slot[b - 1], position[b - 1] + 1
            if not np.array_equal(observations[b][DnnObsKey.SERVERS], observations[b - 1][DnnObsKey.SERVERS]):
                raise ValueError(
                    f"{agent} continues a slot in agent order but observes other servers (interleaved slots)"
                )
        elif b:
            slot[b] = slot[b - 1] + 1
        previous = rank
    return slot, position


#: The dnn-inference baselines by name: ``(seed, env_config) -> Policy``.
BASELINES = {
    "random": lambda seed, env_config: RandomPolicy(seed),
    "heuristic": lambda seed, env_config: HeuristicPolicy.from_env_config(env_config),
    "greedy-sequential": lambda seed, env_config: GreedySequentialPolicy.from_env_config(env_config),
}
