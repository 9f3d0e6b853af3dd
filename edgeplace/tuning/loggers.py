"""Experiment trackers of a sweep: Tune's TensorBoard, CSV and JSON loggers always; Weights & Biases
through Tune's ``WandbLoggerCallback`` when asked, offline unless the user configured W&B."""

from __future__ import annotations

import os

from ray.air.integrations.wandb import WandbLoggerCallback
from ray.tune import Callback
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback, TBXLoggerCallback

#: W&B's own environment variables.
WANDB_MODE_ENV = "WANDB_MODE"
WANDB_API_KEY_ENV = "WANDB_API_KEY"
WANDB_OFFLINE = "offline"
WANDB_ONLINE = "online"


def wandb_mode() -> str:
    """``WANDB_MODE`` if set; ``online`` if an API key is configured (env var or ``wandb login``);
    else ``offline`` (runs are written locally; ``wandb sync`` uploads them later)."""
    if os.environ.get(WANDB_MODE_ENV):
        return os.environ[WANDB_MODE_ENV]
    if os.environ.get(WANDB_API_KEY_ENV):
        return WANDB_ONLINE
    import wandb

    return WANDB_ONLINE if wandb.login(prompt=False, verify=False) else WANDB_OFFLINE


def logger_callbacks(wandb_project: str | None) -> list[Callback]:
    """Tune's loggers, plus W&B's when ``wandb_project`` is given.

    In offline mode this sets ``WANDB_MODE=offline`` in this process: Ray's W&B callback checks for an
    API key unless that variable says offline. The mode also goes to each trial's ``wandb.init``.
    """
    callbacks: list[Callback] = [CSVLoggerCallback(), JsonLoggerCallback(), TBXLoggerCallback()]
    if wandb_project is not None:
        mode = wandb_mode()
        if mode == WANDB_OFFLINE:
            os.environ.setdefault(WANDB_MODE_ENV, WANDB_OFFLINE)
        callbacks.append(WandbLoggerCallback(project=wandb_project, mode=mode))
    return callbacks
