"""Experiment trackers of a sweep: Tune's TensorBoard, CSV and JSON loggers always; Weights & Biases
through Tune's ``WandbLoggerCallback`` when asked, offline unless the user configured W&B; and the
final upload of what they wrote."""

from __future__ import annotations

import os
from typing import Any

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


class FinalUpload(Callback):
    """Uploads the trials' logger files to the storage path once more when the experiment ends.

    Tune's loggers write each trial's files into a local staging directory
    (``/tmp/ray/session_*/artifacts/.../driver_artifacts``) that Tune uploads to ``storage_path`` now
    and then, the last time *before* the callbacks' ``on_experiment_end``, which is where Ray's W&B
    callback waits for its logging actors to call ``wandb.finish()``. A W&B actor starts its run a few
    seconds after its trial: without this upload, the offline run of a trial that ended last (and the
    end of the others) stays in the staging directory. Place it after the loggers.
    """

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        if not trials:
            return
        storage = trials[0].storage  # the experiment's: trials share its staging path and syncer
        storage.syncer.sync_up(storage.experiment_driver_staging_path, storage.experiment_fs_path)
        storage.syncer.wait()


def logger_callbacks(wandb_project: str | None) -> list[Callback]:
    """Tune's loggers, plus W&B's when ``wandb_project`` is given, then :class:`FinalUpload`.

    In offline mode this sets ``WANDB_MODE=offline`` in this process: Ray's W&B callback checks for an
    API key unless that variable says offline. The mode also goes to each trial's ``wandb.init``.
    """
    callbacks: list[Callback] = [CSVLoggerCallback(), JsonLoggerCallback(), TBXLoggerCallback()]
    if wandb_project is not None:
        mode = wandb_mode()
        if mode == WANDB_OFFLINE:
            os.environ.setdefault(WANDB_MODE_ENV, WANDB_OFFLINE)
        callbacks.append(WandbLoggerCallback(project=wandb_project, mode=mode))
    return [*callbacks, FinalUpload()]
