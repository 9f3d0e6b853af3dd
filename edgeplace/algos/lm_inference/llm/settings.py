"""Settings of the ``llm`` backend (spec d, "`llm` backend", "Transport"): the shared chat endpoint
settings with the backend's two timeouts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from edgeplace.planners.chat_settings import ChatEndpointSettings


@dataclass(frozen=True)
class LlmSettings(ChatEndpointSettings):
    """Endpoint, sampling, timeouts and transcripts of the llm backend (checked on construction).
    ``max_tokens`` (2048) leaves room for a reasoning model's ``<think>`` block."""

    where: ClassVar[str] = "llm settings:"

    planner_timeout_s: float = 120.0
    """Limit of each attempt of a planner call, s."""
    tier2_timeout_s: float = 20.0
    """Limit of each attempt of a scheduler or deployer call, s."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("planner_timeout_s", "tier2_timeout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not value > 0:
                raise ValueError(f"{self.where} {name} must be > 0, got {value!r}")
