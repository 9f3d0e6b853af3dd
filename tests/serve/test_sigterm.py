"""``edgeplace serve`` stops cleanly on SIGTERM (what container runtimes send): it deletes the
application, exits 0 and leaves no process of the Ray it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import psutil

from tests.serve.conftest import START_TIMEOUT_S, free_port, wait_healthy

STOP_TIMEOUT_S = 120.0


def test_sigterm_deletes_the_app_exits_0_and_leaves_no_ray_process(tiny_checkpoint):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "RAY_ADDRESS"}  # its own local Ray
    command = [sys.executable, "-c", "from edgeplace.cli import main; main()",
               "serve", f"mappo={tiny_checkpoint}", "--port", str(port)]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10.0) as client:
            wait_healthy(client, START_TIMEOUT_S)
        ray_processes = psutil.Process(server.pid).children(recursive=True)
        assert ray_processes, "the server started no Ray processes"
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=STOP_TIMEOUT_S)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, output
    assert "SIGTERM received" not in output  # Ray core's aborting handler did not run
    _, alive = psutil.wait_procs(ray_processes, timeout=STOP_TIMEOUT_S)
    assert not alive, [process.name() for process in alive]
