"""The ``memory`` planner (TopoRAG, papers/llm-mappo.md, section d), the default backend: it encodes each
region's context, retrieves similar past windows from the trace memory, prunes and re-ranks them with the
learned scorer, fuses the top 3 into a plan, draws B candidates around it and dispatches the one with the
best predicted utility less the share of bindings that over-commit a host. Every closed window becomes a
trace; when the predicted utility drifts from the realised one (mean |R-hat - U| over 20 windows > .1),
the scorer is refitted on the memory and the traces are re-embedded.

Deviations (documented): "w/o TopoRAG" (``use_traces: false``) plans p_heur with the static weights
and keeps the learned R-hat (the spec's context-only MLP for w, psi, phi is not built); refits run at
once (the spec's ``small`` rule) in every preset.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgeplace.atomic_io import write_directory_atomic
from edgeplace.models.toporag import ContextInputs, TopoRagArgs, TopoRagScorer, TraceInputs
from edgeplace.planners.soft_plans.context_archive import ContextArchive
from edgeplace.planners.soft_plans.embedding import plan_embedding, plan_summary
from edgeplace.planners.soft_plans.feasibility import overcommit_share
from edgeplace.planners.soft_plans.heuristic import NEUTRAL_PSI, heuristic_bindings, spare_replicas_to_none
from edgeplace.planners.soft_plans.memory_batches import Retrieved, stacked, trace_batch
from edgeplace.planners.soft_plans.memory_inputs import (
    context_inputs,
    plan_bindings,
    query_graph,
    record_columns,
    retrieval_query,
)
from edgeplace.planners.soft_plans.memory_training import FitReport, fit_scorer, reembed
from edgeplace.planners.soft_plans.protocol import AgentPlan, PlanContext, PlanEvent, WindowOutcome
from edgeplace.planners.trace_memory import CAPACITY, TraceLayout, TraceMemory, retrieve
from edgeplace.torch_threads import torch_threads

NAME = "memory"
TRACES_FILE, CONTEXTS_FILE, SCORER_FILE, STATE_FILE = (
    "traces.npz",
    "contexts.npz",
    "scorer.pt",
    "planner.json",
)
HEURISTIC_SHARE = 0.2
"""p = mask-renormalise(.8 sum_j pi_j p_j + .2 p_heur)."""
GUMBEL_TEMPERATURE = 0.5
DIRICHLET_CONCENTRATION = 20.0
NOISE_SD = 0.05
OVERCOMMIT_PENALTY = 0.5
BOOTSTRAP_RANGE = (0.2, 0.8)


@dataclass(frozen=True)
class MemoryOptions:
    """Options of the ``memory`` backend (``planner_options`` of the env config)."""

    memory_dir: str | None = None
    """A directory written by :meth:`MemoryPlanner.save` (``edgeplace planners build-memory``) to start
    from; None: an empty memory and an untrained scorer."""
    capacity: int = CAPACITY["small"]
    candidates: int = 3
    """B."""
    use_traces: bool = True
    """False: the "w/o TopoRAG" ablation (no retrieval)."""
    bootstrap: bool = False
    """Bootstrap rollouts: dispatch p_heur with w ~ Dir(2 * 1) and psi, phi ~ U(.2, .8) (no retrieval,
    no refits), recording every window."""
    refit: bool = True
    refit_epochs: int = 5
    drift_window: int = 20
    drift_threshold: float = 0.1
    policy_id: int = 0
    lr: float = 1e-3

    def __post_init__(self) -> None:
        where = "planner 'memory' option"
        if self.memory_dir is not None and not isinstance(self.memory_dir, str | Path):
            raise ValueError(f"{where} memory_dir must be a path, got {self.memory_dir!r}")
        for name in ("capacity", "candidates", "refit_epochs", "drift_window"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{where} {name} must be an integer >= 1, got {value!r}")
        for name in ("use_traces", "refit", "bootstrap"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{where} {name} must be true or false, got {getattr(self, name)!r}")
        if not (isinstance(self.policy_id, int) and 0 <= self.policy_id < 2**15):
            raise ValueError(f"{where} policy_id must be an integer in [0, 32768), got {self.policy_id!r}")
        for name in ("drift_threshold", "lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{where} {name} must be > 0, got {getattr(self, name)!r}")

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> MemoryOptions:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options or {}) - known)
        if unknown:
            raise ValueError(f"planner 'memory': unknown options {unknown}; known: {sorted(known)}")
        return cls(**dict(options or {}))


class MemoryPlanner:
    """``memory``: TopoRAG retrieval, the learned scorer, candidate plans and R-hat selection."""

    name = NAME

    def __init__(self, seed: int = 0, options: Mapping[str, Any] | None = None) -> None:
        self.options = MemoryOptions.from_mapping(options)
        self.seed = seed
        torch.manual_seed(seed)
        self.scorer = TopoRagScorer(TopoRagArgs()).eval()
        self.memory: TraceMemory | None = None
        self.archive = ContextArchive()
        self.clock_s = 0.0
        self._episode_start_s = 0.0
        self._pending: dict[int, tuple[dict, dict, np.ndarray]] = {}
        self._drift: dict[int, deque[float]] = {}
        self.refits = 0
        self.r_max = 1
        if self.options.memory_dir is not None:
            self._load(Path(self.options.memory_dir))

    # --- planning ----------------------------------------------------------------------------
    def plan(self, context: PlanContext) -> dict[int, AgentPlan]:
        with torch_threads(1):
            return self._plan(context)

    def _plan(self, context: PlanContext) -> dict[int, AgentPlan]:
        self._ensure_memory(context)
        if context.event is PlanEvent.RESET:
            self._episode_start_s = self.clock_s
        rng = np.random.default_rng(context.seed)
        agents = context.agents.tolist()
        ctx_rows = [context_inputs(context, k, self.options.policy_id) for k in agents]
        graphs = [query_graph(context, k) for k in agents]
        with torch.no_grad():
            q = self.scorer.encoder(ContextInputs.from_mapping(stacked(ctx_rows)))  # (A, 64)
            retrieved = [self._retrieve(context, k, row) for k, row in zip(agents, q.numpy(), strict=True)]
            pi = self._fusion(graphs, retrieved, q, context.r_max)
        plans = {}
        for i, k in enumerate(agents):
            plans[k] = self._dispatch(context, k, q[i], retrieved[i], pi[i], rng)
            self._pending[k] = (ctx_rows[i], graphs[i], q[i].numpy())
        return plans

    def predict_r_hat(self, context: PlanContext, region: int, plan: AgentPlan) -> float:
        """R-hat of ``plan`` in ``context`` (the http backend's offline value of its candidates)."""
        with torch_threads(1), torch.no_grad():
            q = self.scorer.encoder(ContextInputs.from_mapping(stacked([context_inputs(context, region)])))
            return float(self.scorer.plan(q, torch.as_tensor(plan.z_plan[None]))[0])

    def _retrieve(self, context: PlanContext, region: int, q_ctx: np.ndarray) -> Retrieved:
        empty = Retrieved(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), self.memory.layout.empty(0))
        if self.options.bootstrap or not (self.options.use_traces and len(self.memory)):
            return empty
        found = retrieve(self.memory, retrieval_query(context, region, q_ctx))
        ttl = self.memory.ttl_s or max(self.memory.now_s, 1.0)
        age = np.maximum(self.memory.now_s - found.records["timestamp_s"], 0.0) / ttl
        return Retrieved(found.ids, found.score, age, found.records)

    def _fusion(self, graphs: list, retrieved: list[Retrieved], q: torch.Tensor, r_max: int) -> np.ndarray:
        """pi of every query's retrieved traces (zeros where none). Shapes: -> (A, kappa_ret)."""
        traces, _ = trace_batch(self.memory, graphs, retrieved, r_max)
        if not traces["trace_valid"].any():
            return np.zeros(traces["trace_valid"].shape)
        scores = self.scorer.traces(TraceInputs.from_mapping(traces), q).scores
        return self.scorer.fuse(scores).numpy().astype(np.float64)

    def _dispatch(
        self,
        context: PlanContext,
        region: int,
        q_ctx: torch.Tensor,
        found: Retrieved,
        pi: np.ndarray,
        rng: np.random.Generator,
    ) -> AgentPlan:
        p_heur = heuristic_bindings(context, region)
        weights = pi[: len(found.ids)]
        if self.options.bootstrap:
            p, w = p_heur, rng.dirichlet(np.full(4, 2.0))
            psi, phi = rng.uniform(*BOOTSTRAP_RANGE, 3), float(rng.uniform(*BOOTSTRAP_RANGE))
        elif weights.sum() > 0:
            mixed = np.tensordot(weights, plan_bindings(context, region, found.records), axes=1)
            p = spare_replicas_to_none(
                (1 - HEURISTIC_SHARE) * mixed + HEURISTIC_SHARE * p_heur, context, region
            )
            w = weights @ found.records["w"].astype(np.float64)
            psi = weights @ found.records["psi"].astype(np.float64)
            phi = float(weights @ found.records["phi"])
        else:
            p, w, psi, phi = (
                p_heur,
                context.static_weights.copy(),
                np.full(3, NEUTRAL_PSI),
                context.static_phi,
            )
        candidates = [(p, w, psi, phi)]
        if not self.options.bootstrap:
            candidates += self._perturbed(p, w, psi, phi, context.place_mask[region], rng)
        z = np.stack(
            [
                plan_embedding(
                    cw,
                    plan_summary(cp, context.option_tier[region], context.slot_class, context.slot_valid),
                    cpsi,
                    cphi,
                )
                for cp, cw, cpsi, cphi in candidates
            ]
        )
        with torch.no_grad():
            r_hat = self.scorer.plan(q_ctx.expand(len(candidates), -1), torch.as_tensor(z)).numpy()
        over = overcommit_share(np.stack([c[0] for c in candidates]), context, region)
        best = int(np.argmax(r_hat - OVERCOMMIT_PENALTY * over))
        p, w, psi, phi = candidates[best]
        return AgentPlan(w, p, psi, phi, float(r_hat[best]), z[best], NAME, len(candidates))

    def _perturbed(
        self,
        p: np.ndarray,
        w: np.ndarray,
        psi: np.ndarray,
        phi: float,
        allowed: np.ndarray,
        rng: np.random.Generator,
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
        """B - 1 candidates around the fused plan: Gumbel-perturbed bindings at temperature .5, w ~
        Dirichlet(20 w), psi and phi + N(0, .05)."""
        out = []
        log_p = np.log(np.where(allowed & (p > 0), p, 1.0))
        for _ in range(self.options.candidates - 1):
            logits = np.where(
                allowed & (p > 0), (log_p + rng.gumbel(size=p.shape)) / GUMBEL_TEMPERATURE, -np.inf
            )
            top = logits.max(axis=1, keepdims=True)
            weights = np.where(
                np.isfinite(logits), np.exp(logits - np.where(np.isfinite(top), top, 0.0)), 0.0
            )
            sampled = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-300)
            out.append(
                (
                    sampled,
                    rng.dirichlet(DIRICHLET_CONCENTRATION * np.maximum(w, 1e-3)),
                    np.clip(psi + rng.normal(0.0, NOISE_SD, psi.shape), 0.01, 0.99),
                    float(np.clip(phi + rng.normal(0.0, NOISE_SD), 0.0, 1.0)),
                )
            )
        return out

    # --- memory ------------------------------------------------------------------------------
    def _ensure_memory(self, context: PlanContext) -> None:
        layout = TraceLayout(int(context.num_ms.size), context.num_slots, int(context.edge_valid.size))
        self.r_max = context.r_max
        if self.memory is None:
            self.memory = TraceMemory(layout, capacity=self.options.capacity, seed=self.seed)
        elif self.memory.layout != layout:
            raise ValueError(
                f"planner 'memory': the memory's layout {self.memory.layout} does not fit the env's {layout}"
            )

    def record(self, outcome: WindowOutcome) -> None:
        pending = self._pending.pop(outcome.agent, None)
        if pending is None:
            return
        ctx_row, graph, q_ctx = pending
        timestamp = self._episode_start_s + outcome.context.time_s + outcome.duration_s
        self.clock_s = max(self.clock_s, timestamp)
        columns = record_columns(outcome, q_ctx, timestamp, self.options.policy_id)
        (trace_id,) = self.memory.add(columns).tolist()
        self.archive.add(trace_id, self._archived(ctx_row, graph, outcome.plan.z_plan))
        drift = self._drift.setdefault(outcome.agent, deque(maxlen=self.options.drift_window))
        drift.append(abs(outcome.plan.r_hat - outcome.utility))
        if (
            self.options.refit
            and len(drift) == drift.maxlen
            and np.mean(drift) > self.options.drift_threshold
        ):
            self.refit(self.options.refit_epochs)

    @staticmethod
    def _archived(ctx_row: dict, graph: dict, z_plan: np.ndarray) -> dict[str, np.ndarray]:
        """The archive entry of a trace (floats stored as float32)."""
        entry = {
            **{f"ctx.{k}": v for k, v in ctx_row.items()},
            **{f"graph.{k}": v for k, v in graph.items()},
            "z_plan": z_plan,
        }
        return {
            k: np.asarray(v, np.float32) if np.asarray(v).dtype == np.float64 else v for k, v in entry.items()
        }

    def refit(self, epochs: int) -> FitReport:
        """Fit the scorer on the memory (80/20) and re-embed every trace with the refitted encoder."""
        self.archive.keep(self.memory.ids())
        report = fit_scorer(
            self.scorer,
            self.memory,
            self.archive,
            epochs=epochs,
            lr=self.options.lr,
            seed=self.seed + self.refits,
            r_max=self.r_max,
        )
        self.memory = reembed(self.scorer, self.memory, self.archive)
        self._drift.clear()
        self.refits += 1
        return report

    # --- persistence -------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the memory, the context archive, the scorer and the clock into ``directory`` atomically."""
        if self.memory is None:
            raise ValueError("planner 'memory': nothing to save before the first plan")
        self.archive.keep(self.memory.ids())

        def fill(staging: Path) -> None:
            self.memory.save(staging / TRACES_FILE)
            self.archive.save(staging / CONTEXTS_FILE)
            torch.save(self.scorer.state_dict(), staging / SCORER_FILE)
            state = {
                "clock_s": self.clock_s,
                "refits": self.refits,
                "r_max": self.r_max,
                "scorer_args": asdict(self.scorer.args),
            }
            (staging / STATE_FILE).write_text(json.dumps(state, indent=2))

        return write_directory_atomic(Path(directory), fill)

    def _load(self, directory: Path) -> None:
        missing = [
            name
            for name in (TRACES_FILE, CONTEXTS_FILE, SCORER_FILE, STATE_FILE)
            if not (directory / name).is_file()
        ]
        if missing:
            raise ValueError(f"planner 'memory': memory_dir {directory} lacks {missing}")
        state = json.loads((directory / STATE_FILE).read_text())
        self.scorer = TopoRagScorer(TopoRagArgs(**state["scorer_args"]))
        self.scorer.load_state_dict(torch.load(directory / SCORER_FILE, weights_only=True))
        self.scorer.eval()
        self.memory = TraceMemory.load(directory / TRACES_FILE)
        self.archive = ContextArchive.load(directory / CONTEXTS_FILE)
        self.clock_s = self._episode_start_s = float(state["clock_s"])
        self.refits, self.r_max = int(state["refits"]), int(state["r_max"])
