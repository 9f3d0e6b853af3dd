"""The OpenAI-compatible backend against a fake chat-completions server run by the test itself.

The server listens on 127.0.0.1 with an ephemeral port. It is ready as soon as it is constructed
(``HTTPServer`` binds and listens in its constructor), so no test waits for it.
"""

from __future__ import annotations

import json
import logging
import pickle
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest

from edgeplace.planners import CONSTRAINT_SCHEMA, OpenAICompatibleParser, RuleBasedParser
from edgeplace.planners.llm_backend import ENV_API_KEY, ENV_BASE_URL, ENV_MODEL
from edgeplace.workloads.agentic_workflows import WorkflowType
from tests.llm_stub import StubServer
from tests.planners.conftest import make_summary, workflow

REQUEST = workflow(WorkflowType.TEXT_SEARCH_PAY, request_id="r-5")  # payment = agent 4
#: What the LLM answers in the happy path: differs from the rules (target 4, bias 0.4).
LLM_ANSWER = {
    "schema_version": "1.0",
    "request_id": "r-5",
    "constraints": [
        {"agent_id": 4, "required_attributes": ["tee"], "target_node": 2, "bias": 0.7, "reason": "card data"}
    ],
}


def completion(content: str) -> bytes:
    """A chat completion body whose first choice says ``content``."""
    return json.dumps(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    ).encode()


@dataclass
class FakeLLM:
    """A scripted chat-completions endpoint: ``reply`` maps the call number to (status, body)."""

    reply: Callable[[int], tuple[int, bytes]] = lambda call: (200, completion(json.dumps(LLM_ANSWER)))
    calls: list[dict] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    hold: bool = False
    """Block every request until ``release`` is set (to provoke a client timeout)."""
    base_url: str = ""


@pytest.fixture(autouse=True)
def no_llm_environment(monkeypatch) -> None:
    """No configuration from the environment, and no proxy between the client and the fake server."""
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", ENV_BASE_URL, ENV_MODEL, ENV_API_KEY):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    state = FakeLLM()

    def reply(call: int, body: dict) -> tuple[int, bytes, float]:
        if state.hold:
            state.release.wait(timeout=30)
        return (*state.reply(call), 0.0)

    with StubServer(reply=reply) as server:
        state.base_url, state.calls = server.base_url, server.calls
        yield state
        state.release.set()


def parser(fake: FakeLLM, **kwargs) -> OpenAICompatibleParser:
    return OpenAICompatibleParser(base_url=fake.base_url, model="test-model", **kwargs)


def rules(summary):
    return RuleBasedParser().parse(REQUEST, summary)


def test_valid_answer_is_used(fake, summary):
    llm = parser(fake)
    (constraint,) = llm.parse(REQUEST, summary).constraints
    assert (constraint.target_node, constraint.bias, constraint.reason) == (2, 0.7, "card data")
    assert (llm.stats.http_calls, llm.stats.fallbacks) == (1, 0)


def test_request_carries_model_temperature_zero_prompt_and_key(fake, summary):
    parser(fake, api_key="sk-test").parse(REQUEST, summary)
    (call,) = fake.calls
    assert call["path"] == "/v1/chat/completions"
    assert call["headers"]["Authorization"] == "Bearer sk-test"
    body = call["body"]
    assert body["model"] == "test-model" and body["temperature"] == 0
    system, user = body["messages"]
    assert (system["role"], user["role"]) == ("system", "user")
    facts = json.loads(user["content"].split("\n")[1])
    assert facts["attribute_registry"] == ["camera", "tee"]
    assert facts["request"]["data_source_node"] is None
    assert [a["name"] for a in facts["request"]["agents"]][4] == "payment"
    assert [n["id"] for n in facts["candidate_nodes"]] == [2, 4, 5]  # the attribute holders
    assert facts["candidate_nodes"][0] == {
        "id": 2,
        "attributes": ["tee"],
        "residual_fraction": {"cpu": 0.5, "mem": 0.5, "sto": 0.5},
        "degree": 2,
    }
    assert json.dumps(CONSTRAINT_SCHEMA, separators=(",", ":")) in user["content"]
    assert "Return only JSON matching the schema." in user["content"]


def test_think_block_and_code_fence_are_stripped(fake, summary):
    fake.reply = lambda call: (200, completion(f"<think>hmm</think>\n```json\n{json.dumps(LLM_ANSWER)}\n```"))
    llm = parser(fake)
    assert llm.parse(REQUEST, summary).constraints[0].bias == 0.7 and llm.stats.fallbacks == 0


BAD_REPLIES = {
    "malformed JSON": (200, completion('{"schema_version": "1.0", "request_id": ')),
    "schema violation": (200, completion(json.dumps({**LLM_ANSWER, "confidence": 0.9}))),
    "target lacking the attribute": (
        200,
        completion(
            json.dumps({**LLM_ANSWER, "constraints": [{**LLM_ANSWER["constraints"][0], "target_node": 5}]})
        ),
    ),
    "not a chat completion": (200, b'{"error": "overloaded"}'),
    "HTTP 400": (400, b'{"error": "bad request"}'),
}


