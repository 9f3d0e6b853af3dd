"""Priors and semantic parsers for placement.

The agent-vne semantic layer: a parser (:class:`RuleBasedParser`, or the optional
:class:`OpenAICompatibleParser` over an OpenAI-compatible HTTP endpoint with the rule-based parser as
fallback) reads a workflow request and a substrate summary and returns a :class:`ConstraintSet`;
:func:`decouple` turns it into the embedding instance (pinned zero-demand anchors) and
:func:`bias_features` into the virtual resource bias of the substrate features.

:class:`ChatClient` is the package's one client of OpenAI-compatible chat-completions endpoints (async
httpx, JSONL transcripts with replay); the LLM parser and the lm-inference ``llm`` backend send through it.

Uses numpy, httpx and the standard library only (no torch, no envs).
"""

from edgeplace.planners.chat_client import ChatClient, ChatError, ReplayMismatchError, run_sync
from edgeplace.planners.constraints import (
    CONSTRAINT_SCHEMA,
    NO_TARGET,
    SCHEMA_VERSION,
    AgentConstraint,
    ConstraintError,
    ConstraintSet,
    SemanticParser,
    attribute_holders,
    parse_constraint_json,
)
from edgeplace.planners.decoupling import FREE, DecoupledRequest, bias_features, decouple
from edgeplace.planners.llm_backend import LLMParserStats, OpenAICompatibleParser
from edgeplace.planners.prompt import build_messages, prompt_payload
from edgeplace.planners.rule_based import ATTRIBUTE_VOCABULARY, DEFAULT_BIAS, RuleBasedParser, target_node

__all__ = [
    "ATTRIBUTE_VOCABULARY",
    "CONSTRAINT_SCHEMA",
    "DEFAULT_BIAS",
    "FREE",
    "NO_TARGET",
    "SCHEMA_VERSION",
    "AgentConstraint",
    "ChatClient",
    "ChatError",
    "ConstraintError",
    "ConstraintSet",
    "DecoupledRequest",
    "LLMParserStats",
    "OpenAICompatibleParser",
    "ReplayMismatchError",
    "RuleBasedParser",
    "SemanticParser",
    "attribute_holders",
    "bias_features",
    "build_messages",
    "decouple",
    "parse_constraint_json",
    "prompt_payload",
    "run_sync",
    "target_node",
]
