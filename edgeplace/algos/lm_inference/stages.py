"""``edgeplace train lm-inference --algo learned``: staged bottom-up training (spec d, "Training"). Stage
A trains the deployers while the reference's rules play the planner (uniform) and the scheduler (JSQ),
B adds the scheduler, C the planner; each stage is an ordinary edgeplace run in ``RUN/stage_<x>`` whose
modules start from the previous stage's final checkpoint (modules new to a stage start fresh).

With the option ``imitate``, every module first learns to copy a rule controller
(:mod:`.imitation`) into ``RUN/imitation``, and the first stage starts from those modules.

The run's ``timesteps`` (agent decisions) are split evenly over its stages. The stages before the last
are its preparation (:func:`prepare_stages`, like AgentVNE's pre-training): one that holds its final
checkpoint is skipped, an interrupted one resumed; a sweep runs them once and tunes the last stage.
Asking a finished run for more steps continues only its last stage; an earlier stage that would need
more steps while a later one exists is refused, since the later stage started from it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from edgeplace.algos.checkpoints import METADATA_FILE, latest_checkpoint, read_metadata
from edgeplace.algos.lm_inference.imitation import imitate, imitation_dir
from edgeplace.algos.lm_inference.settings import (
    FINAL_STAGE,
    IMITATION_OPTIONS,
    STAGE_SCRIPTED,
    LearnedSettings,
    stage_dir_name,
)
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import CURVE_FILE, METRICS_FILE, TrainingResult, train
from edgeplace.envs.lm_inference.agents import PLANNER
from edgeplace.envs.lm_inference.config import LmInferenceConfig

STAGE_COLUMN, SLOTS_COLUMN = "stage", "slots"


def stage_dir(run_dir: str | Path, stage: str) -> Path:
    """Where stage ``stage`` of a staged run trains."""
    return Path(run_dir) / stage_dir_name(stage)


def stage_config(
    config: TrainConfig, stage: str, timesteps: int, initial_modules: Path | None
) -> TrainConfig:
    """The edgeplace run of ``stage``: ``timesteps`` decisions, its agents scripted, starting from the
    modules of ``initial_modules`` (the imitation options stay with the staged run)."""
    options = {key: v for key, v in config.algo_options.items() if key not in IMITATION_OPTIONS}
    options["stages"] = FINAL_STAGE
    if initial_modules is not None:
        options["initial_modules"] = str(initial_modules)
    env_config = {**config.env_config, "scripted_agents": list(STAGE_SCRIPTED[stage])}
    return config.replace(timesteps=timesteps, env_config=env_config, algo_options=options)


def prepare_stages(
    config: TrainConfig,
    run_dir: str | Path,
    on_iteration: Callable[[dict[str, float]], None] | None = None,
) -> TrainConfig:
    """Train every stage of ``config`` but the last into ``run_dir`` (skipping finished stages,
    resuming interrupted ones) and return the last stage's run config, which starts from their
    modules. A sweep runs this once and tunes the last stage.

    Raises:
        ValueError: an earlier stage needs more steps while a later stage has started from it.
    """
    settings = LearnedSettings.from_options(config.algo_options)
    stages = list(settings.stages)
    per_stage = max(1, -(-config.timesteps // len(stages)))
    previous = Path(settings.initial_modules) if settings.initial_modules else None
    if settings.imitate is not None:
        previous = warm_start(config, run_dir, settings)
    for index, stage in enumerate(stages[:-1]):
        directory = stage_dir(run_dir, stage)
        checkpoint = latest_checkpoint(directory)
        if checkpoint is not None and read_metadata(checkpoint)["timesteps"] >= per_stage:
            previous = checkpoint
            continue
        later = [s for s in stages[index + 1 :] if latest_checkpoint(stage_dir(run_dir, s)) is not None]
        if later:
            raise ValueError(
                f"{run_dir}: stage {stage} has not trained its {per_stage} decisions, but stage {later[0]} "
                "already started from it; train into a new run directory"
            )
        report = None if on_iteration is None else _offset_timesteps(on_iteration, index * per_stage)
        stage_run = stage_config(config, stage, per_stage, previous)
        previous = train(stage_run, directory, resume=checkpoint is not None, on_iteration=report).checkpoint
    return stage_config(config, stages[-1], per_stage, previous)


def warm_start(config: TrainConfig, run_dir: str | Path, settings: LearnedSettings) -> Path:
    """The modules imitating ``settings.imitate`` in ``run_dir`` (trained unless already there).

    Raises:
        ValueError: they are missing while a stage has already started without them.
    """
    directory = imitation_dir(run_dir)
    started = [s for s in settings.stages if latest_checkpoint(stage_dir(run_dir, s)) is not None]
    if started and not (directory / METADATA_FILE).is_file():
        raise ValueError(
            f"{run_dir}: stage {started[0]} already started without imitating {settings.imitate}; "
            "train into a new run directory"
        )
    return imitate(config, directory, settings.imitate, settings.imitation_slots)


def train_staged(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    on_iteration: Callable[[dict[str, float]], None] | None = None,
) -> TrainingResult:
    """Train the stages of ``config`` (see the module docstring) into ``run_dir``; returns the last
    stage's result. ``resume`` continues the last stage from its latest checkpoint (earlier stages
    always resume). ``on_iteration`` rows count timesteps over the whole staged run."""
    last = prepare_stages(config, run_dir, on_iteration)
    stages = LearnedSettings.from_options(config.algo_options).stages
    directory = stage_dir(run_dir, stages[-1])
    report = None
    if on_iteration is not None:
        report = _offset_timesteps(on_iteration, (len(stages) - 1) * last.timesteps)
    checkpoint = latest_checkpoint(directory) if resume else None
    if checkpoint is not None and read_metadata(checkpoint)["timesteps"] >= last.timesteps:
        return finished_result(directory, checkpoint)
    return train(last, directory, resume=checkpoint is not None, on_iteration=report)


def finished_result(directory: Path, checkpoint: Path) -> TrainingResult:
    """The result of a stage that holds its final checkpoint (nothing is built or trained)."""
    metadata = read_metadata(checkpoint)
    return TrainingResult(
        run_dir=directory,
        checkpoint=checkpoint,
        metrics_csv=directory / METRICS_FILE,
        curve_png=directory / CURVE_FILE,
        timesteps=metadata["timesteps"],
        iterations=metadata["iteration"],
        wall_s=metadata["wall_s"],
    )


def _offset_timesteps(
    on_iteration: Callable[[dict[str, float]], None], offset: int
) -> Callable[[dict[str, float]], None]:
    return lambda row: on_iteration({**row, "timesteps": row["timesteps"] + offset})


def decisions_per_slot(checkpoint: Path) -> float:
    """Decisions a stage's learning agents make per slot: one per slot-level agent, 1 / epoch_slots for
    a learning planner (from the checkpoint's metadata)."""
    metadata = read_metadata(checkpoint)
    epoch_slots = LmInferenceConfig.from_env_config(metadata["train_config"]["env_config"]).epoch_slots
    agents = metadata["agent_modules"]
    return len(agents) - (PLANNER in agents) + (PLANNER in agents) / epoch_slots


def staged_metrics(run_dir: str | Path) -> pd.DataFrame:
    """Every stage's per-iteration metrics in order, with a ``stage`` column, ``timesteps`` counted over
    the whole staged run (each stage's own count plus the decisions of the stages before it) and
    ``slots``, the simulated training slots so far (each stage's decisions over its decisions per
    slot)."""
    frames, offset, slots = [], 0, 0.0
    for stage in STAGE_SCRIPTED:
        directory = stage_dir(run_dir, stage)
        checkpoint = latest_checkpoint(directory)
        if checkpoint is None or not (directory / METRICS_FILE).is_file():
            continue
        frame = pd.read_csv(directory / METRICS_FILE).assign(**{STAGE_COLUMN: stage})
        frame[SLOTS_COLUMN] = slots + frame["timesteps"] / decisions_per_slot(checkpoint)
        frame["timesteps"] += offset
        if len(frame):
            offset, slots = int(frame["timesteps"].iloc[-1]), float(frame[SLOTS_COLUMN].iloc[-1])
        frames.append(frame)
    if not frames:
        raise FileNotFoundError(f"{run_dir}: no stage holds {METRICS_FILE}")
    return pd.concat(frames, ignore_index=True)
