"""Arguments of the placement application: ``serve run edgeplace.serve.app:build_app key=value ...``,
the ``args`` of ``serve_config.yaml``, or :func:`edgeplace.serve.server.run_server`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from edgeplace.serve.schemas import MAX_BATCH_REQUESTS

MAX_TOP_K = 20
"""Largest ``top_k``: candidates listed per stage in a response."""


class CheckpointSpec(BaseModel):
    """One policy to serve. Written ``[NAME=]PATH`` on a command line, or as a mapping in YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1, description="Algorithm checkpoint, or a run directory (its latest).")
    name: str | None = Field(default=None, description="Name in the API; default: the checkpoint's algo.")
    topology: str | None = Field(
        default=None, description="Topology URI to place on instead of the training one (zero-shot)."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """``"mappo=runs/x"`` -> ``{"name": "mappo", "path": "runs/x"}``; ``"runs/x"`` -> no name."""
        if isinstance(value, str):
            name, _, path = value.rpartition("=")
            return {"path": path, "name": name or None}
        return value


class ServeArgs(BaseModel):
    """Everything that configures one placement application (deployment knobs such as replicas and
    autoscaling are Serve's own, in ``serve_config.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkpoints: list[CheckpointSpec] = Field(
        min_length=1, description="Policies to serve; the first of each scenario is its default."
    )
    topology: str | None = Field(
        default=None, description="Topology override for every checkpoint that names none itself."
    )
    top_k: int = Field(default=5, ge=1, le=MAX_TOP_K, description="Candidates listed per stage.")
    max_batch_requests: int = Field(
        default=64, ge=1, le=MAX_BATCH_REQUESTS, description="Most requests in one place-batch call."
    )
    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, le=64 * 1024 * 1024, description="Largest request body, bytes."
    )
    replica_cpus: float = Field(default=1.0, ge=0.0, description="CPUs Ray reserves per replica.")

    @field_validator("checkpoints", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        """``checkpoints=a,b`` on the ``serve run`` command line -> ``["a", "b"]``."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
