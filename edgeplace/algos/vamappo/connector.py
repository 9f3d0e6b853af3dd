"""The learner ConnectorV2 that turns all agents' episodes into VAMAPPO's per-sample training signals
(spec e3-e5): local GAE, the coordinated advantage, the uncertainty U, the volatility Delta, the gate's
partial logit and the enhancement weights.

It replaces RLlib's ``GeneralAdvantageEstimation`` at the end of PPO's learner pipeline and sees the
same batch: one row per (multi-agent episode chunk, agent, timestep), in the order of
``single_agent_episode_iterator`` (each agent's chunk ends with the artificial bootstrap row added by
``AddOneTsToEpisodesAndTruncate``). An agent acts once per request, so its timestep in the episode
(``t_started + t``) is the request index r that pairs (a, r) with (successor(a), r).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from ray.rllib.connectors.common.numpy_to_tensor import NumpyToTensor
from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.core.columns import Columns
from ray.rllib.evaluation.postprocessing import Postprocessing
from ray.rllib.utils.numpy import convert_to_numpy
from ray.rllib.utils.postprocessing.value_predictions import compute_value_targets

from edgeplace.algos.vamappo.coordination import Coordination
from edgeplace.algos.vamappo.mechanisms import (
    coordinated_advantage,
    enhancement_weights,
    normalize_per_group,
    predictive_uncertainty,
    structural_weight,
)
from edgeplace.algos.vamappo.state import VAMAPPOState
from edgeplace.models.uncertainty_api import UncertaintyCriticAPI


class SampleColumn:
    """Extra batch columns the VAMAPPO loss reads."""

    AGENT = "vamappo_agent"  # int: index of the row's agent in Coordination.agent_ids
    TRAINABLE = "vamappo_trainable"  # bool: a real transition (not a bootstrap row)
    WEIGHT = "vamappo_weight"  # enhancement weight w >= 1
    GATE_LOGIT = "vamappo_gate_logit"  # beta0 + beta1 z(U) + beta2 z(Delta)
    UNCERTAINTY = "vamappo_uncertainty"  # U (logged)


class _Rows:
    """Row bookkeeping of one module's batch. Shapes: every array (B,)."""

    def __init__(self, episodes: list[Any], agent_index: dict[str, int]) -> None:
        lengths = np.array([len(e) for e in episodes], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        self.size = int(lengths.sum())
        self.num_agents = len(agent_index)
        self.offset = np.arange(self.size) - np.repeat(starts, lengths)  # t within the agent's chunk
        self.last = self.offset == np.repeat(lengths - 1, lengths)  # the bootstrap row
        self.agent = np.repeat([agent_index[e.agent_id] for e in episodes], lengths).astype(np.int64)
        chunk_ids = {
            eid: i for i, eid in enumerate(dict.fromkeys(e.multi_agent_episode_id for e in episodes))
        }
        self.chunk = np.repeat([chunk_ids[e.multi_agent_episode_id] for e in episodes], lengths)
        self.request = self.offset + np.repeat([e.t_started for e in episodes], lengths)

    def _keys(self, agent: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """A unique int key per (chunk, agent, request) for ``rows`` played as ``agent``."""
        max_request = int(self.request.max()) + 1
        return (self.chunk[rows] * self.num_agents + agent) * max_request + self.request[rows]

    def successor_rows(self, successor_agent: np.ndarray) -> np.ndarray:
        """For every row, the row of agent ``successor_agent[row]`` at the same request of the same
        chunk, or -1 (no successor, a bootstrap row, or the successor's row is in another chunk)."""
        out = np.full(self.size, -1, dtype=np.int64)
        real = np.flatnonzero(~self.last)
        wanted_rows = np.flatnonzero((successor_agent >= 0) & ~self.last)
        if len(real) == 0 or len(wanted_rows) == 0:
            return out
        own = self._keys(self.agent[real], real)
        order = np.argsort(own)
        wanted = self._keys(successor_agent[wanted_rows], wanted_rows)
        position = np.minimum(np.searchsorted(own[order], wanted), len(own) - 1)
        hit = own[order][position] == wanted
        out[wanted_rows[hit]] = real[order[position[hit]]]
        return out


class CoordinatedAdvantage(ConnectorV2):
    """Computes VAMAPPO's advantages and sample signals for every module with a critic.

    Writes ``Postprocessing.ADVANTAGES`` (normalised per agent), ``Postprocessing.VALUE_TARGETS`` and
    the :class:`SampleColumn` columns. Values, critic features and counterfactual values come from the
    module in eval mode (no critic dropout); the uncertainty branch is stochastic by design.
    """

    def __init__(
        self,
        input_observation_space=None,
        input_action_space=None,
        *,
        coordination: Coordination,
        state: VAMAPPOState,
        gamma: float,
        lambda_: float,
    ) -> None:
        super().__init__(input_observation_space, input_action_space)
        self.coordination = coordination
        self.state = state
        self.gamma, self.lambda_ = gamma, lambda_
        self.agent_index = {agent: i for i, agent in enumerate(coordination.agent_ids)}
        self._to_tensor: NumpyToTensor | None = None

    def __call__(self, *, rl_module, episodes, batch, **kwargs):
        all_episodes = list(self.single_agent_episode_iterator(episodes, agents_that_stepped_only=False))
        results = {}
        for module_id, module_batch in batch.items():
            module = rl_module[module_id].unwrapped()
            owned = [e for e in all_episodes if e.module_id in (None, module_id)]
            results[module_id] = self._signals(module, module_batch, owned)
            device = next(module.parameters()).device
        if self._to_tensor is None:
            self._to_tensor = NumpyToTensor(as_learner_connector=True, device=device)
        tensors = self._to_tensor(rl_module=rl_module, batch=results, episodes=episodes)
        for module_id, columns in tensors.items():
            batch[module_id].update(columns)
        return batch

    # --- per module --------------------------------------------------------------------------
    def _signals(self, module: Any, batch: dict[str, Any], episodes: list[Any]) -> dict[str, np.ndarray]:
        settings = self.state.settings
        rows = _Rows(episodes, self.agent_index)
        with torch.no_grad(), _eval_mode(module):
            z = module.critic_embeddings(batch)  # (B, F)
            values = convert_to_numpy(module.compute_values(batch, embeddings=z))  # (B,)
            samples = (
                convert_to_numpy(module.uncertainty_samples(z, settings.mc_passes))
                if settings.uncertainty
                else None
            )
        if values.shape[0] != rows.size:
            raise RuntimeError(f"VAMAPPO connector: batch has {values.shape[0]} rows, episodes {rows.size}")
        rewards = convert_to_numpy(batch[Columns.REWARDS])
        terminated = convert_to_numpy(batch[Columns.TERMINATEDS]).astype(bool)
        targets = compute_value_targets(
            values=values,
            rewards=rewards,
            terminateds=terminated,
            truncateds=convert_to_numpy(batch[Columns.TRUNCATEDS]),
            gamma=self.gamma,
            lambda_=self.lambda_,
        )
        local = targets - values
        advantage = local
        if settings.coordinated_advantage:
            influence, weight = self._influence(module, batch, rows, values, rewards, terminated)
            advantage = coordinated_advantage(local, influence, weight, settings.caf_lambda)
        trainable = ~rows.last
        normalized = np.zeros_like(advantage)
        normalized[trainable] = normalize_per_group(advantage[trainable], rows.agent[trainable])

        out = {
            Postprocessing.ADVANTAGES: normalized.astype(np.float32),
            Postprocessing.VALUE_TARGETS: targets.astype(np.float32),
            SampleColumn.AGENT: rows.agent.astype(np.int64),
            SampleColumn.TRAINABLE: trainable,
            SampleColumn.WEIGHT: (
                enhancement_weights(
                    normalized, self.gamma, settings.enhancement_temperature, settings.enhancement_max
                )
                if settings.enhancement
                else np.ones_like(normalized)
            ).astype(np.float32),
        }
        if samples is not None:
            out.update(self._gate_logit(z, samples, rows, trainable))
        return out

    def _influence(self, module, batch, rows: _Rows, values, rewards, terminated):
        """A_inf^{a->b} = r^b + gamma V(s^b_{r+1}) - V(s~^b_r) and omega_{a->b} for every row with a
        successor row (nan elsewhere). Shapes: -> (B,), (B,)."""
        coordination = self.coordination
        index = self.agent_index
        successor_of = np.array(
            [index.get(coordination.successor.get(agent, ""), -1) for agent in coordination.agent_ids]
        )
        successor = rows.successor_rows(successor_of[rows.agent])
        pairs_a = np.flatnonzero(successor >= 0)
        pairs_b = successor[pairs_a]
        influence = np.full(rows.size, np.nan)
        weight = np.full(rows.size, np.nan)
        if len(pairs_a) == 0:
            return influence, weight
        obs = {key: convert_to_numpy(value) for key, value in batch[Columns.OBS].items()}
        obs_a = {key: value[pairs_a] for key, value in obs.items()}
        obs_b = {key: value[pairs_b] for key, value in obs.items()}
        logits = convert_to_numpy(batch[Columns.ACTION_DIST_INPUTS])[pairs_a].astype(np.float64)
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        counterfactual = coordination.counterfactual(obs_a, probs, obs_b)
        device = next(module.parameters()).device
        tensors = {key: torch.as_tensor(value, device=device) for key, value in counterfactual.items()}
        with torch.no_grad(), _eval_mode(module):
            counterfactual_values = convert_to_numpy(module.compute_values({Columns.OBS: tensors}))
        next_values = np.where(terminated, 0.0, np.roll(values, -1))  # row+1 is in the same chunk
        influence[pairs_a] = rewards[pairs_b] + self.gamma * next_values[pairs_b] - counterfactual_values
        weight[pairs_a] = structural_weight(
            coordination.transfer_mb(obs_b), coordination.bandwidth_mb_s, self.state.settings.caf_tau_s
        )
        return influence, weight

    def _gate_logit(
        self, z, samples: np.ndarray, rows: _Rows, trainable: np.ndarray
    ) -> dict[str, np.ndarray]:
        """U (Eq.14), Delta = ||z_r - z_{r-1}|| of the same agent, and the gate's partial logit."""
        settings, state = self.state.settings, self.state
        uncertainty = predictive_uncertainty(samples, state.uncertainty_floor)
        z = convert_to_numpy(z)
        step = np.linalg.norm(z - np.roll(z, 1, axis=0), axis=1)
        volatility = np.where(rows.offset > 0, step, 0.0)  # Delta = 0 at a chunk's first request
        state.uncertainty_z.update(uncertainty[trainable])
        state.volatility_z.update(volatility[trainable])
        logit = (
            settings.gate_bias
            + settings.gate_uncertainty * state.uncertainty_z(uncertainty)
            + settings.gate_volatility * state.volatility_z(volatility)
        )
        return {
            SampleColumn.GATE_LOGIT: logit.astype(np.float32),
            SampleColumn.UNCERTAINTY: uncertainty.astype(np.float32),
        }


class _eval_mode:
    """Context manager: the module in eval mode (no dropout) inside, its previous mode restored after."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.module, self.was_training = module, module.training

    def __enter__(self) -> None:
        self.module.eval()

    def __exit__(self, *exc: object) -> None:
        self.module.train(self.was_training)


__all__ = ["CoordinatedAdvantage", "SampleColumn", "UncertaintyCriticAPI"]