@pytest.mark.parametrize("status, body", BAD_REPLIES.values(), ids=BAD_REPLIES.keys())
def test_bad_answers_fall_back_to_rules_without_retry(status, body, fake, summary, caplog):
    fake.reply = lambda call: (status, body)
    llm = parser(fake, retries=1)
    with caplog.at_level(logging.WARNING, logger="edgeplace.planners.llm_backend"):
        result = llm.parse(REQUEST, summary)
    assert result == rules(summary)
    assert (len(fake.calls), llm.stats.fallbacks) == (1, 1)
    assert llm.stats.last_fallback_reason and llm.stats.last_fallback_reason in caplog.text


def test_http_500_is_retried_then_falls_back(fake, summary):
    fake.reply = lambda call: (500, b'{"error": "model crashed"}')
    llm = parser(fake, retries=1)
    assert llm.parse(REQUEST, summary) == rules(summary)
    assert (len(fake.calls), llm.stats.fallbacks) == (2, 1)
    assert "HTTP 500" in llm.stats.last_fallback_reason and "model crashed" in llm.stats.last_fallback_reason


def test_retry_recovers_from_one_server_error(fake, summary):
    fake.reply = lambda call: (503, b"{}") if call == 1 else (200, completion(json.dumps(LLM_ANSWER)))
    llm = parser(fake, retries=1)
    assert llm.parse(REQUEST, summary).constraints[0].bias == 0.7
    assert (llm.stats.http_calls, llm.stats.fallbacks) == (2, 0)


def test_timeout_falls_back(fake, summary):
    fake.hold = True  # the server answers only once the test releases it, after the client gave up
    llm = parser(fake, timeout_s=0.2, retries=0)
    result = llm.parse(REQUEST, summary)
    fake.release.set()
    assert result == rules(summary)
    assert llm.stats.fallbacks == 1 and "timed out" in llm.stats.last_fallback_reason


def test_cache_avoids_a_second_call_and_keys_on_content(fake, summary):
    llm = parser(fake)
    first = llm.parse(REQUEST, summary)
    assert llm.parse(REQUEST, summary) is first
    assert (len(fake.calls), llm.stats.cache_hits) == (1, 1)
    other = make_summary(mean_residual=(0.9, 0.9, 0.5, 0.9, 0.8, 0.31))
    llm.parse(REQUEST, other)
    assert len(fake.calls) == 2
    llm.clear_cache()
    llm.parse(REQUEST, summary)
    assert len(fake.calls) == 3


def test_cache_can_be_disabled(fake, summary):
    llm = parser(fake, cache=False)
    llm.parse(REQUEST, summary)
    llm.parse(REQUEST, summary)
    assert len(fake.calls) == 2 and llm.stats.cache_hits == 0


def test_fallbacks_are_cached_too(fake, summary):
    fake.reply = lambda call: (200, completion("not json"))
    llm = parser(fake)
    llm.parse(REQUEST, summary)
    assert llm.parse(REQUEST, summary) == rules(summary)
    assert (len(fake.calls), llm.stats.fallbacks, llm.stats.cache_hits) == (1, 1, 1)


def test_configuration_comes_from_env_vars(fake, summary, monkeypatch):
    monkeypatch.setenv(ENV_BASE_URL, fake.base_url + "/")
    monkeypatch.setenv(ENV_MODEL, "env-model")
    monkeypatch.setenv(ENV_API_KEY, "sk-env")
    llm = OpenAICompatibleParser()
    assert llm.url == fake.base_url + "/chat/completions"
    llm.parse(REQUEST, summary)
    assert fake.calls[0]["body"]["model"] == "env-model"
    assert fake.calls[0]["headers"]["Authorization"] == "Bearer sk-env"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"model": "m"}, ENV_BASE_URL),
        ({"base_url": "http://127.0.0.1:1/v1"}, ENV_MODEL),
        ({"base_url": "http://x/v1", "model": "m", "timeout_s": 0}, "timeout_s"),
        ({"base_url": "http://x/v1", "model": "m", "retries": -1}, "retries"),
    ],
)
def test_missing_or_bad_configuration_is_an_error(kwargs, field):
    with pytest.raises(ValueError, match=field):
        OpenAICompatibleParser(**kwargs)


def test_custom_fallback_is_used(fake):
    fake.reply = lambda call: (500, b"{}")
    summary = make_summary(attributes={"tee": np.eye(6, dtype=bool)[3], "camera": np.eye(6, dtype=bool)[5]})
    llm = parser(fake, retries=0, fallback=RuleBasedParser(bias=0.1))
    assert llm.parse(REQUEST, summary).constraints[0].bias == 0.1


def test_parser_pickles_with_its_cache(fake, summary):
    llm = parser(fake)
    llm.parse(REQUEST, summary)
    copy = pickle.loads(pickle.dumps(llm))
    assert copy.parse(REQUEST, summary) == llm.parse(REQUEST, summary)
    assert len(fake.calls) == 1 and copy.stats.cache_hits == 1
