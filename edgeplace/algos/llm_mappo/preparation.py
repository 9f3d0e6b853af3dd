"""``edgeplace train metaverse-dag --algo llm-mappo``: the planner's memory first, then the RLlib run.

With the ``memory`` planner (the default) and no ``planner_options.memory_dir``, the run bootstraps its
planner (``edgeplace planners build-memory``) into ``RUN/planner_memory`` and trains in ``RUN/rllib``
with the env's planner loading it; both steps resume. The RLlib run's env config names its planner,
so its checkpoints record it. A sweep runs the preparation once and starts every trial from it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edgeplace.algos.checkpoints import latest_checkpoint
from edgeplace.algos.llm_mappo.build import DEFAULT_PLANNER
from edgeplace.algos.llm_mappo.memory_bootstrap import build_memory
from edgeplace.algos.llm_mappo.settings import MEMORY_DIR, RLLIB_DIR, LlmMappoSettings
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import TrainingResult, train
from edgeplace.planners.soft_plans.memory import STATE_FILE

PLANNER_KEYS = ("planner", "planner_options")


def prepare_planner(config: TrainConfig, run_dir: str | Path) -> TrainConfig:
    """The RLlib run's config: the env's planner named (``memory`` unless the env config says), and a
    ``memory`` planner without a memory given one bootstrapped into ``RUN/planner_memory`` (reused when
    it is there)."""
    env_config = dict(config.env_config)
    planner = env_config.setdefault("planner", DEFAULT_PLANNER)
    options = dict(env_config.get("planner_options") or {})
    if planner != "memory" or "memory_dir" in options:
        return config.replace(env_config=env_config)
    settings = LlmMappoSettings.from_dict(config.algo_options)
    memory = Path(run_dir) / MEMORY_DIR
    if not (memory / STATE_FILE).is_file():
        build_memory(
            memory,
            windows=settings.memory_windows,
            env_config={k: v for k, v in env_config.items() if k not in PLANNER_KEYS},
            seed=config.seed,
            epochs=settings.memory_epochs,
        )
    env_config["planner_options"] = {**options, "memory_dir": str(memory.resolve())}
    return config.replace(env_config=env_config)


def train_llm_mappo(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    on_iteration: Callable[[dict[str, float]], None] | None = None,
) -> TrainingResult:
    """Prepare the planner, then train (``resume``: from the RLlib run's latest checkpoint)."""
    run_dir = Path(run_dir)
    prepared = prepare_planner(config, run_dir)
    rllib_dir = run_dir / RLLIB_DIR
    return train(
        prepared,
        rllib_dir,
        resume=resume and latest_checkpoint(rllib_dir) is not None,
        on_iteration=on_iteration,
    )
