"""The prompt of the ``http`` planner (papers/llm-mappo.md, section d, "`http` backend"): one system and
one user message per agent, kept under 1500 tokens on the ``small`` preset (section g).

Ids the model sees and answers with:
    node id: the option index of the region's option list (its edge servers, then EC, CLOUD; NONE is
        the last index and means "leave this replica unplaced"). Only real options are listed (no
        padding rows).
    slot id: the slot index of the env's slot layout (microservice x replica). DAGS has one row per
        microservice listing its replica slots, replica 0 first (replica 0 must be placed; the others
        may be NONE).
    role (PAST): the tier and zone of the node a slot was on, ``ESd``/``ESm``/``ESs`` (edge server in a
        dense/medium/suburban zone), ``EC``, ``CLOUD``; unplaced slots are left out.

NODES' free cpu/mem are the room the agent has for its own slots: the node's free capacity plus what
the agent's current slots hold there (its whole placement is re-bound by a plan).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from edgeplace.planners.soft_plans.feasibility import room
from edgeplace.planners.soft_plans.protocol import PlanContext, Tier

EOP = "<eop>"
"""The token that ends each candidate's plan."""
CHARS_PER_TOKEN = 4
"""Token estimate: characters / 4 (rounded up)."""
CLASS_NAMES = ("XR", "TWIN", "HOLO")
ZONE_NAMES = ("d", "m", "s")
TIER_NAMES = {Tier.ES: "ES", Tier.EC: "EC", Tier.CLOUD: "CLOUD", Tier.NONE: "NONE"}

Trace = tuple[float, list[list]]
"""A past window of one agent: (mean U, [[slot, role], ...] of its placed slots)."""

SYSTEM_TEMPLATE = (
    "You plan microservice placement for edge region {region}. Bind each slot to one node id of NODES; "
    "respect free cpu/mem and slice tags; keep DAG neighbours close; balance load. Output JSON only."
)
SCHEMA_TEMPLATE = (
    'Return exactly {b} candidates as: {{"candidates":[{{"plan":[[<slot_id>,<node_id>],...,"{eop}"],'
    '"w":[4 floats],"psi":[3 in 0..1],"phi":0..1,"R_hat":0..1,"rationale":"<=200 chars"}}]}}'
)
GUIDE_TEMPLATE = (
    "Node {none} = NONE (replica unplaced; never for a row's first slot). Slots left out keep the default. "
    "w weighs latency,resources,balance,success; psi the capacity,SLA,stability penalties; phi the share "
    "of the global reward; R_hat predicts the window's mean utility."
)


def estimate_tokens(text: str) -> int:
    """A rough token count of ``text``: characters / 4, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


def messages_tokens(messages: Sequence[dict[str, str]]) -> int:
    """:func:`estimate_tokens` over the contents of ``messages``."""
    return sum(estimate_tokens(m["content"]) for m in messages)


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def role_name(tier: int, zone: int) -> str:
    """The role of a host: ``ESd``/``ESm``/``ESs``, ``EC``, ``CLOUD`` or ``NONE``."""
    name = TIER_NAMES[Tier(int(tier))]
    return name + ZONE_NAMES[int(zone)] if tier == Tier.ES and 0 <= zone < len(ZONE_NAMES) else name


def real_options(context: PlanContext, region: int) -> np.ndarray:
    """Option indices of the region's real hosts (ES, EC, CLOUD; no padding, no NONE). Shapes: -> (n,)."""
    return np.flatnonzero(context.option_tier[region] != Tier.NONE)


def node_rows(context: PlanContext, region: int) -> list[list]:
    """NODES rows [id, tier, zone, free_cpu, free_mem, util, up] of the region's real options."""
    free = room(context, region)
    rows = []
    for o in real_options(context, region).tolist():
        tier, zone = int(context.option_tier[region, o]), int(context.option_zone[region, o])
        rows.append(
            [
                o,
                TIER_NAMES[Tier(tier)],
                ZONE_NAMES[zone] if 0 <= zone < len(ZONE_NAMES) else "-",
                round(float(free[o, 0]), 1),
                round(float(free[o, 1]), 1),
                round(float(context.util[region, o]), 2),
                int(bool(context.up[region, o])),
            ]
        )
    return rows


def dag_rows(context: PlanContext) -> list[list]:
    """DAGS rows [slots, class, cpu, mem, parents, deadline] of the real microservices: their replica
    slots (replica 0 first), per-replica vCPU and RAM GB, the replica-0 slots of their DAG parents and
    the class deadline in ms."""
    first: dict[tuple[int, int], int] = {}
    slots: dict[tuple[int, int], list[int]] = {}
    for s in np.flatnonzero(context.slot_valid).tolist():
        key = (int(context.slot_class[s]), int(context.slot_ms[s]))
        slots.setdefault(key, []).append(s)
        if context.slot_rep[s] == 0:
            first[key] = s
    rows = []
    for (c, m), members in slots.items():
        s = members[0]
        parents = np.flatnonzero(context.parents[c, m]).tolist()
        rows.append(
            [
                members,
                CLASS_NAMES[c],
                round(float(context.slot_cpu[s]), 2),
                round(float(context.slot_ram_gb[s]), 2),
                [first[(c, i)] for i in parents if (c, i) in first],
                round(float(context.deadline_s[c]) * 1e3, 1),
            ]
        )
    return rows


def telemetry_text(context: PlanContext, region: int) -> str:
    """TELEMETRY: the last step's and the 6-step mean of rate (/400 req/s per ES), cpu util, latency
    (/l_max) and violations."""
    series = context.telemetry[region][:, :4]  # rate, cpu_util, latency, violations
    last = [round(float(v), 2) for v in series[-1]]
    mean = [round(float(v), 2) for v in series.mean(axis=0)]
    return f"TELEMETRY[rate,util,lat,viol] last {_dumps(last)} mean6 {_dumps(mean)} hour {context.hour:.1f}"


def past_text(traces: Sequence[Trace]) -> str:
    """PAST: the agent's recent windows, newest first, as [U, [[slot, role], ...]]."""
    return "PAST[U,[[slot,role],...]] " + _dumps([[round(u, 2), pairs] for u, pairs in traces])


def build_messages(
    context: PlanContext, region: int, candidates: int, traces: Sequence[Trace] | None
) -> list[dict[str, str]]:
    """The system and user messages for ``region``; ``traces`` None leaves PAST out (w/o TopoRAG)."""
    user = [
        "NODES[id,tier,zone,free_cpu,free_mem,util,up] " + _dumps(node_rows(context, region)),
        "DAGS[slots,class,cpu,mem,parents,deadline_ms] " + _dumps(dag_rows(context)),
        telemetry_text(context, region),
    ]
    if traces is not None:
        user.append(past_text(traces))
    user.append(GUIDE_TEMPLATE.format(none=context.num_options - 1))
    user.append(SCHEMA_TEMPLATE.format(b=candidates, eop=EOP))
    return [
        {"role": "system", "content": SYSTEM_TEMPLATE.format(region=region)},
        {"role": "user", "content": "\n".join(user)},
    ]
