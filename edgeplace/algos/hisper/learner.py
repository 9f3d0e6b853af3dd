"""HISPER's learner: the agents' actors, the twin critic and its target, their optimisers, acting and
one update (spec f). HASAC and the ablations are the same learner with other switches.

Runs on one torch device (the one RLlib assigns to a local learner, see
:class:`~edgeplace.algos.hisper.algorithm.HISPER`). Randomness: a torch generator on that device
(action samples, Gumbel noise) and a numpy generator (agent orders), both seeded and checkpointed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from edgeplace.algos.hisper.actor import actor_inputs, group_forward
from edgeplace.algos.hisper.critic import TwinCritic
from edgeplace.algos.hisper.joint_view import JointStateLayout
from edgeplace.algos.hisper.learner_state import PerAgentActorsCheckpointable
from edgeplace.algos.hisper.settings import HISPERSettings
from edgeplace.algos.hisper.update import (
    critic_loss,
    replace_agent,
    sequential_update,
    soft_targets,
    twin_min,
)
from edgeplace.algos.learner_metrics import HISPERMetric, PPOMetric
from edgeplace.models.autoregressive_head import ActionMode, HeadOutput
from edgeplace.models.hybrid_critic import (
    joint_action_encoding,
    make_target,
    polyak_update,
    sub_action_encoding,
)


class Batch:
    """A sampled batch of joint transitions as tensors on the learner's device.

    Shapes: state, next_state (B, G) float32; actions (B, A, K) int64; rewards (B, P) float32 (the
    reward parts); terminated (B,) bool.
    """

    def __init__(self, rows: Mapping[str, np.ndarray], device: torch.device) -> None:
        def tensor(name: str, dtype: torch.dtype) -> Tensor:
            return torch.as_tensor(np.asarray(rows[name]), device=device).to(dtype)

        self.state = tensor("state", torch.float32)
        self.next_state = tensor("next_state", torch.float32)
        self.actions = tensor("actions", torch.int64)
        self.rewards = tensor("rewards", torch.float32)
        self.terminated = tensor("terminated", torch.bool)


class HISPERLearner(PerAgentActorsCheckpointable):
    """Actors (one per agent), twin critic + target, Adam optimisers; ``act`` and ``update``.

    Args:
        layout: The global state's layout (agents in processing order, widths, sub-action sizes, reward
            parts).
        masks: The agents' structural action masks, bool (A, sum(layout.sizes)).
        settings: Switches and hyperparameters.
        gamma: Discount.
        seed: Seed of the initial weights and of the learner's generators.
        device: Where networks and batches live.
    """

    def __init__(
        self,
        layout: JointStateLayout,
        masks: np.ndarray,
        settings: HISPERSettings,
        gamma: float,
        seed: int,
        device: torch.device | str = "cpu",
    ) -> None:
        self.reward_parts = layout.reward_parts if settings.hybrid_reward else 1
        self.critic = self._build_actors(
            layout,
            masks,
            settings,
            gamma,
            seed,
            device,
            critic=lambda: TwinCritic(
                layout, self.sizes, self.reward_parts, settings.critic_hidden, settings.embed_dim
            ),
        )
        self.alpha = settings.resolved_alpha(self.num_agents)
        self.target_critic = make_target(self.critic)
        self.actor_optimizers = [torch.optim.Adam(a.parameters(), lr=settings.actor_lr) for a in self.actors]
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=settings.critic_lr)

    # --- observations ------------------------------------------------------------------------
    def actor_inputs(self, state: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(requests (A, B, R), servers (B, S), links (B, L)) sliced from global states (B, G)."""
        return actor_inputs(self.layout, state)

    def encode(self, out: HeadOutput) -> Tensor:
        """The critic's per-agent action encoding of a head output. Shapes: -> (*, sum(sizes))."""
        return sub_action_encoding(out.one_hots, self.sizes)

    def policy(self, state: Tensor, mode: ActionMode, *, grad: bool = False) -> HeadOutput:
        """Every agent's action at global states ``state`` (B, G), one batched forward.
        Shapes: -> HeadOutput with * = (A, B)."""
        requests, servers, links = self.actor_inputs(state)
        masks = self.head_masks(state)
        with torch.set_grad_enabled(grad):
            return group_forward(
                self.actors, requests, servers, links, masks, mode=mode, generator=self.generator
            )

    @torch.inference_mode()
    def act(self, state: np.ndarray, *, explore: bool = True) -> np.ndarray:
        """Joint actions for global states (E, G): samples, or the argmax path without ``explore``.
        Shapes: -> (E, A, K) int64."""
        tensor = torch.as_tensor(np.asarray(state, dtype=np.float32), device=self.device)
        mode = ActionMode.SAMPLE if explore else ActionMode.ARGMAX
        return self.policy(tensor, mode).actions.transpose(0, 1).cpu().numpy()

    # --- update -------------------------------------------------------------------------------
    def update(self, rows: Mapping[str, np.ndarray], *, actors: bool = True) -> dict[str, float]:
        """One update on a sampled batch: critic step, sequential actor steps (unless ``actors`` is
        False: a critic warm-up update), Polyak averaging.

        The statistics stay on the device until the end (one device-to-host copy per update).
        """
        batch = Batch(rows, self.device)
        stats = self.critic_step(batch)
        if actors:
            stats.update(self.actor_steps(batch))
        polyak_update(self.target_critic, self.critic, self.settings.tau)
        self.updates += 1
        values = torch.stack(list(stats.values())).cpu().tolist()
        return {HISPERMetric.ALPHA: self.alpha, **dict(zip(stats, values, strict=True))}

    def rewards(self, batch: Batch) -> Tensor:
        """The critic's reward targets: the parts, or their sum for a one-output critic. -> (B, P)."""
        return batch.rewards if self.settings.hybrid_reward else batch.rewards.sum(-1, keepdim=True)

    def targets(self, batch: Batch) -> Tensor:
        """Eq. 31 with fresh next actions from the current actors. Shapes: -> (B, P)."""
        with torch.no_grad():
            nxt = self.policy(batch.next_state, ActionMode.SAMPLE)
            next_joint = self.encode(nxt).transpose(0, 1).flatten(1)  # (B, A W)
            next_q = twin_min(self.target_critic(batch.next_state, next_joint), self.settings.twin_min)
            return soft_targets(
                self.rewards(batch),
                batch.terminated,
                next_q,
                nxt.log_pi.sum(0),
                gamma=self.gamma,
                alpha=self.alpha,
                entropy_in_targets=self.settings.entropy_in_targets,
            )

    def critic_step(self, batch: Batch) -> dict[str, Tensor]:
        """Eq. 32: one Adam step of both twins towards the soft targets."""
        targets = self.targets(batch)
        q = self.critic(batch.state, joint_action_encoding(batch.actions, self.sizes))  # (2, B, P)
        loss = critic_loss(q, targets)
        self.critic_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_optimizer.step()
        return {HISPERMetric.CRITIC_LOSS: loss.detach(), HISPERMetric.Q_MEAN: q.detach().sum(-1).mean()}

    def actor_steps(self, batch: Batch) -> dict[str, Tensor]:
        """Eq. 33: agents in a random order, each one Adam step against the critic (frozen) with the
        earlier agents' fresh actions."""
        requests, servers, links = self.actor_inputs(batch.state)
        head_masks = self.head_masks(batch.state)
        with torch.no_grad():
            joint = self.encode(self.policy(batch.state, ActionMode.SAMPLE)).transpose(0, 1).contiguous()
            encoded = self.critic.encode(batch.state)  # (2, B, .): constant over the actor steps
        losses: list[Tensor] = [torch.zeros((), device=self.device)] * self.num_agents
        entropies = list(losses)
        temperature = self.settings.gumbel_temperature

        def forward(n: int, mode: ActionMode) -> HeadOutput:
            masks = [m[n] for m in head_masks]
            return self.actors[n](
                requests[n],
                servers,
                links,
                masks,
                mode=mode,
                temperature=temperature,
                generator=self.generator,
            )

        def step_agent(n: int, current: Tensor) -> None:
            out = forward(n, ActionMode.GUMBEL)
            q = self.critic.q_from_encoded(encoded, replace_agent(current, n, self.encode(out)))
            loss = (self.alpha * out.log_pi - twin_min(q, self.settings.twin_min).sum(-1)).mean()
            self.actor_optimizers[n].zero_grad(set_to_none=True)
            loss.backward()
            self.actor_optimizers[n].step()
            losses[n], entropies[n] = loss.detach(), -out.log_pi.detach().mean()

        def resample(n: int) -> Tensor:
            with torch.no_grad():
                return self.encode(forward(n, ActionMode.SAMPLE))

        self.critic.requires_grad_(False)
        try:
            order = self.rng.permutation(self.num_agents)
            sequential_update(order.tolist(), joint, step_agent, resample)
        finally:
            self.critic.requires_grad_(True)
        stats = {HISPERMetric.ACTOR_LOSS: torch.stack(losses).mean()}
        for n, agent in enumerate(self.layout.agents):
            stats[f"{agent}/{PPOMetric.POLICY_LOSS}"] = losses[n]
            stats[f"{agent}/{PPOMetric.ENTROPY}"] = entropies[n]
        return stats

    # --- Checkpointable ------------------------------------------------------------------------
    def critic_parts(self) -> dict[str, Any]:
        return {"critic": self.critic, "target_critic": self.target_critic}
