"""The chat-completions client against a real stub server on 127.0.0.1 (no mocks of httpx): request
body, answer cleaning, retries, the HTTP 400 JSON-mode downgrade, timeouts, transcripts and replay.

The stub server is :class:`tests.llm_stub.StubServer`.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from edgeplace.planners.chat_client import ChatClient, ChatError, ReplayMismatchError, clean_answer, run_sync
from tests.llm_stub import Reply, StubServer, completion

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch) -> None:
    """No proxy between the client and the stub."""
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def stub():
    with StubServer() as server:
        yield server


def client(stub: StubServer, **kwargs) -> ChatClient:
    return ChatClient(stub.base_url, "stub-model", **kwargs)


def test_request_body_and_key_from_the_named_env_var(stub, monkeypatch):
    monkeypatch.setenv("STUB_KEY", "sk-stub")
    answer = client(stub, api_key_env="STUB_KEY", max_tokens=64).complete_sync(MESSAGES, timeout_s=5)
    assert answer == '{"ok": true}'
    (call,) = stub.calls
    assert call["path"] == "/v1/chat/completions"
    assert call["headers"]["Authorization"] == "Bearer sk-stub"
    assert call["body"] == {
        "model": "stub-model",
        "messages": MESSAGES,
        "temperature": 0.2,
        "max_tokens": 64,
        "response_format": {"type": "json_object"},
    }


def test_no_key_no_header(stub, monkeypatch):
    monkeypatch.delenv("STUB_KEY", raising=False)
    client(stub, api_key_env="STUB_KEY").complete_sync(MESSAGES, timeout_s=5)
    assert "Authorization" not in stub.calls[0]["headers"]


@pytest.mark.parametrize(
    "content",
    ['<think>x = {"no": 1}</think>\n```json\n{"ok": true}\n```', '```\n{"ok": true}\n```', ' {"ok": true} '],
)
def test_think_block_and_code_fence_are_stripped(stub, content):
    stub.reply = lambda call, body: completion(content)
    assert client(stub).complete_sync(MESSAGES, timeout_s=5) == '{"ok": true}'
    assert clean_answer("<think>a</think><think>b</think>{}") == "<think>b</think>{}"  # only the leading one


def test_one_retry_recovers_from_a_server_error(stub):
    stub.reply = lambda call, body: (503, b"busy", 0.0) if call == 1 else completion("fine")
    chat = client(stub)
    assert chat.complete_sync(MESSAGES, timeout_s=5) == "fine"
    assert len(stub.calls) == chat.http_calls == 2


@pytest.mark.parametrize("status", [429, 500])
def test_retry_is_given_up_after_one(stub, status):
    stub.reply = lambda call, body: (status, b"overloaded", 0.0)
    with pytest.raises(ChatError, match=f"HTTP {status}.*overloaded"):
        client(stub).complete_sync(MESSAGES, timeout_s=5)
    assert len(stub.calls) == 2


@pytest.mark.parametrize(
    "reply",
    [(404, b"no such model", 0.0), (200, b'{"error": "x"}', 0.0), (200, b"[]", 0.0)],
    ids=["HTTP 404", "no choices", "not an object"],
)
def test_other_failures_are_not_retried(stub, reply):
    stub.reply = lambda call, body: reply
    with pytest.raises(ChatError):
        client(stub).complete_sync(MESSAGES, timeout_s=5)
    assert len(stub.calls) == 1


def test_transport_error_is_retried_then_raised():
    with StubServer() as closed:
        pass  # its port is now closed
    chat = ChatClient(closed.base_url, "m", retries=1)
    with pytest.raises(ChatError, match="ConnectError"):
        chat.complete_sync(MESSAGES, timeout_s=5)
    assert chat.http_calls == 2


def test_http_400_drops_response_format_for_good(stub):
    stub.reply = lambda call, body: (
        (400, b"unknown field", 0.0) if "response_format" in body else completion("plain")
    )
    chat = client(stub)
    assert chat.complete_sync(MESSAGES, timeout_s=5) == "plain"
    assert chat.complete_sync(MESSAGES, timeout_s=5) == "plain"
    assert ["response_format" in call["body"] for call in stub.calls] == [True, False, False]
    stub.reply = lambda call, body: (400, b"still bad", 0.0)
    with pytest.raises(ChatError, match="HTTP 400"):  # a 400 without JSON mode is an error, not retried
        chat.complete_sync(MESSAGES, timeout_s=5)
    assert len(stub.calls) == 4


def test_timeout_raises_chat_error_quickly(stub):
    stub.reply = lambda call, body: completion("late", delay_s=5.0)
    start = time.perf_counter()
    with pytest.raises(ChatError, match="timed out after 0.2 s"):
        client(stub, retries=1).complete_sync(MESSAGES, timeout_s=0.2)
    assert len(stub.calls) == 2 and time.perf_counter() - start < 2.0


def test_transcript_then_replay_without_server(tmp_path):
    transcript = tmp_path / "t.jsonl"
    with StubServer(reply=lambda call, body: completion(f"<think>t</think>answer {call}")) as stub:
        chat = client(stub, transcript_path=transcript)
        first = chat.complete_sync(MESSAGES, timeout_s=5, tag="a")
        stub.reply = lambda call, body: (404, b"gone", 0.0)
        with pytest.raises(ChatError, match="HTTP 404") as recorded_error:
            chat.complete_sync(MESSAGES[:1], timeout_s=5, tag="b")
    records = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert [(r["seq"], r["tag"], r["model"]) for r in records] == [
        (0, "a", "stub-model"),
        (1, "b", "stub-model"),
    ]
    assert records[0]["messages"] == MESSAGES and records[0]["answer"] == "<think>t</think>answer 1"
    assert records[1]["answer"] is None and "HTTP 404" in records[1]["error"]

    replay = ChatClient(None, None, replay_path=transcript)
    assert replay.complete_sync(MESSAGES, timeout_s=5, tag="a") == first == "answer 1"
    with pytest.raises(ChatError) as replayed_error:
        replay.complete_sync(MESSAGES[:1], timeout_s=5, tag="b")
    assert str(replayed_error.value) == str(recorded_error.value)
    with pytest.raises(ReplayMismatchError, match="holds 2"):
        replay.complete_sync(MESSAGES, timeout_s=5, tag="a")
    assert replay.http_calls == 0


def test_replay_names_the_line_of_a_mismatch(tmp_path):
    transcript = tmp_path / "t.jsonl"
    with StubServer() as stub:
        client(stub, transcript_path=transcript).complete_sync(MESSAGES, timeout_s=5, tag="a")
    other = [MESSAGES[0], {"role": "user", "content": "bye"}]
    with pytest.raises(ReplayMismatchError, match=r"t\.jsonl line 1: exchange 0 \(a\).*from message 1"):
        ChatClient(None, None, replay_path=transcript).complete_sync(other, timeout_s=5, tag="a")
    with pytest.raises(ReplayMismatchError, match="line 1: exchange 0 was recorded for 'a'"):
        ChatClient(None, None, replay_path=transcript).complete_sync(MESSAGES, timeout_s=5, tag="z")


def test_concurrent_calls_are_numbered_in_start_order(tmp_path):
    """The first call answers last; the transcript still numbers calls as they started, so a replay
    with the same gather gives every caller its own answer."""
    transcript = tmp_path / "t.jsonl"

    def reply(call: int, body: dict) -> Reply:
        text = body["messages"][-1]["content"]
        return completion(f"re {text}", delay_s=0.3 if text == "q0" else 0.0)

    async def ask_all(chat: ChatClient) -> list[str]:
        prompts = [[{"role": "user", "content": f"q{k}"}] for k in range(3)]
        return await asyncio.gather(
            *(chat.complete(p, timeout_s=5, tag=f"k{k}") for k, p in enumerate(prompts))
        )

    with StubServer(reply=reply) as stub:
        live = run_sync(ask_all(client(stub, transcript_path=transcript)))
    lines = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert [r["seq"] for r in lines][-1] == 0  # written as answered, numbered as started
    assert live == ["re q0", "re q1", "re q2"]
    assert run_sync(ask_all(ChatClient(None, None, replay_path=transcript))) == live


def test_sync_wrapper_works_inside_a_running_loop(stub):
    async def caller() -> str:
        return client(stub).complete_sync(MESSAGES, timeout_s=5)

    assert asyncio.run(caller()) == '{"ok": true}'


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"base_url": None, "model": "m"}, "base_url"),
        ({"base_url": "http://x/v1", "model": None}, "model"),
        ({"base_url": "http://x/v1", "model": "m", "temperature": 3.0}, "temperature"),
        ({"base_url": "http://x/v1", "model": "m", "retries": -1}, "retries"),
        ({"base_url": "http://x/v1", "model": "m", "max_tokens": 0}, "max_tokens"),
    ],
)
def test_bad_configuration_names_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ChatClient(**kwargs)
