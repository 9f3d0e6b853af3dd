"""Ray start-up for the CLI: an embedded local Ray by default, a cluster via ``--address``/``RAY_ADDRESS``."""

from __future__ import annotations

import logging
import os

import ray

LOCAL_RAY = "local"
"""``ray.init`` address that always starts a new local Ray (None would join any Ray already running on
this machine, e.g. another command's)."""


def ensure_ray(address: str | None = None) -> None:
    """Connect to ``address`` (or ``RAY_ADDRESS``; ``auto`` joins the Ray running on this machine), else
    start a quiet local Ray of our own; no-op if connected."""
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or LOCAL_RAY
    ray.init(
        address=address,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=address != LOCAL_RAY,
        configure_logging=True,
    )
