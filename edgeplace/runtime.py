"""Ray start-up for the CLI: an embedded local Ray by default, a cluster via ``--address``/``RAY_ADDRESS``."""

from __future__ import annotations

import logging
import os

import ray


def ensure_ray(address: str | None = None) -> None:
    """Connect to ``address`` (or ``RAY_ADDRESS``), else start a quiet local Ray; no-op if connected."""
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS")
    ray.init(
        address=address,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=address is not None,
        configure_logging=True,
    )
