"""The ``llm`` backend of the lm-inference scenario (spec d, "`llm` backend"): a planner, a scheduler and
six deployers asking any OpenAI-compatible chat-completions endpoint through the package's one client
(:class:`~edgeplace.planners.chat_client.ChatClient`), with strict JSON validation per agent kind, the
spec's fallbacks (counted in the env's ``fallbacks`` KPI) and JSONL transcripts that replay a run bit
for bit without a server."""

from edgeplace.algos.lm_inference.llm.answers import AnswerError, parse_node_config, parse_plan, parse_routes
from edgeplace.algos.lm_inference.llm.policy import BASELINES, LLM_BACKEND, LlmPolicy, llm_policy
from edgeplace.algos.lm_inference.llm.settings import LlmSettings

__all__ = [
    "BASELINES",
    "LLM_BACKEND",
    "AnswerError",
    "LlmPolicy",
    "LlmSettings",
    "llm_policy",
    "parse_node_config",
    "parse_plan",
    "parse_routes",
]
