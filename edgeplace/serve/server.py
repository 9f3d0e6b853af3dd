"""Start the placement API from Python or the CLI (``edgeplace serve``): Ray (embedded local by
default, a cluster with ``address``/``RAY_ADDRESS``), Serve's HTTP proxy, then the application."""

from __future__ import annotations

import os
import signal
import socket
from contextlib import ExitStack
from types import FrameType

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
HAPROXY_PORT_ENVS = ("RAY_SERVE_HAPROXY_STATS_PORT", "RAY_SERVE_HAPROXY_METRICS_PORT")
"""HAProxy's fixed side ports (8404, 9101): :func:`run_server` moves them to free ones unless set."""


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct TCP ports that are free on ``host`` now."""
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind((host, 0))
        return [probe.getsockname()[1] for probe in probes]


def serve_switches(*, throughput_optimized: bool, haproxy: bool) -> dict[str, str]:
    """Serve's environment switches for the chosen ingress (HAProxy implies throughput-optimised
    mode; its side ports go to free ones)."""
    switches = {THROUGHPUT_OPTIMIZED_ENV: "1"} if throughput_optimized or haproxy else {}
    if haproxy:
        switches[HAPROXY_ENV] = "1"
        ports = free_ports(len(HAPROXY_PORT_ENVS))
        switches |= {name: str(port) for name, port in zip(HAPROXY_PORT_ENVS, ports, strict=True)}
    return switches


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """A SIGTERM (what container runtimes and process managers send) stops the server as Ctrl-C does:
    the application is deleted and the process exits 0, instead of Ray's core aborting with a stack
    dump."""
    raise KeyboardInterrupt


def run_server(
    checkpoints: list[str],
    *,
    port: int = DEFAULT_PORT,
    address: str | None = None,
    blocking: bool = True,
    host: str = "127.0.0.1",
    topology: str | None = None,
    throughput_optimized: bool = True,
    haproxy: bool = False,
) -> str:
    """Serve ``checkpoints`` (each ``[NAME=]PATH`` or ``[NAME=]rule:SCENARIO[:CONTROLLER]``) on
    ``http://host:port``; returns that URL.

    Args:
        checkpoints: algorithm checkpoints or run directories, or checkpoint-free rule controllers; the
            first of each scenario is its default policy.
        port, host: where the HTTP ingress listens (``0.0.0.0`` to accept other machines).
        address: Ray cluster address; None uses ``RAY_ADDRESS`` or starts a local Ray.
        blocking: serve until interrupted (Ctrl-C or SIGTERM), then delete the application and return; False
            returns once the application is up.
        topology: place on this topology URI instead of each checkpoint's training one (zero-shot).
        throughput_optimized: set ``RAY_SERVE_THROUGHPUT_OPTIMIZED=1`` unless the environment sets
            it (see bench/serve_load.py; :data:`HAPROXY_ENV` is a further opt-in). Takes effect only
            for a Ray started here: a cluster keeps the settings it was started with.
        haproxy: also set :data:`HAPROXY_ENV` (HAProxy in front of the replicas' own HTTP servers),
            with its side ports on free ones unless the environment names them; same caveat.

    Raises:
        pydantic.ValidationError, CheckpointError, ValueError: arguments or checkpoints that cannot
            be served, before anything starts.
    """
    for name, value in serve_switches(throughput_optimized=throughput_optimized, haproxy=haproxy).items():
        os.environ.setdefault(name, value)
    # Serve reads its settings from the environment when it is imported: import it only now.
    from ray import serve

    from edgeplace.serve.app import build_app

    app = build_app({"checkpoints": checkpoints, "topology": topology})
    ensure_ray(address)
    if blocking:  # after ray.init, whose core installs its own aborting SIGTERM handler
        signal.signal(signal.SIGTERM, stop_on_sigterm)
    serve.start(http_options={"host": host, "port": port})
    try:
        serve.run(app, name=APP_NAME, route_prefix="/", blocking=blocking)
    except KeyboardInterrupt:
        # As `serve run` does, Ctrl-C takes the application down; without waiting for the replicas'
        # 30 s direct-ingress drain (a local Ray goes away with this process anyway).
        serve.delete(APP_NAME, _blocking=False)
    return f"http://{host}:{port}"
