"""Validation of the ``http`` planner's answers (papers/llm-mappo.md, section d, "Validation").

The first JSON object of the answer (after any code fence or text before it) must be
``{"candidates": [...]}`` with exactly B candidates, each with a ``plan`` of ``[slot_id, node_id]``
pairs ending with ``"<eop>"`` (and holding it nowhere else), each slot at most once, ``w`` 4 numbers
>= 0 with a positive sum (renormalised), ``psi`` 3 numbers in [0, 1], ``phi`` and ``R_hat`` in [0, 1],
and an optional ``rationale``. Ids may be integers or strings of integers; node id ``"NONE"`` is the
NONE option. Any other break of the schema raises :class:`ReplyError`.

Pairs naming a slot that is not a real slot, a node that is not a real option of the region (nor NONE),
or a binding the place mask forbids are dropped (counted, not errors); :func:`parse_reply` raises when
more than 20 % of a reply's pairs are dropped, or when none is left.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, field_validator

from edgeplace.planners.soft_plans.http_prompt import EOP
from edgeplace.planners.soft_plans.protocol import PlanContext, Tier

MAX_DROPPED_SHARE = 0.2
"""More than this share of a reply's pairs dropped: the reply is rejected (fallback)."""
RATIONALE_CHARS = 200
"""Longest rationale kept (longer ones are cut, not rejected)."""

_FENCE = re.compile(r"```[a-zA-Z]*")
Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Id = StrictInt | StrictStr


class ReplyError(ValueError):
    """An answer the planner must replace by its offline plan; ``kind`` is ``json``, ``schema`` or
    ``dropped``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _Candidate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    plan: list[Annotated[list[Id], Field(min_length=2, max_length=2)] | StrictStr]
    w: Annotated[list[Weight], Field(min_length=4, max_length=4)]
    psi: Annotated[list[Unit], Field(min_length=3, max_length=3)]
    phi: Unit
    R_hat: Unit
    rationale: str = ""

    @field_validator("plan")
    @classmethod
    def _ends_with_eop(cls, plan: list) -> list:
        if not plan or plan[-1] != EOP:
            raise ValueError(f'must end with "{EOP}"')
        if any(isinstance(item, str) for item in plan[:-1]):
            raise ValueError(f'holds a string other than the final "{EOP}"')
        slots = [str(slot).strip() for slot, _ in plan[:-1]]
        if len(set(slots)) < len(slots):
            raise ValueError("names a slot more than once")
        return plan

    @field_validator("w")
    @classmethod
    def _positive_sum(cls, w: list[float]) -> list[float]:
        if not sum(w) > 0:
            raise ValueError("must have a positive sum")
        return w


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    candidates: list[_Candidate]


@dataclass(frozen=True)
class Candidate:
    """One validated candidate. Shapes: slots, options (n,) int64 the kept pairs; w (4,) on the simplex;
    psi (3,)."""

    slots: np.ndarray
    options: np.ndarray
    w: np.ndarray
    psi: np.ndarray
    phi: float
    r_hat: float
    rationale: str


@dataclass(frozen=True)
class ParsedReply:
    """A validated reply: its candidates and the pair counts."""

    candidates: list[Candidate]
    pairs: int
    dropped: int


def first_json_object(text: str) -> Any:
    """The first JSON object in ``text`` (code fences and text around it ignored).

    Raises:
        ReplyError: no JSON object (kind ``json``).
    """
    text = _FENCE.sub("", text)
    start = text.find("{")
    if start < 0:
        raise ReplyError("json", "answer: no JSON object")
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start)
    except ValueError as error:
        raise ReplyError("json", f"answer: not JSON ({error})") from None
    return value


def _as_int(value: int | str) -> int | None:
    if isinstance(value, int):
        return value
    value = value.strip()
    return int(value) if re.fullmatch(r"-?\d+", value) else None


def parse_reply(text: str, context: PlanContext, region: int, candidates: int) -> ParsedReply:
    """The validated candidates of an answer for ``region``.

    Raises:
        ReplyError: bad JSON, a schema failure (wrong candidate count included), or too many dropped
            pairs (module docstring).
    """
    value = first_json_object(text)
    try:
        reply = _Reply.model_validate(value)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ReplyError("schema", f"answer.{where}: {first['msg']} ({error.error_count()} errors)") from None
    if len(reply.candidates) != candidates:
        raise ReplyError("schema", f"answer.candidates: expected {candidates}, got {len(reply.candidates)}")
    none = context.num_options - 1
    known_option = context.option_tier[region] != Tier.NONE
    known_option[none] = True
    allowed = context.place_mask[region]
    parsed, pairs, dropped = [], 0, 0
    for raw in reply.candidates:
        slots, options = [], []
        for slot_id, node_id in raw.plan[:-1]:
            pairs += 1
            slot = _as_int(slot_id)
            node = (
                none if isinstance(node_id, str) and node_id.strip().upper() == "NONE" else _as_int(node_id)
            )
            if (
                slot is None
                or node is None
                or not 0 <= slot < context.num_slots
                or not 0 <= node < context.num_options
                or not context.slot_valid[slot]
                or not known_option[node]
                or not allowed[slot, node]
            ):
                dropped += 1
                continue
            slots.append(slot)
            options.append(node)
        w = np.asarray(raw.w, np.float64)
        parsed.append(
            Candidate(
                slots=np.asarray(slots, np.int64),
                options=np.asarray(options, np.int64),
                w=w / w.sum(),
                psi=np.asarray(raw.psi, np.float64),
                phi=float(raw.phi),
                r_hat=float(raw.R_hat),
                rationale=raw.rationale[:RATIONALE_CHARS],
            )
        )
    if pairs == 0:
        raise ReplyError("schema", "answer: no candidate binds any slot")
    if dropped > MAX_DROPPED_SHARE * pairs:
        raise ReplyError("dropped", f"answer: {dropped} of {pairs} pairs name unknown or masked ids")
    return ParsedReply(parsed, pairs, dropped)
