"""The ``http`` soft planner (papers/llm-mappo.md, section d, "`http` backend"): any OpenAI-compatible
chat-completions endpoint, through the package's one client
(:class:`~edgeplace.planners.chat_client.ChatClient`), grounded by an offline backend.

Per plan call, the offline backend (``offline``, default ``heuristic``) plans every agent first; then
each agent gets one chat call (at most ``parallel`` at once, numbered for the transcript in agent
order) with the prompt of :mod:`.http_prompt` asking for B candidates, validated by :mod:`.http_schema`.

Conversion of candidate b: p_b(s, .) = .8 onehot(named option) + .2 p_offline(s, .) for the slots with a
kept pair, p_offline(s, .) elsewhere; w, psi, phi from the candidate (psi clipped into
[.001, .999]); z_plan by :func:`~edgeplace.planners.soft_plans.embedding.plan_embedding`. The
dispatched b* maximises R-hat_offline(b) - .5 * overcommit(b) (the first b on ties), where
R-hat_offline(b) is the offline backend's ``predict_r_hat(context, region, plan)`` when it has one, else
the R-hat of its own plan (the ``heuristic`` running mean, equal for all b), and overcommit(b) is the
share of the real slots whose argmax binding lands on an over-committed option: an option (not NONE)
whose bound slots' summed cpu or RAM exceeds its free capacity plus what the agent's current slots hold
there (:func:`~.feasibility.room`). The plan's R-hat is R-hat_offline(b*); the model's own R_hat is
only logged.

Fallback: an HTTP error (after the retries), a timeout, bad JSON, a schema failure (the candidate count
included) or more than 20 % of the pairs dropped gives the agent the offline plan with
``source="fallback"``. Every call's latency, token counts and outcome are logged (and kept in
:attr:`HttpPlanner.call_log`); :attr:`HttpPlanner.stats` sums them. The chat client does not hand back
the answer's ``usage``, so token counts are estimates (characters / 4) of the prompt and the answer.

``record`` keeps each agent's last 3 windows for the prompt's PAST and forwards the outcome to the
offline backend.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from edgeplace.planners.chat_client import ChatError, run_sync
from edgeplace.planners.chat_settings import ChatEndpointSettings
from edgeplace.planners.soft_plans.embedding import plan_embedding, plan_summary
from edgeplace.planners.soft_plans.feasibility import overcommit_share
from edgeplace.planners.soft_plans.http_prompt import (
    Trace,
    build_messages,
    estimate_tokens,
    messages_tokens,
    role_name,
)
from edgeplace.planners.soft_plans.http_schema import Candidate, ReplyError, parse_reply
from edgeplace.planners.soft_plans.protocol import AgentPlan, PlanContext, SoftPlanner, WindowOutcome

logger = logging.getLogger(__name__)

NAME = "http"
NAMED_MASS = 0.8
"""p(s, .) = .8 onehot(named option) + .2 p_offline(s, .)."""
OVERCOMMIT_WEIGHT = 0.5
PSI_CLIP = (1e-3, 1 - 1e-3)
PAST_WINDOWS = 3
CALL_LOG_SIZE = 1000
FALLBACK_KINDS = ("http", "timeout", "json", "schema", "dropped")


@dataclass(frozen=True)
class HttpPlannerOptions(ChatEndpointSettings):
    """The ``http`` backend's options (``planner_options``): the shared chat endpoint settings (at most
    800 answer tokens) and the backend's own, checked on construction.

    Raises:
        PolicyUnavailable: no base_url or model (option or env var) and no replay.
        ValueError: a bad option, naming it.
    """

    where: ClassVar[str] = f"planner {NAME!r}: option"

    max_tokens: int = 800
    timeout_s: float = 20.0
    """Limit of each attempt of a call, s."""
    candidates: int = 3
    """B."""
    parallel: int = 4
    """Most chat calls in flight at once."""
    with_traces: bool = True
    """False: no PAST section (the "w/o TopoRAG" ablation)."""
    offline: str = "heuristic"
    """Offline backend for p_offline, R-hat and the fallback."""
    offline_options: Mapping[str, Any] | None = None
    """Options of the offline backend."""

    def __post_init__(self) -> None:
        super().__post_init__()
        where = self.where
        if isinstance(self.timeout_s, bool) or not isinstance(self.timeout_s, int | float):
            raise ValueError(f"{where} timeout_s must be a number, got {self.timeout_s!r}")
        if not (np.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ValueError(f"{where} timeout_s must be > 0, got {self.timeout_s!r}")
        for name in ("candidates", "parallel"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{where} {name} must be an integer >= 1, got {value!r}")
        if not isinstance(self.with_traces, bool):
            raise ValueError(f"{where} with_traces must be true or false, got {self.with_traces!r}")
        if not isinstance(self.offline, str) or self.offline == NAME:
            raise ValueError(f"{where} offline must name an offline backend, not {self.offline!r}")
        if self.offline_options is not None and not isinstance(self.offline_options, Mapping):
            raise ValueError(f"{where} offline_options must be a mapping, got {self.offline_options!r}")

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> HttpPlannerOptions:
        """The options of a ``planner_options`` mapping.

        Raises:
            ValueError: an unknown option (listing the known ones), or a bad value.
        """
        options = dict(options or {})
        known = [f.name for f in dataclasses.fields(cls)]
        if unknown := sorted(set(options) - set(known)):
            raise ValueError(f"planner {NAME!r}: unknown options {unknown}; known: {known}")
        return cls(**options)


@dataclass(frozen=True)
class HttpPlannerStats:
    """Counters of an :class:`HttpPlanner` since it was built.

    Attributes:
        plans: agent plans made (LLM plans and fallbacks).
        calls: chat calls (one per agent plan).
        http_calls: HTTP requests sent, retries included.
        fallbacks: agent plans that fell back to the offline plan.
        fallback_reasons: fallbacks per kind (``http``, ``timeout``, ``json``, ``schema``, ``dropped``).
        last_fallback_reason: why the last fallback happened ("" if none).
        pairs, dropped_pairs: [slot, node] pairs in the validated replies, and those dropped.
        prompt_tokens, completion_tokens: estimated tokens sent and received (characters / 4).
        latency_s, max_latency_s: summed and largest call latency, s.
    """

    plans: int = 0
    calls: int = 0
    http_calls: int = 0
    fallbacks: int = 0
    fallback_reasons: Mapping[str, int] = field(default_factory=dict)
    last_fallback_reason: str = ""
    pairs: int = 0
    dropped_pairs: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    max_latency_s: float = 0.0


@dataclass
class _Answer:
    """One agent's chat call: the answer or the error, and its cost."""

    text: str | None
    error: str
    kind: str
    latency_s: float
    prompt_tokens: int


