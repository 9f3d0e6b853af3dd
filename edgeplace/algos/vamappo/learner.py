"""VAMAPPO's TorchLearner: PPO's learner with the CAF connector, per-agent priority minibatches, the
gated and weighted surrogate, the uncertainty losses, top-k sparsified per-agent gradients averaged
like a synchronous parameter server, and adaptive clipping (spec e5-e8, e10)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.connectors.learner import GeneralAdvantageEstimation
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.learner import ENTROPY_KEY, POLICY_LOSS_KEY, VF_LOSS_KEY
from ray.rllib.evaluation.postprocessing import Postprocessing
from ray.rllib.utils.annotations import override

from edgeplace.algos.learner_metrics import VAMAPPOMetric
from edgeplace.algos.vamappo.connector import CoordinatedAdvantage, SampleColumn
from edgeplace.algos.vamappo.mechanisms import gate, neighbour_cosines, top_k_sparsify
from edgeplace.algos.vamappo.minibatches import PerAgentMinibatches, slice_rows
from edgeplace.algos.vamappo.settings import VAMAPPOSettings
from edgeplace.algos.vamappo.state import VAMAPPOState

STATE_KEY = "vamappo_state"
#: Per-step learner metrics (means over the step's agents), in the order compute_loss_for_module stacks them.
STEP_STATS = (POLICY_LOSS_KEY, VF_LOSS_KEY, ENTROPY_KEY, VAMAPPOMetric.ALPHA, VAMAPPOMetric.WEIGHT)


class VAMAPPOTorchLearner(PPOTorchLearner):
    """One shared module for all agents; each optimizer step averages the agents' sparsified
    gradients. Metrics: ``vamappo/alpha``, ``vamappo/clip_eps``, ``vamappo/uncertainty``,
    ``vamappo/consistency`` under the module id."""

    @override(PPOTorchLearner)
    def build(self) -> None:
        super().build()
        self.settings = VAMAPPOSettings.from_dict(self.config.vamappo_settings)
        coordination = self.config.coordination(self.config.env_config)
        self.vamappo_state = VAMAPPOState(
            self.settings, num_agents=len(coordination.agent_ids), initial_clip=self.config.clip_param
        )
        if self._learner_connector is not None:
            self._learner_connector.remove(GeneralAdvantageEstimation)
            self._learner_connector.append(
                CoordinatedAdvantage(
                    coordination=coordination,
                    state=self.vamappo_state,
                    gamma=self.config.gamma,
                    lambda_=self.config.lambda_,
                )
            )
        self._rng = np.random.default_rng(self.config.seed)
        self._actor_before: torch.Tensor | None = None
        self._agent: int = 0
        self._step_stats: list[torch.Tensor] = []

    @override(PPOTorchLearner)
    def update(self, *args: Any, **kwargs: Any) -> Any:
        """PPO's update with subnormal floats flushed to zero for its duration only (the process-wide
        default is restored after, so nothing else sees it). Subnormal float32 arithmetic is ~10-100x
        slower on x86; the MC-dropout branch produced them (now clamped there) and made iterations up
        to 7x slower. Flushing changes values below 1.2e-38 only."""
        torch.set_flush_denormal(True)
        try:
            return super().update(*args, **kwargs)
        finally:
            torch.set_flush_denormal(False)

    # --- minibatching ------------------------------------------------------------------------
    @override(PPOTorchLearner)
    def _create_iterator_if_necessary(self, *, training_data, num_epochs=1, minibatch_size=None, **kwargs):
        batch = self._make_batch_if_necessary(training_data=training_data)
        per_agent = max(1, (minibatch_size or batch.env_steps()) // self.vamappo_state.num_agents)
        return PerAgentMinibatches(
            batch,
            num_epochs=num_epochs,
            per_agent=per_agent,
            prioritized=self.settings.enhancement,
            rng=self._rng,
            agent_column=SampleColumn.AGENT,
            trainable_column=SampleColumn.TRAINABLE,
            weight_column=SampleColumn.WEIGHT,
        )

    # --- one optimizer step ----------------------------------------------------------------
    @override(PPOTorchLearner)
    def _uncompiled_update(self, batch: dict[str, Any], **kwargs):
        ((module_id, module_batch),) = batch.items()
        config = self.config.get_config_for_module(module_id)
        params = list(self._params.values())
        # Minibatches hold each agent's rows contiguously (PerAgentMinibatches): slice, don't gather.
        agents, counts = torch.unique_consecutive(module_batch[SampleColumn.AGENT], return_counts=True)
        flat_gradients, losses, fwd_out, start = [], [], {}, 0
        for agent, count in zip(agents.tolist(), counts.tolist(), strict=True):
            agent_batch = slice_rows(module_batch, start, count)
            start += count
            fwd_out = self.module.forward_train({module_id: agent_batch})
            self._agent = agent
            loss = self.compute_loss_for_module(
                module_id=module_id, config=config, batch=agent_batch, fwd_out=fwd_out[module_id]
            )
            flat_gradients.append(_flatten(torch.autograd.grad(loss, params, allow_unused=True), params))
            losses.append(loss.detach())
        stacked = top_k_sparsify(torch.stack(flat_gradients), self.settings.top_k_ratio)  # (A, P)
        cosines = neighbour_cosines(stacked).detach().cpu().numpy()
        self.vamappo_state.consistency[agents.cpu().numpy()] = cosines
        mean = stacked.mean(dim=0)
        gradients, offset = {}, 0
        for param_ref, param in self._params.items():
            gradients[param_ref] = mean[offset : offset + param.numel()].view_as(param)
            offset += param.numel()
        self.apply_gradients(self.postprocess_gradients(gradients))
        means = torch.stack(self._step_stats).mean(dim=0).tolist()  # over the agents of this step
        self._step_stats.clear()
        stats = dict(zip(STEP_STATS, means, strict=True))
        stats |= {
            VAMAPPOMetric.CONSISTENCY: float(cosines.mean()),
            VAMAPPOMetric.CLIP_EPS: self._clip_eps(config),
        }
        self.metrics.log_dict(stats, key=module_id, window=1)
        return fwd_out, {module_id: torch.stack(losses).mean()}, {}

    @override(PPOTorchLearner)
    def compute_loss_for_module(self, *, module_id, config, batch, fwd_out):
        module = self.module[module_id].unwrapped()
        settings, state = self.settings, self.vamappo_state
        dist = module.get_train_action_dist_cls().from_logits(fwd_out[Columns.ACTION_DIST_INPUTS])
        ratio = torch.exp(dist.logp(batch[Columns.ACTIONS]) - batch[Columns.ACTION_LOGP])
        advantages = batch[Postprocessing.ADVANTAGES]
        eps = self._clip_eps(config)
        surrogate = torch.min(ratio * advantages, ratio.clamp(1.0 - eps, 1.0 + eps) * advantages)
        if settings.uncertainty:
            consistency = float(state.consistency[self._agent])
            alpha = gate(
                batch[SampleColumn.GATE_LOGIT], consistency, settings.gate_consistency,
                settings.gate_min, settings.gate_max,
            )  # fmt: skip
        else:
            alpha = torch.ones_like(surrogate)
        policy_loss = -(alpha * batch[SampleColumn.WEIGHT] * surrogate).mean()

        z = fwd_out[Columns.EMBEDDINGS]
        values = module.compute_values(batch, embeddings=z)
        targets = batch[Postprocessing.VALUE_TARGETS]
        value_error = (values - targets).pow(2)
        critic_loss = value_error
        kl = torch.zeros((), device=values.device)
        if settings.uncertainty:
            uncertainty_error = (module.uncertainty(z) - (targets - values).abs().detach()).pow(2)
            critic_loss = critic_loss + uncertainty_error
            kl = module.uncertainty_kl()
        entropy = dist.entropy().mean()
        entropy_coeff = self.entropy_coeff_schedulers_per_module[module_id].get_current_value()
        total = (
            policy_loss
            + config.vf_loss_coeff * critic_loss.mean()
            - entropy_coeff * entropy
            + settings.kl_coeff * kl
        )
        self._step_stats.append(
            torch.stack(
                [policy_loss, value_error.mean(), entropy, alpha.mean(), batch[SampleColumn.WEIGHT].mean()]
            ).detach()
        )
        return total

    def _clip_eps(self, config) -> float:
        return self.vamappo_state.clip.current if self.settings.adaptive_clip else config.clip_param

    # --- per iteration ------------------------------------------------------------------------
    @override(PPOTorchLearner)
    def before_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        super().before_gradient_based_update(timesteps=timesteps)
        self._actor_before = self._actor_vector()

    @override(PPOTorchLearner)
    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        super().after_gradient_based_update(timesteps=timesteps)
        state = self.vamappo_state
        if self._actor_before is not None and self.settings.adaptive_clip:
            step = float((self._actor_vector() - self._actor_before).norm())
            state.clip.record(step)
        state.iteration += 1

    def _actor_vector(self) -> torch.Tensor:
        """The actor's parameters (every module parameter outside the critic parts) as one vector."""
        vectors = []
        for module in self.module.values():
            module = module.unwrapped()
            critic = tuple(f"{name}." for name in module.get_non_inference_attributes())
            vectors += [
                p.detach().reshape(-1) for n, p in module.named_parameters() if not n.startswith(critic)
            ]
        return torch.cat(vectors).clone()

    # --- checkpoints -------------------------------------------------------------------------
    @override(PPOTorchLearner)
    def get_state(self, components=None, *, not_components=None, **kwargs):
        state = super().get_state(components, not_components=not_components, **kwargs)
        state[STATE_KEY] = self.vamappo_state.to_dict()
        return state

    @override(PPOTorchLearner)
    def set_state(self, state) -> None:
        super().set_state(state)
        if STATE_KEY in state:
            self.vamappo_state.load_dict(state[STATE_KEY])


def _flatten(grads: tuple[torch.Tensor | None, ...], params: list[torch.Tensor]) -> torch.Tensor:
    """One flat gradient vector; parameters without a gradient contribute zeros. Shapes: -> (P,)."""
    return torch.cat([
        (grad if grad is not None else torch.zeros_like(param)).reshape(-1)
        for grad, param in zip(grads, params, strict=True)
    ])  # fmt: skip
