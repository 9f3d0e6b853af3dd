"""Optional LLM semantic parser over an OpenAI-compatible chat completions endpoint (vLLM, Ollama,
llama.cpp server, OpenAI, ...), through the package's one client
(:class:`~edgeplace.planners.chat_client.ChatClient`).

Every answer is validated strictly (:func:`~edgeplace.planners.constraints.parse_constraint_json`).
On any error (transport, timeout, HTTP status, a body that is not a chat completion, bad JSON, schema,
semantics) the parser logs the reason, counts a fallback and returns its fallback parser's result
(the rule-based parser by default). ``parse`` never raises because of the server. The client cleans
the answer (:func:`~edgeplace.planners.chat_client.clean_answer`) before validation; the parser asks at
temperature 0 without JSON mode.

Retries: transport errors, timeouts and HTTP 408/429/5xx are retried ``retries`` times; a completed
answer that is wrong is not (temperature 0 would repeat it). Results, fallbacks included, are cached
by the content of the request and the substrate summary (an unreachable server therefore costs one
timeout per distinct content, not per call).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeplace.planners.chat_client import ENV_API_KEY, ENV_BASE_URL, ENV_MODEL, ChatClient
from edgeplace.planners.constraints import ConstraintSet, parse_constraint_json
from edgeplace.planners.prompt import build_messages
from edgeplace.planners.rule_based import RuleBasedParser

if TYPE_CHECKING:
    from edgeplace.planners.constraints import SemanticParser
    from edgeplace.workloads.agentic_workflows import SubstrateSummary, WorkflowRequest

logger = logging.getLogger(__name__)

#: The client's tag of the parser's exchanges.
PARSER_TAG = "agentvne-parser"


@dataclasses.dataclass(frozen=True)
class LLMParserStats:
    """Counters of an :class:`OpenAICompatibleParser` since it was built.

    Attributes:
        parses: calls of ``parse``.
        cache_hits: calls answered from the cache (no HTTP).
        http_calls: HTTP requests sent, retries included.
        fallbacks: parses answered by the fallback parser.
        last_fallback_reason: why the last fallback happened ("" if none).
    """

    parses: int = 0
    cache_hits: int = 0
    http_calls: int = 0
    fallbacks: int = 0
    last_fallback_reason: str = ""


class OpenAICompatibleParser:
    """Semantic parser that asks an LLM, with strict validation and a rule-based fallback.

    Args:
        base_url: API root, e.g. ``http://127.0.0.1:8000/v1``; the parser POSTs
            ``{base_url}/chat/completions``.
            Default: env var ``EDGEPLACE_LLM_BASE_URL``.
        model: model name sent in the body. Default: env var ``EDGEPLACE_LLM_MODEL``.
        api_key: sent as ``Authorization: Bearer``. Default: env var ``EDGEPLACE_LLM_API_KEY`` (may be unset).
        timeout_s: limit of each attempt, s.
        retries: extra attempts after a transport error, timeout or HTTP 408/429/5xx.
        cache: memoise results by request + summary content.
        cache_size: most cached results kept (least recently used dropped first).
        fallback: parser used on any error; ``None`` means a :class:`RuleBasedParser`.

    Raises:
        ValueError: no base URL or model (argument or env var), or a bad numeric argument.
    """

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        retries: int = 1,
        cache: bool = True,
        cache_size: int = 4096,
        fallback: SemanticParser | None = None,
    ) -> None:
        base_url = base_url or os.environ.get(ENV_BASE_URL)
        model = model or os.environ.get(ENV_MODEL)
        if not base_url:
            raise ValueError(f"base_url: not given and {ENV_BASE_URL} is unset")
        if not model:
            raise ValueError(f"model: not given and {ENV_MODEL} is unset")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s: must be > 0, got {timeout_s!r}")
        if cache_size < 1:
            raise ValueError(f"cache_size: must be >= 1, got {cache_size!r}")
        self.client = ChatClient(
            base_url,
            model,
            api_key=api_key or os.environ.get(ENV_API_KEY) or None,
            temperature=0.0,
            retries=retries,
            json_mode=False,
        )
        self.timeout_s = float(timeout_s)
        self.cache_enabled = cache
        self.cache_size = int(cache_size)
        self.fallback = RuleBasedParser() if fallback is None else fallback
        self._cache: OrderedDict[str, ConstraintSet] = OrderedDict()
        self._lock = threading.Lock()
        self._stats = LLMParserStats()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the lock (Ray ships parsers to env runners); the copy gets its own lock."""
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The endpoint the parser POSTs to."""
        return self.client.url

    @property
    def model(self) -> str:
        """The model name sent in the body."""
        return self.client.model

    @property
    def stats(self) -> LLMParserStats:
        """A snapshot of the counters."""
        return dataclasses.replace(self._stats, http_calls=self.client.http_calls)

    def clear_cache(self) -> None:
        """Forget every cached result."""
        with self._lock:
            self._cache.clear()

    def parse(self, request: WorkflowRequest, summary: SubstrateSummary) -> ConstraintSet:
        """The LLM's validated constraints for ``request``, or the fallback's result on any error."""
        key = self._cache_key(request, summary) if self.cache_enabled else ""
        with self._lock:
            self._count(parses=1)
            if key in self._cache:
                self._cache.move_to_end(key)
                self._count(cache_hits=1)
                return self._cache[key]
        try:
            answer = self.client.complete_sync(
                build_messages(request, summary), timeout_s=self.timeout_s, tag=PARSER_TAG
            )
            result = parse_constraint_json(answer, request, summary)
        except Exception as error:  # any failure of the LLM path falls back (module docstring)
            reason = f"{type(error).__name__}: {error}"
            logger.warning(
                "LLM parser fell back to %s for request %r: %s",
                type(self.fallback).__name__,
                request.request_id,
                reason,
            )
            with self._lock:
                self._count(fallbacks=1, last_fallback_reason=reason)
            result = self.fallback.parse(request, summary)
        if self.cache_enabled:
            with self._lock:
                self._cache[key] = result
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return result

    def _count(self, last_fallback_reason: str | None = None, **increments: int) -> None:
        """Add ``increments`` to the counters (the caller holds the lock)."""
        values: dict[str, Any] = {name: getattr(self._stats, name) + n for name, n in increments.items()}
        if last_fallback_reason is not None:
            values["last_fallback_reason"] = last_fallback_reason
        self._stats = dataclasses.replace(self._stats, **values)

    def _cache_key(self, request: WorkflowRequest, summary: SubstrateSummary) -> str:
        """SHA-256 over the endpoint, the model and the full content of the request and the summary."""
        digest = hashlib.sha256()
        agents = [[int(a.id), a.name, a.role, list(a.tools)] for a in request.agents]
        head = [
            self.url,
            self.model,
            request.request_id,
            request.workflow_type,
            request.description,
            agents,
            request.data_source_node,
            sorted(summary.attributes),
        ]
        digest.update(json.dumps(head, default=str).encode())
        arrays = [
            np.asarray(request.links, dtype=np.int64),
            np.asarray(summary.residual_fraction, np.float64),
            np.asarray(summary.degree, dtype=np.int64),
        ]
        arrays += [np.asarray(summary.attributes[name], dtype=bool) for name in sorted(summary.attributes)]
        for array in arrays:
            digest.update(str(array.shape).encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()
