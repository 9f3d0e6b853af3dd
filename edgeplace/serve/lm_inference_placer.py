"""Serving the lm-inference scenario: cluster state + one slot's prompt batch -> the scheduler's
destinations and every deployer's configuration, from the ``learned`` backend's modules or, without a
checkpoint, the ``rule`` backend's tier 2 (``rule:lm-inference[:ma-rule]``, see :class:`LmRulePolicy`).

The slot runs as in the env (spec d, "Phases"): the scheduler routes the batch on the state, then every
deployer decides on the state after routing (:meth:`ClusterView.routed`, what the simulator shows
then). Observations come from the env's own :class:`SlotObserver`, so they equal the env's bit for
bit; each module acts greedily (the masked argmax of each sub-action), as
:class:`~edgeplace.algos.lm_inference.policy.LearnedPolicy` does in evaluation. The planner does not
act: the state carries the epoch's plan.

A rule policy decides as :mod:`edgeplace.serve.lm_inference_rule` describes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Self

import gymnasium as gym
import numpy as np

from edgeplace.algos.baselines.lm_inference.hierarchies import make_hierarchy
from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.algos.lm_inference.policy import LearnedPolicy, action_logits, argmax_actions, stack
from edgeplace.envs.lm_inference import SCENARIO_ID, LmInferenceConfig
from edgeplace.envs.lm_inference.agents import SCHEDULER
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.hierarchy import Hierarchy
from edgeplace.envs.lm_inference.lm_types import NUM_LMS, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.pod import PodState
from edgeplace.obs_keys import ObsKey
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.lm_inference_placements import Decisions, LmPlacements
from edgeplace.serve.lm_inference_rule import RULE_CONTROLLERS, RULE_SEED, LmRulePolicy, rule_placements
from edgeplace.serve.lm_inference_schemas import (
    LmBatchPlacement,
    LmClusterState,
    LmNode,
    LmPlaceBatchRequest,
    LmPlacement,
    LmPlaceRequest,
    LmPod,
    LmPromptBatch,
    LmQueue,
    ModeName,
    PodStateName,
)
from edgeplace.serve.placer import ScenarioPlacer, ScenarioSchemas
from edgeplace.serve.schema_narrowing import SchemaComponents, narrow_lengths, schema_property
from edgeplace.serve.sources import PolicySource

#: The ``episode`` entries of a served observation (no module reads them).
SERVED_EPISODE = np.zeros(2, dtype=np.int64)
#: Prompts per LM of the example's requests, all from the first origin.
EXAMPLE_PROMPTS = (2, 1, 3, 1)


@dataclass(frozen=True)
class LmJob:
    """One prompt batch on its checked cluster state; placing it leaves both unchanged.

    ``view``: the state with the batch as its ``demand``; ``plan``: the epoch's plan; ``epoch_slot``:
    the slot's index within its epoch.
    """

    view: ClusterView
    plan: Plan
    epoch_slot: int


class LmInferencePlacer(ScenarioPlacer[LmJob, LmJob]):
    """Places lm-inference prompt batches with one trained ``learned`` policy, or one rule controller,
    on one cluster.

    A checked state is an :class:`LmJob` without demand; a checked request is the job on it.

    Args:
        policy: the trained modules and their agent mapping, or a rule controller.
        config: the env config the observations are built for.
        top_k: candidates listed per decision.

    Raises:
        ValueError: the policy's agents or action spaces do not match ``config``'s env.
    """

    scenario = SCENARIO_ID
    schemas = ScenarioSchemas(LmPlaceRequest, LmPlacement, LmPlaceBatchRequest, LmBatchPlacement)
    config_type = LmInferenceConfig
    place_summary = (
        "Route one slot's prompt batch and decide every node's LM deployment on a cluster state "
        "(pods, queues, locks and the epoch's plan)."
    )
    place_batch_summary = (
        "Place each prompt batch independently on the same cluster state (as if each were the slot's "
        "only one): one batched forward per module in all."
    )

    rule_controllers = RULE_CONTROLLERS

    policy: LearnedPolicy | LmRulePolicy
    config: LmInferenceConfig

    def __init__(self, policy: LearnedPolicy | LmRulePolicy, config: LmInferenceConfig, top_k: int) -> None:
        super().__init__(policy, config, top_k)
        env = make_env(config)
        self.cluster, self.params, self.observer = env.cluster, env.params, env.observer
        self.table, self.deployers = env.masks.table, env.deployers
        self.rule: Hierarchy | None = None
        """The rule controller's scheduler and deployer (None: the learned modules act)."""
        if isinstance(policy, LmRulePolicy):
            self.rule = make_hierarchy(policy.controller, self.cluster, self.params, RULE_SEED)
            return
        agents = [SCHEDULER, *self.deployers]
        missing = [agent for agent in agents if agent not in policy.agent_modules]
        if missing:
            raise ValueError(f"policy {policy.name!r} has no module for {missing} of {config.topology}")
        for agent in agents:
            module = policy.modules[policy.agent_modules[agent]]
            if module.action_space != env.action_spaces[agent]:
                raise ValueError(
                    f"policy {policy.name!r}: {agent} acts in {module.action_space}, the env of "
                    f"{config.topology} in {env.action_spaces[agent]}"
                )

    @classmethod
    def restore(cls, source: PolicySource) -> LearnedPolicy | LmRulePolicy:
        if source.rule is not None:
            return LmRulePolicy(source.name, source.rule)
        return LearnedPolicy.from_checkpoint(source.checkpoint, name=source.name)

    @property
    def num_nodes(self) -> int:
        """N: the workers."""
        return self.cluster.num_nodes

    @property
    def num_actions(self) -> int:
        """A deployer's actions: keep plus the widest catalogue (the scheduler picks one of N nodes per
        (origin, LM))."""
        return self.table.num_actions

    @classmethod
    def narrow_schema(cls, components: SchemaComponents, placers: Mapping[str, Self]) -> None:
        num_nodes = [placer.num_nodes for placer in placers.values()]
        narrow_lengths(components, LmClusterState, ("pods", "queues", "nodes"), num_nodes)
        narrow_lengths(components, LmPromptBatch, ("prompts",), num_nodes)
        rows = schema_property(components, LmClusterState, "plan")["items"]
        rows["minItems"], rows["maxItems"] = min(num_nodes), max(num_nodes)
        for model, field in ((LmClusterState, "pods"), (LmClusterState, "queues")):
            row = schema_property(components, model, field)["items"]
            row["minItems"] = row["maxItems"] = NUM_LMS

    def example(self) -> LmPlaceRequest:
        """A body this placer accepts as is: slot 0 of an idle cluster (every pod off, no queue) under
        the uniform plan, and one request per LM from the first origin."""
        n, off = self.num_nodes, LmPod(state=PodStateName.OFF, mode=ModeName.OFF, cores=0, vgpus=0)
        prompts = [[0] * NUM_LMS for _ in range(n)]
        prompts[0] = list(EXAMPLE_PROMPTS)
        return LmPlaceRequest(
            state=LmClusterState(
                plan=[[0] * n for _ in range(NUM_LMS)],
                pods=[[off] * NUM_LMS for _ in range(n)],
                queues=[[LmQueue(backlog_prompts=0)] * NUM_LMS for _ in range(n)],
                nodes=[
                    LmNode(free_cores=int(cores), free_vgpus=int(vgpus), free_ram_gb=float(ram_gb))
                    for cores, vgpus, ram_gb in zip(
                        self.cluster.cores, self.cluster.vgpus, self.cluster.ram_gb, strict=True
                    )
                ],
            ),
            request=LmPromptBatch(prompts=prompts),
            policy=self.policy.name,
        )

    # --- validation -------------------------------------------------------------------------------
    def check_state(self, state: LmClusterState) -> LmJob:
        """Check the state against the cluster; its job without demand.

        Raises:
            ServeInputError: 422 naming the field: a wrong length, a plan weight on a node that cannot
                host the LM, a pod configuration that no pod can have (:class:`NodeConfig`'s rules) or
                with more cores or vGPUs than its node, more free resources than the node has, more
                inbound prompts than backlog.
        """
        n, cluster = self.num_nodes, self.cluster
        for field in ("pods", "queues", "nodes"):
            self.rows(getattr(state, field), n, f"state.{field}", "node")
        for i, row in enumerate(state.plan):
            self.rows(row, n, f"state.plan[{i}]", "node")
        try:
            plan = Plan.from_weights(np.array(state.plan, dtype=np.int64), cluster)
        except ValueError as err:
            raise self.invalid("state.plan", str(err)) from None
        for node, (pods, queues) in enumerate(zip(state.pods, state.queues, strict=True)):
            self.rows(pods, NUM_LMS, f"state.pods[{node}]", "LM")
            self.rows(queues, NUM_LMS, f"state.queues[{node}]", "LM")
            for lm, (pod, queue) in enumerate(zip(pods, queues, strict=True)):
                self.check_pod(pod, node, lm, f"state.pods[{node}][{lm}]")
                if queue.inbound_prompts > queue.backlog_prompts:
                    raise self.invalid(
                        f"state.queues[{node}][{lm}].inbound_prompts",
                        f"{queue.inbound_prompts} inbound prompts exceed the backlog {queue.backlog_prompts}",
                    )
        for node, free in enumerate(state.nodes):
            self.at_most(free.free_cores, int(cluster.cores[node]), f"state.nodes[{node}].free_cores", node)
            self.at_most(free.free_vgpus, int(cluster.vgpus[node]), f"state.nodes[{node}].free_vgpus", node)
            self.at_most(
                free.free_ram_gb, float(cluster.ram_gb[node]), f"state.nodes[{node}].free_ram_gb", node
            )
        return LmJob(
            self.view(state, np.zeros((n, NUM_LMS), dtype=np.int64)),
            plan,
            state.slot % self.config.epoch_slots,
        )

    def check_pod(self, pod: LmPod, node: int, lm: int, field: str) -> None:
        """Raise a 422 naming ``field`` for a pod configuration that breaks the per-pod rules of
        :class:`NodeConfig` or asks for more cores or vGPUs than node ``node`` has."""
        try:
            NodeConfig.from_pods({lm: (Mode[pod.mode.name], pod.cores, pod.vgpus)})
        except ValueError as err:
            raise self.invalid(field, str(err)) from None
        self.at_most(pod.cores, int(self.cluster.cores[node]), f"{field}.cores", node)
        self.at_most(pod.vgpus, int(self.cluster.vgpus[node]), f"{field}.vgpus", node)

    def request_job(self, state: LmJob, request: LmPromptBatch, field: str) -> LmJob:
        """The state's job with the batch as its demand (rows checked to be one per origin)."""
        self.rows(request.prompts, self.num_nodes, f"{field}.prompts", "origin node")
        demand = np.array(request.prompts, dtype=np.int64)  # (N, I)
        demand.setflags(write=False)
        return LmJob(dataclasses.replace(state.view, demand=demand), state.plan, state.epoch_slot)

    def view(self, state: LmClusterState, demand: np.ndarray) -> ClusterView:
        """The state's :class:`ClusterView` with ``demand`` (N, I)."""

        def pairs(rows: Sequence[Sequence[Any]], read: Any, dtype: type = np.int64) -> np.ndarray:
            return np.array([[read(item) for item in row] for row in rows], dtype=dtype)  # (N, I)

        pod_state = pairs(state.pods, lambda pod: PodState[pod.state.name])
        nodes = state.nodes
        return ClusterView(
            slot=state.slot,
            time_s=state.slot * self.params.slot_s,
            demand=demand,
            backlog_prompts=pairs(state.queues, lambda q: q.backlog_prompts),
            inbound_prompts=pairs(state.queues, lambda q: q.inbound_prompts),
            queued_requests=pairs(state.queues, lambda q: q.queued_requests),
            oldest_age_s=pairs(state.queues, lambda q: q.oldest_age_s, np.float64),
            pod_state=pod_state,
            mode=pairs(state.pods, lambda pod: Mode[pod.mode.name]),
            cores=pairs(state.pods, lambda pod: pod.cores),
            vgpus=pairs(state.pods, lambda pod: pod.vgpus),
            transition_left_s=pairs(state.pods, lambda pod: pod.transition_left_s, np.float64),
            pending=(pod_state == PodState.PENDING).any(axis=1),
            free_cores=np.array([node.free_cores for node in nodes], dtype=np.int64),
            free_vgpus=np.array([node.free_vgpus for node in nodes], dtype=np.int64),
            free_ram_gb=np.array([node.free_ram_gb for node in nodes]),
            eta_cpu=np.array([node.eta_cpu for node in nodes]),
            eta_gpu=np.array([node.eta_gpu for node in nodes]),
            eta_mem=np.array([node.eta_mem for node in nodes]),
        )

    def rows(self, values: Sequence[Any], length: int, field: str, item: str) -> None:
        """Raise a 422 naming ``field`` unless ``values`` has one entry per ``item``."""
        if len(values) != length:
            raise self.invalid(
                field, f"expected {length} entries (one per {item} of {self.topology}), got {len(values)}"
            )

    def at_most(self, value: float, limit: float, field: str, node: int) -> None:
        """Raise a 422 naming ``field`` when ``value`` exceeds node ``node``'s ``limit``."""
        if value > limit:
            raise self.invalid(field, f"{value:g} exceeds the {limit:g} of {self.cluster.names[node]}")

    @staticmethod
    def invalid(field: str, detail: str) -> ServeInputError:
        """A 422 naming ``field``."""
        return ServeInputError(HTTPStatus.UNPROCESSABLE_ENTITY, field, detail)

    # --- placement --------------------------------------------------------------------------------
    def place(self, jobs: Sequence[LmJob]) -> list[bytes]:
        return self.placements(jobs).json_documents()

    def batch_json(self, body: LmPlaceBatchRequest, jobs: Sequence[LmJob]) -> bytes:
        return self.placements(jobs).batch_json()

    def decide(self, agents: Sequence[str], observations: Sequence[Mapping[str, Any]]) -> Decisions:
        """Each observation's greedy action and probabilities under its agent's module (one forward per
        module); every agent's module has the same action space.

        Shapes: -> actions (B,) or (B, K); probability, allowed (B, n) or (B, K, N) for the scheduler's
        K = N I parts of N nodes.
        """
        logits: list[Any] = [None] * len(agents)
        groups: dict[str, list[int]] = {}
        for row, agent in enumerate(agents):
            groups.setdefault(self.policy.agent_modules[agent], []).append(row)
        for module_id, members in groups.items():
            out = action_logits(self.policy.modules[module_id], stack([observations[r] for r in members]))
            for row, values in zip(members, out, strict=True):
                logits[row] = values
        space = self.policy.modules[self.policy.agent_modules[agents[0]]].action_space
        stacked = np.stack(logits)  # (B, n)
        actions = argmax_actions(space, stacked)
        mask = [observation[ObsKey.ACTION_MASK] for observation in observations]
        if isinstance(space, gym.spaces.MultiDiscrete):  # N I parts of N destinations
            stacked = stacked.reshape(len(agents), *space.nvec.shape, -1)
            mask = [np.stack(parts) for parts in mask]
        allowed = np.stack(mask).astype(bool)
        masked = np.where(allowed, stacked.astype(np.float64), -np.inf)
        weights = np.exp(masked - masked.max(axis=-1, keepdims=True))
        return Decisions(actions, weights / weights.sum(axis=-1, keepdims=True), allowed)

    def placements(self, jobs: Sequence[LmJob]) -> LmPlacements:
        """Route every job's batch (one scheduler forward), then decide every node's deployment on each
        routed state (one forward per deployer module); a rule policy decides job by job."""
        if self.rule is not None:
            return rule_placements(self, jobs, self.rule)
        observer, n = self.observer, self.num_nodes
        routing = [
            observer.observe(job.view, job.plan, job.epoch_slot, SERVED_EPISODE, [SCHEDULER])[SCHEDULER]
            for job in jobs
        ]
        routes = self.decide([SCHEDULER] * len(jobs), routing)
        routed = [
            job.view.routed(dest.reshape(n, NUM_LMS), self.cluster.can_host)
            for job, dest in zip(jobs, routes.actions, strict=True)
        ]
        flat = [
            observer.observe(view, job.plan, job.epoch_slot, SERVED_EPISODE, self.deployers)[agent]
            for view, job in zip(routed, jobs, strict=True)
            for agent in self.deployers
        ]
        deployments = self.decide([agent for _ in jobs for agent in self.deployers], flat)
        return LmPlacements(self, jobs, routes, deployments)
