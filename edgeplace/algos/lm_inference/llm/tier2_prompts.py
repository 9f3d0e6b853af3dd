"""The llm scheduler's and deployers' compact prompts (spec d, "`llm` backend", "Prompts"), decided on
the slot's :class:`ClusterView` and the epoch's plan."""

from __future__ import annotations

import numpy as np

from edgeplace.algos.lm_inference.llm.sentences import ANSWER_RULE, node_hardware, number
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.lm_types import LM_LABELS, LM_TABLE, Mode
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.pod import PodState

SCHEDULER_SYSTEM = (
    "You route this slot's LM requests of an edge cluster to worker nodes. "
    f'{ANSWER_RULE} Format: {{"routes": {{"<origin>": {{"<LM>": "<node>", ...}}, ...}}}}, one '
    "destination for each request listed. Choose nodes that can run the LM, preferably in the LM's "
    "role (marked *), with a short expected wait: backlog x time per prompt, plus the time until the "
    "pod is ready."
)
DEPLOYER_SYSTEM = (
    "You configure the LM pods of one worker node of an edge cluster, every slot. "
    f'{ANSWER_RULE} Format: {{"LM1": {{"mode": "cpu", "cpu": 6}}, "LM4": {{"mode": "gpu", "vgpu": 2, '
    '"cpu": 2}}; LMs you omit are turned off. Resources are integers >= 1; GPU-only LMs need mode gpu; '
    "the cores, vGPUs, RAM and vRAM of the pods must fit the node; leave locked pods exactly as they "
    "are. Changing a pod's mode or vGPUs restarts it (it serves nothing until ready again); keep LMs in "
    "the node's role with requests waiting running."
)


def scheduler_messages(
    view: ClusterView, plan: Plan, estimates: tuple[np.ndarray, np.ndarray], cluster: Cluster
) -> list[dict[str, str]]:
    """The scheduler's ``[system, user]`` messages.

    Shapes: estimates: (time per prompt, time to ready) of every pod, s, (N, I) each.
    """
    prompt_s, ready_s = estimates
    names = cluster.names
    origin, lm = np.nonzero(view.demand)
    requests = "; ".join(
        f"{names[o]} {LM_LABELS[i]} {view.demand[o, i]} prompts" for o, i in zip(origin, lm, strict=True)
    )
    lines = [f"Slot {view.slot}. Requests: {requests or 'none'}."]
    for i in np.unique(lm):
        nodes = [
            f"{names[n]}{'*' if plan.roles[n, i] else ''} p {number(plan.routing[i, n])} backlog "
            f"{view.backlog_prompts[n, i]} at {number(prompt_s[n, i])} s, ready in {number(ready_s[n, i])} s"
            for n in np.flatnonzero(cluster.can_host[:, i])
        ]
        lines.append(f"{LM_LABELS[i]}: " + "; ".join(nodes) + ".")
    return [{"role": "system", "content": SCHEDULER_SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def deployer_messages(view: ClusterView, plan: Plan, cluster: Cluster, node: int) -> list[dict[str, str]]:
    """Node ``node``'s deployer's ``[system, user]`` messages (its view after this slot's routing)."""
    lines = [
        f"node {cluster.names[node]}; slot {view.slot}; {node_hardware(cluster, node)}; free now: "
        f"{view.free_cores[node]} cores, {view.free_vgpus[node]} vGPUs, {number(view.free_ram_gb[node])} GB "
        f"RAM; a pod pending: {'yes, new allocations are void' if view.pending[node] else 'no'}."
    ]
    for lm, label in enumerate(LM_LABELS):
        if not cluster.can_host[node, lm]:
            continue
        mode, cores, vgpus = view.node_config(node).pod(lm)
        pod = "off" if mode == Mode.OFF else f"{Mode(mode).name.lower()} {cores} cores {vgpus} vGPUs"
        state = PodState(view.pod_state[node, lm]).name.lower()
        lines.append(
            f"{label}{' (GPU only)' if not LM_TABLE.cpu_allowed[lm] else ''}: role "
            f"{'yes' if plan.roles[node, lm] else 'no'}, p {number(plan.routing[lm, node])}; pod {state}, "
            f"heading to {pod}{' [locked]' if view.locked[node, lm] else ''}; queued "
            f"{view.backlog_prompts[node, lm] - view.inbound_prompts[node, lm]}, inbound "
            f"{view.inbound_prompts[node, lm]} prompts, oldest waiting "
            f"{number(view.oldest_age_s[node, lm])} s."
        )
    return [{"role": "system", "content": DEPLOYER_SYSTEM}, {"role": "user", "content": "\n".join(lines)}]
