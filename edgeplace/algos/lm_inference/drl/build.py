"""The two tiers' RLlib configs (stock algorithms, new API stack): PPO with one shared
:class:`MaskedMlpModule` for the six origins (MAPPO: the critic also reads ``global_state``), and DQN
with one :class:`MaskedQModule` per node (independent learners). Each trains on a :class:`DrlTierEnv`
of its tier; the env runner lives in the driver, so the trainer can hand the frozen tier to its envs.
"""

from __future__ import annotations

import dataclasses

from ray.rllib.algorithms.dqn import DQNConfig
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from edgeplace.algos.lm_inference.drl.settings import DrlSettings
from edgeplace.algos.lm_inference.learned import AgentModules
from edgeplace.envs.lm_inference.config import LmInferenceConfig
from edgeplace.envs.lm_inference.drl import DrlObs, DrlTierEnv, Tier, tier_agents
from edgeplace.models.masked_mlp_module import MaskedMlpModule
from edgeplace.models.masked_q_module import MaskedQModule

UPPER_MODULE = "router"
"""The upper tier's module, shared by the six origins."""
REPLAY_BUFFER = "MultiAgentEpisodeReplayBuffer"


def agent_modules(lm: LmInferenceConfig, tier: Tier) -> dict[str, str]:
    """Agent id -> module id: every origin -> :data:`UPPER_MODULE`; each node its own module (its id)."""
    agents = tier_agents(lm.cluster(), tier)
    return {agent: UPPER_MODULE if tier is Tier.UPPER else agent for agent in agents}


def tier_env_config(lm: LmInferenceConfig, tier: Tier) -> dict:
    """The RLlib ``env_config`` of a tier env (plain values)."""
    return {"tier": tier.value, "lm": dataclasses.asdict(lm)}


def upper_config(lm: LmInferenceConfig, settings: DrlSettings, seed: int) -> PPOConfig:
    """PPO (MAPPO) of the routing tier."""
    mapping = agent_modules(lm, Tier.UPPER)
    own = [str(DrlObs.OWN)]
    critic = [*own, str(DrlObs.GLOBAL_STATE)]
    model = {"actor_inputs": own, "critic_inputs": critic, "hidden": settings.hidden}
    spec = RLModuleSpec(module_class=MaskedMlpModule, model_config=model)
    return (
        PPOConfig()
        .environment(DrlTierEnv, env_config=tier_env_config(lm, Tier.UPPER), disable_env_checking=True)
        .multi_agent(policies={UPPER_MODULE}, policy_mapping_fn=AgentModules(mapping))
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={UPPER_MODULE: spec}))
        .env_runners(num_env_runners=0, num_envs_per_env_runner=settings.num_envs)
        .training(
            train_batch_size_per_learner=settings.ppo_batch_slots,
            minibatch_size=settings.ppo_minibatch_size,
            num_epochs=settings.ppo_epochs,
            lr=settings.ppo_lr,
            gamma=settings.ppo_gamma,
            lambda_=settings.ppo_lambda,
            clip_param=settings.ppo_clip,
            entropy_coeff=settings.ppo_entropy,
        )
        .debugging(seed=seed)
    )


def lower_config(lm: LmInferenceConfig, settings: DrlSettings, seed: int) -> DQNConfig:
    """Independent DQN of the deployment tier: one Q-module per node, masked, with the spec's lr, replay,
    epsilon schedule and target update (in slots)."""
    mapping = agent_modules(lm, Tier.LOWER)
    model = {"inputs": [str(DrlObs.OWN)], "hidden": settings.hidden}
    specs = {mid: RLModuleSpec(module_class=MaskedQModule, model_config=model) for mid in mapping.values()}
    return (
        DQNConfig()
        .environment(DrlTierEnv, env_config=tier_env_config(lm, Tier.LOWER), disable_env_checking=True)
        .multi_agent(policies=set(specs), policy_mapping_fn=AgentModules(mapping))
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=specs))
        .env_runners(
            num_env_runners=0,
            num_envs_per_env_runner=settings.num_envs,
            rollout_fragment_length=settings.dqn_fragment_slots,
        )
        .training(
            lr=settings.dqn_lr,
            gamma=settings.dqn_gamma,
            train_batch_size_per_learner=settings.dqn_batch_size,
            replay_buffer_config={"type": REPLAY_BUFFER, "capacity": settings.replay_capacity},
            epsilon=[[0, settings.epsilon_start], [settings.epsilon_slots, settings.epsilon_end]],
            target_network_update_freq=settings.target_update_slots,
            num_steps_sampled_before_learning_starts=settings.learning_starts_slots,
            double_q=True,
            dueling=False,
            num_atoms=1,
        )
        .debugging(seed=seed)
    )
