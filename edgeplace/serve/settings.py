"""Arguments of the placement application: ``serve run edgeplace.serve.app:build_app key=value ...``,
the ``args`` of ``serve_config.yaml``, or :func:`edgeplace.serve.server.run_server`."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from edgeplace.serve.schemas import MAX_BATCH_REQUESTS

MAX_TOP_K = 20
"""Largest ``top_k``: candidates listed per stage in a response."""
RULE_PREFIX = "rule:"
"""How a command line names a checkpoint-free rule policy: ``[NAME=]rule:SCENARIO[:CONTROLLER]``."""
RULE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*(:[a-z0-9][a-z0-9_-]*)?")
"""``SCENARIO[:CONTROLLER]``: lower-case ids."""


class CheckpointSpec(BaseModel):
    """One policy to serve: a trained checkpoint or, without one, a scenario's rule controller.

    Written ``[NAME=]PATH`` or ``[NAME=]rule:SCENARIO[:CONTROLLER]`` on a command line (e.g.
    ``ma=rule:lm-inference:ma-rule``), or as a mapping with ``path`` or ``rule`` in YAML. A rule
    policy places on the scenario's default env config (on ``topology`` if one is given); which
    controllers a scenario serves is its placer's (``ScenarioPlacer.rule_controllers``, the first
    when CONTROLLER is left out).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = Field(
        default=None, min_length=1, description="Algorithm checkpoint, or a run directory (its latest)."
    )
    rule: str | None = Field(
        default=None,
        description="Instead of ``path``: a rule controller, ``SCENARIO[:CONTROLLER]`` "
        "(e.g. ``lm-inference:ma-rule``).",
    )
    name: str | None = Field(
        default=None, description="Name in the API; default: the checkpoint's algo, or the controller."
    )
    topology: str | None = Field(
        default=None, description="Topology URI to place on instead of the training (or default) one."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """``"mappo=runs/x"`` -> ``{"name": "mappo", "path": "runs/x"}``; ``"runs/x"`` -> no name;
        ``"ma=rule:lm-inference"`` -> ``{"name": "ma", "rule": "lm-inference"}``."""
        if isinstance(value, str):
            name, _, target = value.rpartition("=")
            if target.startswith(RULE_PREFIX):
                return {"rule": target.removeprefix(RULE_PREFIX), "name": name or None}
            return {"path": target, "name": name or None}
        return value

    @field_validator("rule")
    @classmethod
    def _rule_spelling(cls, value: str | None) -> str | None:
        if value is not None and RULE_PATTERN.fullmatch(value) is None:
            raise ValueError(
                f"expected SCENARIO[:CONTROLLER] (written {RULE_PREFIX}SCENARIO[:CONTROLLER], e.g. "
                f"{RULE_PREFIX}lm-inference:ma-rule), got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _path_or_rule(self) -> CheckpointSpec:
        if (self.path is None) == (self.rule is None):
            given = "both" if self.path is not None else "neither"
            raise ValueError(
                f"give exactly one of path (a checkpoint) and rule (SCENARIO[:CONTROLLER]); got {given}"
            )
        return self

    @property
    def rule_scenario(self) -> str | None:
        """The rule policy's scenario id (None for a checkpoint)."""
        return None if self.rule is None else self.rule.partition(":")[0]

    @property
    def rule_controller(self) -> str | None:
        """The rule policy's controller, None for a checkpoint or the scenario's default one."""
        return None if self.rule is None else self.rule.partition(":")[2] or None


class ServeArgs(BaseModel):
    """Everything that configures one placement application (deployment knobs such as replicas and
    autoscaling are Serve's own, in ``serve_config.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkpoints: list[CheckpointSpec] = Field(
        min_length=1,
        description="Policies to serve (checkpoints or rule controllers); the first of each scenario is "
        "its default.",
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
