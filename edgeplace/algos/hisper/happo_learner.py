"""HAPPO's learner (spec g): per-agent actors updated one after another in a random order, each PPO step
weighted by the correction factor M of the agents updated before it, and a centralised V(s) critic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from edgeplace.algos.hisper.actor import actor_inputs, group_forward
from edgeplace.algos.hisper.happo_settings import HAPPOSettings
from edgeplace.algos.hisper.happo_update import gae, happo_surrogate
from edgeplace.algos.hisper.joint_view import JointStateLayout
from edgeplace.algos.hisper.learner_state import PerAgentActorsCheckpointable
from edgeplace.algos.hisper.state_value import StateValue
from edgeplace.algos.hisper.value_norm import ValueNorm
from edgeplace.algos.learner_metrics import HAPPOMetric, PPOMetric
from edgeplace.models.autoregressive_head import ActionMode, HeadOutput


@dataclass
class Rollout:
    """T lockstep steps of E envs, as collected (numpy).

    Shapes: state, next_state (T, E, G); actions (T, E, A, K); log_pi (T, E, A) (joint over the
    sub-actions, per agent); rewards (T, E) team reward; terminated, episode_end (T, E) bool.
    """

    state: np.ndarray
    actions: np.ndarray
    log_pi: np.ndarray
    rewards: np.ndarray
    next_state: np.ndarray
    terminated: np.ndarray
    episode_end: np.ndarray


class HAPPOLearner(PerAgentActorsCheckpointable):
    """Actors (one per agent), the V(s) critic with its ValueNorm, and Adam optimisers.

    Args:
        layout: The global state's layout.
        masks: Structural action masks, bool (A, sum(layout.sizes)).
        settings: HAPPO's hyperparameters.
        gamma: Discount.
        seed: Seed of the initial weights, the action sampler and the agent orders.
        device: Where networks and batches live.
    """

    def __init__(
        self,
        layout: JointStateLayout,
        masks: np.ndarray,
        settings: HAPPOSettings,
        gamma: float,
        seed: int,
        device: torch.device | str = "cpu",
    ) -> None:
        self.value = self._build_actors(
            layout,
            masks,
            settings,
            gamma,
            seed,
            device,
            critic=lambda: StateValue(layout, settings.critic_hidden, settings.embed_dim),
        )
        self.value_norm = ValueNorm().to(self.device)
        self.actor_optimizers = [
            torch.optim.Adam(a.parameters(), lr=settings.actor_lr, eps=settings.adam_eps) for a in self.actors
        ]
        self.critic_optimizer = torch.optim.Adam(
            self.value.parameters(), lr=settings.critic_lr, eps=settings.adam_eps
        )

    # --- acting --------------------------------------------------------------------------------
    def policy(self, state: Tensor, mode: ActionMode) -> HeadOutput:
        """Every agent's action at global states (B, G), one batched forward. -> * = (A, B)."""
        requests, servers, links = actor_inputs(self.layout, state)
        masks = self.head_masks(state)
        return group_forward(
            self.actors, requests, servers, links, masks, mode=mode, generator=self.generator
        )

    @torch.inference_mode()
    def act_with_log_prob(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sampled joint actions and their per-agent log-probabilities.
        Shapes: (E, G) -> (E, A, K), (E, A)."""
        out = self.policy(
            torch.as_tensor(np.asarray(state, np.float32), device=self.device), ActionMode.SAMPLE
        )
        return out.actions.transpose(0, 1).cpu().numpy(), out.log_pi.transpose(0, 1).cpu().numpy()

    @torch.inference_mode()
    def act(self, state: np.ndarray, *, explore: bool = True) -> np.ndarray:
        """Joint actions (E, A, K): samples, or the argmax path without ``explore``."""
        mode = ActionMode.SAMPLE if explore else ActionMode.ARGMAX
        out = self.policy(torch.as_tensor(np.asarray(state, np.float32), device=self.device), mode)
        return out.actions.transpose(0, 1).cpu().numpy()

    # --- update -------------------------------------------------------------------------------
    def _values(self, state: Tensor) -> Tensor:
        v = self.value(state)
        return self.value_norm.denormalize(v) if self.settings.value_norm else v

    def update(self, rollout: Rollout) -> dict[str, float]:
        """One on-policy update: GAE, the agents' sequential PPO epochs, then the critic's epochs."""
        s, dev = self.settings, self.device
        t, e = rollout.rewards.shape
        state = torch.as_tensor(rollout.state, device=dev).reshape(t * e, -1)
        with torch.no_grad():
            values = self._values(state).reshape(t, e)
            next_values = self._values(torch.as_tensor(rollout.next_state, device=dev).reshape(t * e, -1))
            advantages, returns = gae(
                torch.as_tensor(rollout.rewards, dtype=torch.float32, device=dev),
                values,
                next_values.reshape(t, e),
                torch.as_tensor(rollout.terminated, device=dev),
                torch.as_tensor(rollout.episode_end, device=dev),
                gamma=self.gamma,
                lam=s.gae_lambda,
            )
        advantages, returns = advantages.reshape(-1), returns.reshape(-1)
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-5)
        actions = torch.as_tensor(rollout.actions, device=dev).flatten(0, 1).long()  # (T E, A, K)
        old_log_pi = torch.as_tensor(rollout.log_pi, dtype=torch.float32, device=dev).reshape(t * e, -1)
        stats = self._actor_updates(state, actions, old_log_pi, advantages)
        stats[PPOMetric.VF_LOSS] = self._critic_updates(state, returns)
        self.updates += 1
        values_out = torch.stack(list(stats.values())).cpu().tolist()
        return dict(zip(stats, values_out, strict=True))

    def _minibatches(self, size: int) -> list[Tensor]:
        order = torch.as_tensor(self.rng.permutation(size), device=self.device)
        return list(order.chunk(self.settings.minibatches))

    def _actor_updates(
        self, state: Tensor, actions: Tensor, old_log_pi: Tensor, advantages: Tensor
    ) -> dict[str, Tensor]:
        s = self.settings
        requests, servers, links = actor_inputs(self.layout, state)
        head_masks = self.head_masks(state)  # K x (A, B, n_k)
        factor = torch.ones_like(advantages)  # M
        stats: dict[str, Tensor] = {}
        for n in self.rng.permutation(self.num_agents).tolist():
            actor, masks = self.actors[n], [m[n] for m in head_masks]
            for _ in range(s.epochs):
                for index in self._minibatches(state.shape[0]):
                    out = actor.evaluate(
                        requests[n][index],
                        servers[index],
                        links[index],
                        actions[index, n],
                        [m[index] for m in masks],
                    )
                    surrogate = happo_surrogate(
                        out.log_pi, old_log_pi[index, n], factor[index], advantages[index], s.clip
                    )
                    entropy = out.entropy().mean()
                    loss = surrogate - s.entropy_coeff * entropy
                    self.actor_optimizers[n].zero_grad(set_to_none=True)
                    loss.backward()
                    nn.utils.clip_grad_norm_(actor.parameters(), s.max_grad_norm)
                    self.actor_optimizers[n].step()
            with torch.no_grad():
                new_log_pi = actor.evaluate(requests[n], servers, links, actions[:, n], masks).log_pi
                ratio = (new_log_pi - old_log_pi[:, n]).exp()
                factor = factor * ratio
            agent = self.layout.agents[n]
            stats[f"{agent}/{PPOMetric.POLICY_LOSS}"] = surrogate.detach()
            stats[f"{agent}/{PPOMetric.ENTROPY}"] = entropy.detach()
            stats[f"{agent}/{HAPPOMetric.RATIO_MEAN}"] = ratio.mean()
        return stats

    def _critic_updates(self, state: Tensor, returns: Tensor) -> Tensor:
        s = self.settings
        if s.value_norm:
            self.value_norm.update(returns)
            targets = self.value_norm.normalize(returns)
        else:
            targets = returns
        for _ in range(s.epochs):
            for index in self._minibatches(state.shape[0]):
                loss = (self.value(state[index]) - targets[index]).square().mean()
                self.critic_optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(self.value.parameters(), s.max_grad_norm)
                self.critic_optimizer.step()
        return loss.detach()

    # --- Checkpointable ------------------------------------------------------------------------
    def critic_parts(self) -> dict[str, Any]:
        return {"value": self.value, "value_norm": self.value_norm}
