"""Start the placement API from Python or the CLI (``edgeplace serve``): Ray (embedded local by
default, a cluster with ``address``/``RAY_ADDRESS``), Serve's HTTP proxy, then the application."""

from __future__ import annotations

import os

from edgeplace.runtime import ensure_ray

APP_NAME = "edgeplace"
DEFAULT_PORT = 8000
THROUGHPUT_OPTIMIZED_ENV = "RAY_SERVE_THROUGHPUT_OPTIMIZED"
"""Serve's switch for its throughput-optimised mode (direct ingress, fewer threads and hops)."""
HAPROXY_ENV = "RAY_SERVE_ENABLE_HA_PROXY"
"""Serve's opt-in switch for HAProxy (bundled by ``ray[serve]`` on Linux) as the HTTP ingress in
front of the replicas' own HTTP servers, in throughput-optimised mode. bench/serve_load.py: about 3x
the /place throughput of Serve's proxy actor on 2 cores, which fetches each request body with an
extra actor call. Not the default: it binds fixed stats and metrics ports (8404, 9101; env
``RAY_SERVE_HAPROXY_STATS_PORT`` / ``_METRICS_PORT``) on all interfaces, so one deployment per
machine, and an haproxy outlives a Ray that is killed rather than stopped, blocking the next start."""


def run_server(
    checkpoints: list[str],
    *,
    port: int = DEFAULT_PORT,
    address: str | None = None,
    blocking: bool = True,
    host: str = "127.0.0.1",
    topology: str | None = None,
    throughput_optimized: bool = True,
) -> str:
    """Serve ``checkpoints`` (each ``[NAME=]PATH``) on ``http://host:port``; returns that URL.

    Args:
        checkpoints: algorithm checkpoints or run directories; the first is the default policy.
        port, host: where the HTTP ingress listens (``0.0.0.0`` to accept other machines).
        address: Ray cluster address; None uses ``RAY_ADDRESS`` or starts a local Ray.
        blocking: serve until interrupted (Ctrl-C), then delete the application and return; False
            returns once the application is up.
        topology: place on this topology URI instead of each checkpoint's training one (zero-shot).
        throughput_optimized: set ``RAY_SERVE_THROUGHPUT_OPTIMIZED=1`` unless the environment sets
            it (see bench/serve_load.py; :data:`HAPROXY_ENV` is a further opt-in). Takes effect only
            for a Ray started here: a cluster keeps the settings it was started with.

    Raises:
        pydantic.ValidationError, CheckpointError, ValueError: arguments or checkpoints that cannot
            be served, before anything starts.
    """
    if throughput_optimized:
        os.environ.setdefault(THROUGHPUT_OPTIMIZED_ENV, "1")
    # Serve reads its settings from the environment when it is imported: import it only now.
    from ray import serve

    from edgeplace.serve.app import build_app

    app = build_app({"checkpoints": checkpoints, "topology": topology})
    ensure_ray(address)
    serve.start(http_options={"host": host, "port": port})
    try:
        serve.run(app, name=APP_NAME, route_prefix="/", blocking=blocking)
    except KeyboardInterrupt:
        # As `serve run` does, Ctrl-C takes the application down; without waiting for the replicas'
        # 30 s direct-ingress drain (a local Ray goes away with this process anyway).
        serve.delete(APP_NAME, _blocking=False)
    return f"http://{host}:{port}"
