"""The settings every user of the OpenAI-compatible chat client shares: endpoint, sampling, retries and
transcripts (:class:`ChatEndpointSettings`), checked on construction; the lm-inference ``llm`` backend
and the metaverse-dag ``http`` planner extend them with their own timeouts and options."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self

from edgeplace.planners.chat_client import ENV_API_KEY, ENV_BASE_URL, ENV_MODEL, ChatClient
from edgeplace.policy import PolicyUnavailable

SEED_FIELD = "{seed}"
"""Placeholder in a transcript or replay path that :meth:`ChatEndpointSettings.for_seed` fills in."""


@dataclass(frozen=True)
class ChatEndpointSettings:
    """Where and how to ask: one OpenAI-compatible chat-completions endpoint.

    Raises:
        PolicyUnavailable: no base_url or model (argument or env var) and no replay transcript.
        ValueError: a bad value, naming its field.
    """

    where: ClassVar[str] = "chat settings:"
    """How error messages name the settings."""

    base_url: str = field(default_factory=lambda: os.environ.get(ENV_BASE_URL, ""))
    """API root, e.g. ``http://127.0.0.1:8000/v1`` (default: env var ``EDGEPLACE_LLM_BASE_URL``)."""
    model: str = field(default_factory=lambda: os.environ.get(ENV_MODEL, ""))
    """Model name (default: env var ``EDGEPLACE_LLM_MODEL``)."""
    api_key_env: str = ENV_API_KEY
    """Name of the env var holding the API key (unset: no key is sent)."""
    temperature: float = 0.2
    max_tokens: int = 2048
    """Answer length limit, tokens."""
    retries: int = 1
    """Extra attempts after a transport error, timeout or HTTP 408/429/5xx."""
    transcript_path: Path | None = None
    """JSONL file receiving every exchange (``{seed}`` is filled in); None: none."""
    replay_path: Path | None = None
    """Transcript answering the calls instead of the server (``{seed}`` as above); None: ask the server."""

    def __post_init__(self) -> None:
        where = self.where
        for name in ("base_url", "model", "api_key_env"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{where} {name} must be a string, got {getattr(self, name)!r}")
        for name in ("transcript_path", "replay_path"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str | Path):
                raise ValueError(f"{where} {name} must be a path, got {value!r}")
            if value is not None:
                object.__setattr__(self, name, Path(value))
        for name in ("base_url", "model"):
            if self.replay_path is None and not getattr(self, name):
                env = ENV_BASE_URL if name == "base_url" else ENV_MODEL
                raise PolicyUnavailable(f"{where} {name} is empty (set it or {env}) and no replay_path")
        if not self.api_key_env:
            raise ValueError(f"{where} api_key_env must name an env var, got {self.api_key_env!r}")
        if isinstance(self.temperature, bool) or not isinstance(self.temperature, int | float):
            raise ValueError(f"{where} temperature must be a number, got {self.temperature!r}")
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"{where} temperature must be in [0, 2], got {self.temperature!r}")
        for name, least in (("max_tokens", 1), ("retries", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{where} {name} must be an integer >= {least}, got {value!r}")
        if self.transcript_path is not None and self.transcript_path == self.replay_path:
            raise ValueError(f"{where} transcript_path and replay_path are the same file {self.replay_path}")

    def for_seed(self, seed: int) -> Self:
        """These settings with ``{seed}`` in the transcript and replay paths replaced by ``seed``."""
        paths = {
            name: Path(str(value).replace(SEED_FIELD, str(seed)))
            for name in ("transcript_path", "replay_path")
            if (value := getattr(self, name)) is not None
        }
        return dataclasses.replace(self, **paths)

    def client(self) -> ChatClient:
        """A chat client with these settings (JSON mode on)."""
        return ChatClient(
            self.base_url or None,
            self.model or None,
            api_key_env=self.api_key_env,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            retries=self.retries,
            transcript_path=self.transcript_path,
            replay_path=self.replay_path,
        )
