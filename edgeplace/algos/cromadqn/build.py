"""Build the RLlib DQNConfig of a CROMADQN-like run on metaverse-dag from a TrainConfig.

Mapping: ``timesteps`` is the budget in agent decisions (the epsilon schedule ends at
``epsilon_fraction`` of it, in env steps: ``timesteps / K``); ``seed``, ``env_config``, ``model``
(:class:`~edgeplace.models.branching_q_config.BranchingQConfig`), ``module_sharing`` (shared by default:
one module for all ECs), ``num_env_runners``, ``num_envs_per_env_runner``, ``num_learners`` and
``num_gpus_per_learner`` carry over; ``algo_options`` are :class:`CromadqnSettings`. TrainConfig's other
PPO fields (lr, batch sizes, epochs, gamma, ...) do not apply: a run that changes any of them is rejected,
naming them (set ``lr``, ``batch_size``, ``gamma`` in ``algo_options``).

The env runners store compact observations (:mod:`.compact_obs`): only what the Q module reads, so the
spec's 100k-step replay fits in memory.
"""

from __future__ import annotations

from ray.rllib.algorithms.dqn import DQNConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec

from edgeplace.algos.cromadqn.compact_obs import compact_connector
from edgeplace.algos.cromadqn.learner import CromadqnTorchLearner
from edgeplace.algos.cromadqn.settings import CromadqnSettings
from edgeplace.algos.kpi_callback import KPICallback
from edgeplace.algos.mappo import per_agent_policy_mapping, shared_policy_mapping
from edgeplace.algos.train_config import PPO_FIELDS, SHARED_MODULE_ID, ModuleSharing, TrainConfig
from edgeplace.envs.metaverse_dag.config import MetaverseDagConfig
from edgeplace.models.branching_q_module import branching_q_module_spec
from edgeplace.scenarios import get_scenario

#: The only planner CROMADQN runs with (static Eq. 20 reward, no plan in the observation).
PLANNER = "none"
#: TrainConfig's PPO fields that CROMADQN honours.
HONOURED_PPO_FIELDS = ("num_envs_per_env_runner",)
#: RLlib's episode replay buffer for multi-agent runs (capacity in env steps).
REPLAY_BUFFER = "MultiAgentEpisodeReplayBuffer"


def build_cromadqn_config(config: TrainConfig) -> DQNConfig:
    """The DQNConfig of a CROMADQN-like run (see the module docstring).

    Raises:
        ValueError: the env config names a planner other than ``none``, ``config`` changes a PPO field
            CROMADQN does not read, or a bad setting or model key.
    """
    ignored = config.changed_fields(tuple(f for f in PPO_FIELDS if f not in HONOURED_PPO_FIELDS))
    if ignored:
        raise ValueError(
            f"cromadqn does not read TrainConfig's PPO fields {ignored}; set its own settings in "
            "algo_options (lr, batch_size, gamma, ...)"
        )
    env_config = dict(config.env_config)
    planner = env_config.setdefault("planner", PLANNER)
    if planner != PLANNER:
        raise ValueError(f"cromadqn runs without a planner (planner {PLANNER!r}), got planner {planner!r}")
    settings = CromadqnSettings.from_dict(config.algo_options)
    module_spec = branching_q_module_spec(config.model)
    num_agents = MetaverseDagConfig.from_env_config(env_config).num_regions
    budget_env_steps = max(1, -(-config.timesteps // num_agents))
    if config.module_sharing is ModuleSharing.SHARED:
        module_ids, mapping_fn = {SHARED_MODULE_ID}, shared_policy_mapping
    else:
        agents = get_scenario(config.scenario).make_env(env_config).possible_agents
        module_ids, mapping_fn = set(agents), per_agent_policy_mapping
    return (
        DQNConfig()
        .environment(config.scenario, env_config=env_config, disable_env_checking=True)
        .multi_agent(policies=module_ids, policy_mapping_fn=mapping_fn, count_steps_by="env_steps")
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=dict.fromkeys(module_ids, module_spec)))
        .env_runners(
            num_env_runners=config.num_env_runners,
            num_envs_per_env_runner=config.num_envs_per_env_runner,
            rollout_fragment_length=settings.rollout_fragment_length,
            env_to_module_connector=compact_connector,
        )
        .learners(num_learners=config.num_learners, num_gpus_per_learner=config.num_gpus_per_learner)
        .training(
            learner_class=CromadqnTorchLearner,
            lr=settings.lr,
            gamma=settings.gamma,
            train_batch_size_per_learner=settings.batch_size,
            replay_buffer_config={"type": REPLAY_BUFFER, "capacity": settings.replay_capacity},
            epsilon=settings.epsilon_schedule(budget_env_steps),
            target_network_update_freq=settings.target_update_steps,
            num_steps_sampled_before_learning_starts=settings.learning_starts,
            training_intensity=settings.training_intensity,
            n_step=settings.n_step,
            grad_clip=settings.grad_clip,
            td_error_loss_fn="huber" if settings.huber else "mse",
            double_q=True,
            dueling=True,
            num_atoms=1,
        )
        .callbacks(KPICallback)
        .reporting(
            min_sample_timesteps_per_iteration=settings.iteration_steps,
            min_time_s_per_iteration=0,
            metrics_num_episodes_for_smoothing=100,
        )
        .debugging(seed=config.seed)
    )
