"""The Ray Serve application: one deployment, :class:`PlacementService`, behind a FastAPI ingress.

    serve run edgeplace.serve.app:build_app checkpoints=runs/quickstart/train
    serve run serve_config.yaml        # or: serve deploy serve_config.yaml

The checkpoints are resolved where the application is built (bad paths fail there, before any
replica starts); each replica restores the trained modules and answers on the routes of
:mod:`edgeplace.serve.routes`.
"""

from __future__ import annotations

from typing import Any

import torch
from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.placer import ScenarioPlacer
from edgeplace.serve.routes import create_api
from edgeplace.serve.scenarios import servable_scenarios
from edgeplace.serve.served_policies import ServedPolicies
from edgeplace.serve.settings import ServeArgs
from edgeplace.serve.sources import PolicySource, resolve_sources

PLACE_BATCH_SIZE = 32
"""``@serve.batch`` size of ``/place``: concurrent requests share one forward per stage."""
PLACE_BATCH_WAIT_S = 0.0
"""How long ``/place`` waits for more requests to fill a batch, seconds: 0 batches whatever queued
while the previous batch ran (no added latency at low load). Measured at concurrency 32 through
Serve's proxy: waiting 2 or 5 ms did not grow the batches (mean 7-8 requests either way), since
arrivals are paced by each request's body fetch from the proxy; it only added latency."""
MAX_ONGOING_REQUESTS = 128
"""Requests a replica takes at once (Serve's default, 5, starves batching and halves throughput)."""
AUTOSCALING = {"min_replicas": 1, "max_replicas": 2, "target_ongoing_requests": 64}
"""Replica autoscaling; override per deployment in serve_config.yaml."""
TORCH_THREADS = 1
"""Intra-op threads of a replica's forwards (small batches: more threads only add contention)."""


@serve.deployment(max_ongoing_requests=MAX_ONGOING_REQUESTS, autoscaling_config=AUTOSCALING)
@serve.ingress()
class PlacementService:
    """A replica: the served policies and their FastAPI app.

    Args:
        sources: resolved checkpoints (see :func:`edgeplace.serve.sources.resolve_sources`).
        args: the application's arguments.
    """

    def __init__(self, sources: list[PolicySource], args: ServeArgs) -> None:
        torch.set_num_threads(TORCH_THREADS)
        self.args = args
        self.policies = ServedPolicies(sources, top_k=args.top_k)

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_api(self.policies, self.place_one, self.args)

    @serve.batch(max_batch_size=PLACE_BATCH_SIZE, batch_wait_timeout_s=PLACE_BATCH_WAIT_S)
    async def place_one(
        self, placers: list[ScenarioPlacer], jobs: list[Any]
    ) -> list[bytes | ServeInputError]:
        """Place concurrent ``/place`` jobs together: each policy among them places its jobs with
        batched forwards; returns each job's placement JSON. Runs on the event loop: a compute
        thread would fight it for the GIL (measured: /place at concurrency 32 fell from ~190 to ~90
        requests/s)."""
        rows_by_placer: dict[int, list[int]] = {}
        for row, placer in enumerate(placers):
            rows_by_placer.setdefault(id(placer), []).append(row)
        documents: dict[int, bytes | ServeInputError] = {}
        for rows in rows_by_placer.values():
            placed = placers[rows[0]].place([jobs[row] for row in rows])
            documents.update(zip(rows, placed, strict=True))
        return [documents[row] for row in range(len(jobs))]


def build_app(args: dict[str, Any]) -> Application:
    """The application for ``args`` (the fields of :class:`ServeArgs`; ``serve run`` passes strings).

    Raises:
        pydantic.ValidationError: bad arguments, naming the field.
        CheckpointError, ValueError: a checkpoint that cannot be served.
    """
    settings = ServeArgs.model_validate(args)
    sources = resolve_sources(settings, servable_scenarios())
    deployment = PlacementService.options(ray_actor_options={"num_cpus": settings.replica_cpus})
    return deployment.bind(sources, settings)
