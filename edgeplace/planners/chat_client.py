"""The package's one client of OpenAI-compatible chat-completions endpoints (vLLM, Ollama, llama.cpp
server, OpenAI, ...): async httpx, with a JSONL transcript of every exchange and a replay mode.

A call POSTs ``{base_url}/chat/completions`` with ``model``, ``messages``, ``temperature``, optional
``max_tokens`` and, in JSON mode, ``response_format={"type": "json_object"}``; a server that answers
HTTP 400 to that is remembered as not supporting it and asked again without it. Transport errors,
timeouts and HTTP 408/429/5xx are retried ``retries`` times; other failures are not. The answer is
``choices[0].message.content`` without a leading ``<think>...</think>`` block (reasoning models such as
Qwen3) and a surrounding Markdown code fence. Every failure to get an answer raises :class:`ChatError`.

Transcripts: each call (one exchange, retries included) gets a sequence number when it starts, and
its request messages, model, tag, and raw answer content or error go to the transcript as one JSON
line (the file is truncated when the client is made). In replay mode a client answers call k from the
transcript's exchange k, without a server, after checking that the tag and the request messages are
the ones recorded (:class:`ReplayMismatchError`, naming the line, otherwise). Calls that start in the
same order therefore replay a run bit for bit; calls started concurrently (``asyncio.gather``) are
numbered in the order they start.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import re
import ssl
import threading
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx

logger = logging.getLogger(__name__)

ENV_BASE_URL = "EDGEPLACE_LLM_BASE_URL"
ENV_MODEL = "EDGEPLACE_LLM_MODEL"
ENV_API_KEY = "EDGEPLACE_LLM_API_KEY"
#: HTTP statuses worth another attempt.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
JSON_MODE = {"type": "json_object"}

_THINK_BLOCK = re.compile(r"^\s*<think>.*?</think>", re.DOTALL)
_CODE_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n(.*)\n\s*```$", re.DOTALL)
_SNIPPET_CHARS = 200

T = TypeVar("T")
Messages = Sequence[Mapping[str, str]]


class ChatError(Exception):
    """No answer: transport, timeout, HTTP status, or a body that is not a chat completion."""


class ReplayMismatchError(RuntimeError):
    """A replayed run asked for an exchange its transcript does not hold (a different run)."""


class _RetryableError(ChatError):
    """A failure another attempt may fix (transport, timeout, 408/429/5xx)."""


def clean_answer(content: str) -> str:
    """``content`` without a leading ``<think>`` block and a surrounding code fence."""
    content = _THINK_BLOCK.sub("", content, count=1).strip()
    fenced = _CODE_FENCE.match(content)
    return fenced.group(1) if fenced else content


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion from synchronous code (in a worker thread when this thread
    already runs an event loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class ChatClient:
    """See the module docstring.

    Args:
        base_url: API root, e.g. ``http://127.0.0.1:8000/v1`` (may be None in replay mode).
        model: model name sent in the body (may be None in replay mode).
        api_key: sent as ``Authorization: Bearer``; None reads the env var ``api_key_env`` at each call
            (unset: no header). The key never enters a transcript.
        temperature: sampling temperature.
        max_tokens: answer length limit; None leaves it to the server.
        retries: extra attempts after a transport error, timeout or HTTP 408/429/5xx.
        json_mode: ask for ``response_format={"type": "json_object"}``.
        transcript_path: JSONL file receiving every exchange (truncated now); None: no transcript.
        replay_path: transcript to answer from instead of a server; None: ask the server.

    Raises:
        ValueError: a missing base URL or model outside replay mode, or a bad argument, naming it.
        OSError: the transcript cannot be written or the replay read.
    """

    def __init__(
        self,
        base_url: str | None,
        model: str | None,
        *,
        api_key: str | None = None,
        api_key_env: str = ENV_API_KEY,
        temperature: float = 0.2,
        max_tokens: int | None = None,
        retries: int = 1,
        json_mode: bool = True,
        transcript_path: str | Path | None = None,
        replay_path: str | Path | None = None,
    ) -> None:
        if replay_path is None and not base_url:
            raise ValueError("base_url: required unless replaying a transcript")
        if replay_path is None and not model:
            raise ValueError("model: required unless replaying a transcript")
        if not 0.0 <= temperature <= 2.0:
            raise ValueError(f"temperature: must be in [0, 2], got {temperature!r}")
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"max_tokens: must be >= 1, got {max_tokens!r}")
        if retries < 0:
            raise ValueError(f"retries: must be >= 0, got {retries!r}")
        self.url = (base_url or "").rstrip("/") + "/chat/completions"
        self.model = model or ""
        self._api_key, self.api_key_env = api_key, api_key_env
        self.temperature, self.max_tokens, self.retries = float(temperature), max_tokens, int(retries)
        self.json_mode = json_mode
        self.transcript_path = None if transcript_path is None else Path(transcript_path)
        self.replay = None if replay_path is None else _Replay(Path(replay_path))
        if self.transcript_path is not None:
            self.transcript_path.parent.mkdir(parents=True, exist_ok=True)
            self.transcript_path.write_text("")
        self.http_calls = 0
        """HTTP requests sent so far, retries included."""
        self._next_seq = 0
        self._lock = threading.Lock()
        self._ssl_context: ssl.SSLContext | None = None
        """Made once, on the first call (making one per httpx client costs ~20 ms)."""

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the lock and the SSL context (Ray ships clients inside parsers); the copy
        makes its own."""
        state = self.__dict__.copy()
        del state["_lock"]
        state["_ssl_context"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    async def complete(self, messages: Messages, *, timeout_s: float, tag: str = "") -> str:
        """The answer to ``messages`` (cleaned, :func:`clean_answer`).

        Args:
            timeout_s: limit of each attempt, s (connect to last byte).
            tag: who asks (e.g. the agent id), recorded and checked on replay.

        Raises:
            ChatError: no answer (recorded in the transcript, and replayed as such).
            ReplayMismatchError: in replay mode, the transcript holds no such exchange.
        """
        if not timeout_s > 0:
            raise ValueError(f"timeout_s: must be > 0, got {timeout_s!r}")
        request = [dict(message) for message in messages]
        with self._lock:  # numbered before the first await: the start order
            seq, self._next_seq = self._next_seq, self._next_seq + 1
        if self.replay is not None:
            content, error = self.replay.exchange(seq, tag, request)
        else:
            try:
                content, error = await self._ask(request, timeout_s), None
            except ChatError as err:
                content, error = None, str(err)
        if self.transcript_path is not None:
            self._record(seq, tag, request, content, error)
        if error is not None:
            raise ChatError(error)
        return clean_answer(content)

    def complete_sync(self, messages: Messages, *, timeout_s: float, tag: str = "") -> str:
        """:meth:`complete` for synchronous callers."""
        return run_sync(self.complete(messages, timeout_s=timeout_s, tag=tag))

    async def _ask(self, messages: list[dict[str, str]], timeout_s: float) -> str:
        """The raw answer content, with retries."""
        attempt = 0
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        async with httpx.AsyncClient(timeout=timeout_s, verify=self._ssl_context) as http:
            while True:
                try:
                    return await self._post(http, messages, timeout_s)
                except _RetryableError as error:
                    attempt += 1
                    if attempt > self.retries:
                        raise
                    logger.info("chat call attempt %d failed (%s); retrying", attempt, error)

    async def _post(self, http: httpx.AsyncClient, messages: list[dict[str, str]], timeout_s: float) -> str:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.json_mode:
            body["response_format"] = JSON_MODE
        with self._lock:
            self.http_calls += 1
        try:
            async with asyncio.timeout(timeout_s):
                response = await http.post(self.url, json=body, headers=self._headers())
        except (TimeoutError, httpx.TimeoutException):
            raise _RetryableError(f"timed out after {timeout_s:g} s waiting for {self.url}") from None
        except httpx.HTTPError as error:
            raise _RetryableError(f"{type(error).__name__} from {self.url}: {error}") from None
        if response.status_code == httpx.codes.BAD_REQUEST and self.json_mode:
            logger.info("%s rejected response_format (HTTP 400); asking without it from now on", self.url)
            self.json_mode = False
            return await self._post(http, messages, timeout_s)
        detail = f"HTTP {response.status_code} from {self.url}: {response.text[:_SNIPPET_CHARS]}"
        if response.status_code in RETRY_STATUSES:
            raise _RetryableError(detail)
        if not response.is_success:
            raise ChatError(detail)
        return _content(response.content)

    def _headers(self) -> dict[str, str]:
        key = self._api_key or os.environ.get(self.api_key_env)
        return {"Accept": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}

    def _record(
        self, seq: int, tag: str, messages: list[dict[str, str]], content: str | None, error: str | None
    ) -> None:
        record = {"seq": seq, "tag": tag, "model": self.model, "messages": messages}
        record |= {"answer": content, "error": error}
        with self._lock, self.transcript_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def _content(raw: bytes) -> str:
    """``choices[0].message.content`` of a chat completion body.

    Raises:
        ChatError: the body is not a chat completion with a string content.
    """
    try:
        content = json.loads(raw)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise ChatError(f"not a chat completion ({type(error).__name__}: {error})") from None
    if not isinstance(content, str):
        raise ChatError("choices[0].message.content is not a string")
    return content


class _Replay:
    """The exchanges of a transcript by sequence number, each with its line number."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[int, tuple[int, dict[str, Any]]] = {}
        with path.open(encoding="utf-8") as lines:
            for line_no, line in enumerate(lines, start=1):
                try:
                    record = json.loads(line)
                    self.records[int(record["seq"])] = (line_no, record)
                except (ValueError, KeyError, TypeError) as error:
                    raise ValueError(f"{path} line {line_no}: not a transcript record ({error})") from None

    def exchange(self, seq: int, tag: str, messages: list[dict[str, str]]) -> tuple[str | None, str | None]:
        """The recorded (answer content, error) of exchange ``seq``, checked against the request.

        Raises:
            ReplayMismatchError: no exchange ``seq``, or one recorded for another tag or messages.
        """
        if seq not in self.records:
            raise ReplayMismatchError(
                f"{self.path}: the run asks for exchange {seq} ({tag or 'untagged'}), the transcript "
                f"holds {len(self.records)}"
            )
        line_no, record = self.records[seq]
        where = f"{self.path} line {line_no}: exchange {seq}"
        if record.get("tag") != tag:
            raise ReplayMismatchError(
                f"{where} was recorded for {record.get('tag')!r}, the run asks as {tag!r}"
            )
        recorded = record.get("messages")
        if recorded != messages:
            recorded = recorded if isinstance(recorded, list) else []
            differs = next(
                (k for k, (old, new) in enumerate(zip(recorded, messages, strict=False)) if old != new),
                min(len(recorded), len(messages)),
            )
            raise ReplayMismatchError(
                f"{where} ({tag}): the request messages differ from message {differs} on"
            )
        answer, error = record.get("answer"), record.get("error")
        if not isinstance(answer, str) and not isinstance(error, str):
            raise ReplayMismatchError(f"{where} ({tag}): the record holds neither an answer nor an error")
        return answer, error
