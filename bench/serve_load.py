"""Load benchmark of the placement API on loopback (not in CI).

For each Serve mode (``default``; ``throughput-optimized``: ``RAY_SERVE_THROUGHPUT_OPTIMIZED=1``,
what ``edgeplace serve`` uses; ``haproxy``: that plus the HAProxy ingress, ``edgeplace serve
--haproxy``) a child process serves the checkpoint with :func:`edgeplace.serve.server.run_server` on
a fresh local Ray; ``wrk`` (a C client in its own process: ``apt-get install -y wrk``) drives
``/healthz`` (the no-op floor of the same deployment), ``/place`` with an unknown policy (a 404 once
the body is read and validated: the floor of a POST of that size), ``/place`` and ``/place-batch``
(64 requests on one state) at concurrency 1, 8 and 32. Prints p50/p99 latency, requests/s, agent
decisions/s and the ratios to ``/healthz`` of the same run, plus the bare in-process time of the same
module and placer. ``--fuzz N`` then runs
schemathesis (all checks, N examples per operation) against the ``edgeplace serve`` mode.

Targets on 2 cores: ``/place`` at concurrency 32 >= 70% of ``/healthz`` requests/s; ``/place`` p50
at concurrency 1 within 5 ms of ``/healthz``; ``/place-batch`` >= 3,000 decisions/s.

    python bench/serve_load.py [--checkpoint RUN] [--duration 8] [--fuzz 400] [--mode MODE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import ray
import torch

from edgeplace.algos.checkpoints import read_metadata, resolve_checkpoint
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import train
from edgeplace.envs.genai_chain import GenAIChainConfig
from edgeplace.serve.genai_chain_placer import ChainPlacer
from edgeplace.serve.routes import Route
from edgeplace.serve.schemas import ChainPlaceBatchRequest, ChainPlaceRequest
from edgeplace.serve.server import HAPROXY_ENV, THROUGHPUT_OPTIMIZED_ENV, serve_switches
from edgeplace.topology import load_topology
from edgeplace.workloads.genai_chain import NUM_STAGES, load_workload

SCENARIO = "genai-chain"
TOPOLOGY = "synthetic:genai-small"
CONCURRENCY = (1, 8, 32)
BATCH_REQUESTS = 64
SERVE_MODE = "throughput-optimized"
"""The mode of ``edgeplace serve`` (run_server's default)."""
MODES = {
    "default": {"throughput_optimized": False, "haproxy": False},
    SERVE_MODE: {"throughput_optimized": True, "haproxy": False},
    "haproxy": {"throughput_optimized": True, "haproxy": True},
}
"""Serve modes by name: the ``run_server`` switches of each."""
SWITCHES_OFF = {THROUGHPUT_OPTIMIZED_ENV: "0", HAPROXY_ENV: "0"}
SERVER_START_TIMEOUT_S = 180.0
REJECTED = {"policy": "no-such-policy"}
"""Makes a /place body a 404 once read and validated (see ``Endpoint.rejected``)."""
WRK_LUA = """wrk.method = "{method}"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "rb")
wrk.body = f and f:read("*a") or nil
"""
_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class Endpoint:
    """A load target: path, method, JSON body (None for GET) and agent decisions per call.

    ``rejected``: the body names an unknown policy, so every call is a 404 after the body is read
    and validated: Serve's floor for a POST of this size, placement excluded.
    """

    label: str
    path: str
    body: dict | None
    decisions: int
    rejected: bool = False


@dataclass(frozen=True)
class LoadResult:
    p50_ms: float
    p99_ms: float
    requests_s: float
    errors: int


def train_checkpoint(out: Path) -> Path:
    """A short MAPPO run with the default module on TOPOLOGY (about a minute on 2 cores)."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        config = TrainConfig(
            env_config={"topology": TOPOLOGY},
            timesteps=2048,
            train_batch_size=1024,
            minibatch_size=256,
            num_epochs=2,
            num_envs_per_env_runner=16,
            checkpoint_every=2,
        )
        return train(config, out).checkpoint
    finally:
        ray.shutdown()


def sample_bodies(num_nodes: int, seed: int = 0) -> tuple[dict, dict]:
    """A /place and a /place-batch body on one random network state (test-split-like requests)."""
    rng = np.random.default_rng(seed)
    requests = load_workload(TOPOLOGY).split("test")
    state = {
        "load": np.round(rng.uniform(0, 30, num_nodes), 3).tolist(),
        "telemetry": np.round(rng.exponential(0.05, num_nodes), 4).tolist(),
    }
    chain = [
        {
            "route": requests.route[row].tolist(),
            "omega": round(float(requests.omega[row]), 4),
            "size_scale": round(float(requests.size_scale[row]), 4),
            "access_node": int(requests.access_node[row]),
        }
        for row in range(BATCH_REQUESTS)
    ]
    return {"state": state, "request": chain[0]}, {"state": state, "requests": chain}


def bare_times_ms(
    checkpoint: Path, place_body: dict, batch_body: dict, repeats: int = 200
) -> dict[str, float]:
    """In-process medians: one stage forward (B=1, B=64) and the whole placer (1, 32 and 64 requests:
    a lone /place, a full /place batch at concurrency 32, a /place-batch call)."""
    torch.set_num_threads(1)
    policy = ModulePolicy.from_checkpoint(checkpoint)
    config = GenAIChainConfig.from_env_config(read_metadata(checkpoint)["env_config"])
    placer = ChainPlacer(policy, config, top_k=5)
    one, batch = (
        ChainPlaceRequest.model_validate(place_body),
        ChainPlaceBatchRequest.model_validate(batch_body),
    )
    state = placer.check_state(one.state)

    def jobs(requests):
        return [placer.request_job(state, request, field="request") for request in requests]

    observation = placer.observer.observe(jobs([one.request])[0].progress, state.load, state.telemetry)
    agent = placer.agent_ids[0]

    def median_ms(fn) -> float:
        fn()
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - start) * 1e3)
        return statistics.median(runs)

    return {
        "forward B=1": median_ms(lambda: policy.logits([agent], [observation])),
        f"forward B={BATCH_REQUESTS}": median_ms(
            lambda: policy.logits([agent] * BATCH_REQUESTS, [observation] * BATCH_REQUESTS)
        ),
        "placer 1 request (5 stages)": median_ms(lambda: placer.place(jobs([one.request]))),
        "placer 32 requests": median_ms(lambda: placer.place(jobs(batch.requests[:32]))),
        f"placer {BATCH_REQUESTS} requests": median_ms(lambda: placer.place(jobs(batch.requests))),
    }


def parse_wrk(output: str) -> LoadResult:
    """p50/p99 latency, requests/s and non-2xx count from ``wrk --latency`` output."""

    def latency_ms(percent: str) -> float:
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        if not match:
            raise ValueError(f"no {percent}% line in wrk output:\n{output}")
        return float(match.group(1)) * _UNITS_S[match.group(2)] * 1e3

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if rate is None:
        raise ValueError(f"no Requests/sec in wrk output:\n{output}")
    failed = int(errors.group(1)) if errors else 0
    if socket_errors:
        failed += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return LoadResult(latency_ms("50"), latency_ms("99"), float(rate.group(1)), failed)


def run_wrk(url: str, endpoint: Endpoint, concurrency: int, duration_s: float, workdir: Path) -> LoadResult:
    """One wrk run (one thread, ``concurrency`` connections) after a short warm-up."""
    body_file = workdir / f"{endpoint.label}.json"
    script = workdir / f"{endpoint.label}.lua"
    body_file.write_text(json.dumps(endpoint.body) if endpoint.body is not None else "")
    method = "GET" if endpoint.body is None else "POST"
    script.write_text(WRK_LUA.format(method=method, body=body_file))
    options = ["-t1", f"-c{concurrency}", "--latency", "--timeout", "10s", "-s", str(script)]

    def wrk(duration_s: float) -> list[str]:
        return ["wrk", *options, f"-d{duration_s:g}s", url + endpoint.path]

    subprocess.run(wrk(2.0), capture_output=True, check=True)  # warm-up
    done = subprocess.run(wrk(duration_s), capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def wait_healthy(url: str, server: subprocess.Popen, timeout_s: float) -> None:
    """Poll /healthz until 200, the server exits, or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            if httpx.get(url + Route.HEALTH, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not healthy after {timeout_s:.0f} s")


def start_server(checkpoint: Path, port: int, mode: dict[str, bool]) -> subprocess.Popen:
    """A child process running ``run_server`` on a fresh local Ray with the mode's Serve settings."""
    code = (  # a fresh Ray of its own, quiet like `edgeplace serve`'s (no worker logs to the driver)
        "import ray; from edgeplace.serve.server import run_server; "
        "ray.init(address='local', include_dashboard=False, log_to_driver=False); "
        f"run_server([{str(checkpoint)!r}], port={port}, blocking=True)"
    )
    env = os.environ | SWITCHES_OFF | serve_switches(**mode)
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.terminate()
        server.wait(timeout=30)


def run_fuzz(url: str, examples: int, workdir: Path) -> str:
    """Schemathesis over the served OpenAPI (all checks); returns its summary line."""
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json", "--checks", "all"]
    command += ["-n", str(examples)]
    command += ["--seed", "0", "-w", "1", "--report", "json", "--report-dir", str(workdir)]
    done = subprocess.run(command, capture_output=True, text=True)
    summary = [line.strip() for line in done.stdout.splitlines() if "generated" in line]
    verdict = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    return f"{summary[-1] if summary else '?'} | {verdict} (exit {done.returncode})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="checkpoint or run dir (default: train one)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--port", type=int, default=8321)
    parser.add_argument("--fuzz", type=int, default=0, help="schemathesis examples per operation (0: skip)")
    parser.add_argument(
        "--mode", choices=list(MODES), action="append", help="Serve mode(s) to run (default: all)"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="serve_load_"))
    checkpoint = resolve_checkpoint(args.checkpoint or train_checkpoint(workdir / "run"))
    place_body, batch_body = sample_bodies(load_topology(TOPOLOGY).num_nodes)
    endpoints = [
        Endpoint("healthz", Route.HEALTH, None, 0),
        Endpoint("place-rejected", Route.PLACE.of(SCENARIO), place_body | REJECTED, 0, rejected=True),
        Endpoint("place", Route.PLACE.of(SCENARIO), place_body, NUM_STAGES),
        Endpoint("place-batch", Route.PLACE_BATCH.of(SCENARIO), batch_body, NUM_STAGES * BATCH_REQUESTS),
    ]
    print(f"checkpoint: {checkpoint}")
    for label, ms in bare_times_ms(checkpoint, place_body, batch_body).items():
        print(f"bare in-process {label:<28} {ms:8.3f} ms")
    url = f"http://127.0.0.1:{args.port}"
    for mode in args.mode or list(MODES):
        server = start_server(checkpoint, args.port, MODES[mode])
        try:
            wait_healthy(url, server, SERVER_START_TIMEOUT_S)
            results = {
                (endpoint.label, c): run_wrk(url, endpoint, c, args.duration, workdir)
                for c in CONCURRENCY
                for endpoint in endpoints
            }
            print_table(mode, endpoints, results)
            if args.fuzz and mode == SERVE_MODE:
                print(
                    f"schemathesis ({args.fuzz} examples per operation): {run_fuzz(url, args.fuzz, workdir)}"
                )
        finally:
            stop_server(server)


def print_table(mode: str, endpoints: list[Endpoint], results: dict[tuple[str, int], LoadResult]) -> None:
    print(f"\n## Serve mode: {mode}")
    header = (
        "| endpoint | conc. | p50 ms | p99 ms | req/s | decisions/s | req/s vs healthz "
        "| p50 - healthz ms | errors |"
    )
    print(header + "\n|" + "---|" * (header.count("|") - 1))
    for c in CONCURRENCY:
        floor = results["healthz", c]
        for endpoint in endpoints:
            r = results[endpoint.label, c]
            label = f"{endpoint.path} (404: unknown policy)" if endpoint.rejected else endpoint.path
            errors = "all 404 (by design)" if endpoint.rejected else r.errors
            print(
                f"| {label} | {c} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.requests_s:,.0f} | "
                f"{r.requests_s * endpoint.decisions:,.0f} | {r.requests_s / floor.requests_s:.2f} | "
                f"{r.p50_ms - floor.p50_ms:+.2f} | {errors} |"
            )


if __name__ == "__main__":
    main()