class HttpPlanner:
    """``http``: B candidate plans per agent from a chat-completions endpoint (module docstring).

    Args:
        seed: fills ``{seed}`` in the transcript and replay paths; seeds the offline backend.
        options: :class:`HttpPlannerOptions` fields.
    """

    name = NAME

    def __init__(self, seed: int = 0, options: Mapping[str, Any] | None = None) -> None:
        from edgeplace.planners.soft_plans.registry import make_planner  # the registry imports backends

        self.options = HttpPlannerOptions.from_options(options).for_seed(seed)
        opts = self.options
        self.offline: SoftPlanner = make_planner(opts.offline, seed=seed, options=opts.offline_options)
        if self.offline is None:
            raise ValueError(f"planner {NAME!r}: option offline must name a backend, not {opts.offline!r}")
        self.client = opts.client()
        self.traces: dict[int, deque[Trace]] = {}
        self.call_log: deque[dict[str, Any]] = deque(maxlen=CALL_LOG_SIZE)
        """One record per chat call, oldest dropped first."""
        self._stats = HttpPlannerStats()
        self._reasons: Counter[str] = Counter()

    @property
    def stats(self) -> HttpPlannerStats:
        """A snapshot of the counters."""
        return dataclasses.replace(
            self._stats, http_calls=self.client.http_calls, fallback_reasons=dict(self._reasons)
        )

    def messages(self, context: PlanContext, region: int) -> list[dict[str, str]]:
        """The chat messages the planner sends for ``region`` now."""
        traces = list(self.traces.get(region, ())) if self.options.with_traces else None
        return build_messages(context, region, self.options.candidates, traces)

    # --- plan ----------------------------------------------------------------------------------
    def plan(self, context: PlanContext) -> dict[int, AgentPlan]:
        offline = self.offline.plan(context)
        regions = context.agents.tolist()
        requests = [self.messages(context, k) for k in regions]
        answers = run_sync(self._ask_all(regions, requests))
        return {
            k: self._plan_one(context, k, offline[k], answer)
            for k, answer in zip(regions, answers, strict=True)
        }

    async def _ask_all(self, regions: list[int], requests: list[list[dict[str, str]]]) -> list[_Answer]:
        gate = asyncio.Semaphore(self.options.parallel)  # FIFO: calls start (and are numbered) in order
        return await asyncio.gather(*(self._ask(k, m, gate) for k, m in zip(regions, requests, strict=True)))

    async def _ask(self, region: int, messages: list[dict[str, str]], gate: asyncio.Semaphore) -> _Answer:
        tokens = messages_tokens(messages)
        async with gate:
            start = time.perf_counter()
            try:
                text = await self.client.complete(
                    messages, timeout_s=self.options.timeout_s, tag=f"ec_{region}"
                )
                error, kind = "", ""
            except ChatError as err:
                text, error = None, str(err)
                kind = "timeout" if "timed out" in error else "http"
            return _Answer(text, error, kind, time.perf_counter() - start, tokens)

    def _plan_one(self, context: PlanContext, region: int, offline: AgentPlan, answer: _Answer) -> AgentPlan:
        entry: dict[str, Any] = {
            "agent": region,
            "event": str(context.event),
            "time_s": context.time_s,
            "latency_s": answer.latency_s,
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": 0 if answer.text is None else estimate_tokens(answer.text),
        }
        kind, reason = answer.kind, answer.error
        parsed = None
        if answer.text is not None:
            try:
                parsed = parse_reply(answer.text, context, region, self.options.candidates)
            except ReplyError as err:
                kind, reason = err.kind, str(err)
        if parsed is not None:
            plans = [self._convert(context, region, offline, c) for c in parsed.candidates]
            scores = [self._score(context, region, offline, plan) for plan in plans]
            best = int(np.argmax([r - OVERCOMMIT_WEIGHT * o for r, o in scores]))
            plan = dataclasses.replace(plans[best], r_hat=scores[best][0])
            entry |= {
                "source": NAME,
                "chosen": best,
                "pairs": parsed.pairs,
                "dropped": parsed.dropped,
                "r_hat_offline": [r for r, _ in scores],
                "overcommit": [o for _, o in scores],
                "r_hat_llm": [c.r_hat for c in parsed.candidates],
                "rationale": parsed.candidates[best].rationale,
            }
        else:
            plan = dataclasses.replace(offline, source="fallback")
            entry |= {"source": "fallback", "reason": kind, "error": reason}
            self._reasons[kind] += 1
            logger.warning("http planner fell back to %s for ec_%d: %s", self.options.offline, region, reason)
        self._account(entry, parsed)
        logger.info(
            "http planner ec_%d: %s in %.3f s, ~%d prompt / ~%d answer tokens",
            region,
            entry["source"],
            entry["latency_s"],
            entry["prompt_tokens"],
            entry["completion_tokens"],
        )
        self.call_log.append(entry)
        return plan

    def _account(self, entry: dict[str, Any], parsed: Any) -> None:
        s = self._stats
        fallback = entry["source"] == "fallback"
        self._stats = dataclasses.replace(
            s,
            plans=s.plans + 1,
            calls=s.calls + 1,
            fallbacks=s.fallbacks + fallback,
            last_fallback_reason=f"{entry['reason']}: {entry['error']}"
            if fallback
            else s.last_fallback_reason,
            pairs=s.pairs + (parsed.pairs if parsed else 0),
            dropped_pairs=s.dropped_pairs + (parsed.dropped if parsed else 0),
            prompt_tokens=s.prompt_tokens + entry["prompt_tokens"],
            completion_tokens=s.completion_tokens + entry["completion_tokens"],
            latency_s=s.latency_s + entry["latency_s"],
            max_latency_s=max(s.max_latency_s, entry["latency_s"]),
        )

    def _convert(
        self, context: PlanContext, region: int, offline: AgentPlan, candidate: Candidate
    ) -> AgentPlan:
        """Candidate b as a plan (module docstring); r_hat is filled in by the caller."""
        p = offline.p.copy()
        slots, options = candidate.slots, candidate.options
        p[slots] *= 1 - NAMED_MASS
        p[slots, options] += NAMED_MASS
        psi = np.clip(candidate.psi, *PSI_CLIP)
        summary = plan_summary(p, context.option_tier[region], context.slot_class, context.slot_valid)
        return AgentPlan(
            w=candidate.w,
            p=p,
            psi=psi,
            phi=candidate.phi,
            r_hat=offline.r_hat,
            z_plan=plan_embedding(candidate.w, summary, psi, candidate.phi),
            source=NAME,
            candidates=self.options.candidates,
        )

    def _score(
        self, context: PlanContext, region: int, offline: AgentPlan, plan: AgentPlan
    ) -> tuple[float, float]:
        """(R-hat_offline, overcommit share) of a candidate plan."""
        predict = getattr(self.offline, "predict_r_hat", None)
        r_hat = float(predict(context, region, plan)) if callable(predict) else float(offline.r_hat)
        return r_hat, float(overcommit_share(plan.p[None], context, region)[0])

    # --- record --------------------------------------------------------------------------------
    def record(self, outcome: WindowOutcome) -> None:
        """Keep the window as the agent's newest PAST trace; forward it to the offline backend."""
        context, k = outcome.context, outcome.agent
        none = context.num_options - 1
        pairs = [
            [s, role_name(context.option_tier[k, o], context.option_zone[k, o])]
            for s, o in enumerate(np.asarray(outcome.choice).tolist())
            if context.slot_valid[s] and o != none
        ]
        self.traces.setdefault(k, deque(maxlen=PAST_WINDOWS)).appendleft((float(outcome.utility), pairs))
        self.offline.record(outcome)
