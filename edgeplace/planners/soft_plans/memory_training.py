"""Training the ``memory`` planner's scorer on its trace memory (papers/llm-mappo.md, section d,
"Training and drift"; Table 3 of section g).

Every archived trace is one example: its own context is encoded, the traces *older* than it are retrieved
(by its recorded q_ctx), pruned, re-ranked and fused, and the loss is ``MSE(R-hat, U) + .5 MSE(KPI
prediction, realised KPIs)`` with the window's dispatched z_plan. Examples are split 80/20 by a seeded
permutation; :func:`evaluate_scorer` reports Table 3's mean squared error over (U, latency / l_max,
violations, cpu utilisation), bucketed by the window's cpu utilisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from edgeplace.models.toporag import ContextInputs, TopoRagScorer, TraceInputs
from edgeplace.planners.soft_plans.context_archive import ContextArchive
from edgeplace.planners.soft_plans.memory_batches import Retrieved, trace_batch
from edgeplace.planners.trace_memory import KAPPA_RET, TOP_K, RetrievalQuery, TraceMemory, retrieve
from edgeplace.torch_threads import torch_threads

KPI_WEIGHT = 0.5
TRAIN_SHARE = 0.8
UTIL_BUCKETS = (0.3, 0.6)
"""Table 3's buckets of mean ES utilisation: <= 30 %, 30-60 %, above 60 % (the spec's 60-85 %, with the
rare windows above 85 % in it)."""
BUCKET_NAMES = ("<=30%", "30-60%", "60-85%")
FitMode = Literal["full", "heads"]


@dataclass
class Examples:
    """Training examples, stacked. Shapes (N examples, J = kappa_ret traces): context {key: (N, ...)},
    traces {key: (N, ...)}, trace_kpis (N, J, 3), z_plan (N, 64), utility (N,), kpis (N, 3)."""

    context: dict[str, np.ndarray]
    traces: dict[str, np.ndarray]
    trace_kpis: np.ndarray
    z_plan: np.ndarray
    utility: np.ndarray
    kpis: np.ndarray

    def __len__(self) -> int:
        return int(self.utility.size)

    def take(
        self, index: np.ndarray, with_traces: bool = True
    ) -> tuple[ContextInputs, TraceInputs, torch.Tensor, torch.Tensor]:
        """Model inputs of examples ``index`` (all traces invalid when not ``with_traces``)."""
        traces = {key: value[index] for key, value in self.traces.items()}
        if not with_traces:
            traces["trace_valid"] = np.zeros_like(traces["trace_valid"])
        return (
            ContextInputs.from_mapping({key: value[index] for key, value in self.context.items()}),
            TraceInputs.from_mapping(traces),
            torch.as_tensor(self.z_plan[index], dtype=torch.float32),
            torch.as_tensor(self.trace_kpis[index], dtype=torch.float32),
        )


@dataclass
class FitReport:
    """Losses per epoch on the training and held-out examples, and the held-out Table 3 errors."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_mse: dict[str, float] = field(default_factory=dict)


def build_examples(
    memory: TraceMemory, archive: ContextArchive, r_max: int, max_examples: int
) -> Examples | None:
    """The newest ``max_examples`` archived traces of ``memory`` as examples, each retrieving among the
    traces older than itself (None when fewer than 2)."""
    ids = np.intersect1d(archive.ids(), memory.ids())
    if ids.size < 2:
        return None
    records = memory.get(ids)
    order = np.lexsort((ids, records["timestamp_s"]))[-max_examples:]
    return examples_of(memory, records[order], archive.stack(ids[order]), r_max, older_only=True)


def examples_of(
    memory: TraceMemory,
    queries: np.ndarray,
    entries: dict[str, np.ndarray],
    r_max: int,
    *,
    older_only: bool,
    q_ctx: np.ndarray | None = None,
) -> Examples:
    """Examples of the windows ``queries`` (records, with their archive ``entries``) retrieving from
    ``memory``: only traces older than the window when ``older_only`` (training on the memory itself),
    by ``q_ctx`` instead of the recorded embeddings when given (held-out windows under another encoder).

    Shapes: queries (N,), entries {key: (N, ...)}, q_ctx (N, Q) -> :class:`Examples` of N.
    """
    ttl = memory.ttl_s or max(float(np.ptp(queries["timestamp_s"])), 1.0)
    graphs = [
        {key.removeprefix("graph."): entries[key][i] for key in entries if key.startswith("graph.")}
        for i in range(len(queries))
    ]
    if q_ctx is not None:
        queries = queries.copy()
        queries["q_ctx"] = q_ctx
    retrieved = [_retrieved(memory, record, ttl, older_only) for record in queries]
    traces, trace_kpis = trace_batch(memory, graphs, retrieved, r_max)
    return Examples(
        context={key.removeprefix("ctx."): entries[key] for key in entries if key.startswith("ctx.")},
        traces={
            key: value.astype(np.float32) if value.dtype == np.float64 else value
            for key, value in traces.items()
        },
        trace_kpis=trace_kpis.astype(np.float32),
        z_plan=entries["z_plan"].astype(np.float32),
        utility=queries["utility"].astype(np.float32),
        kpis=queries["kpis"].astype(np.float32),
    )


def _retrieved(memory: TraceMemory, record: np.void, ttl: float, older_only: bool) -> Retrieved:
    """The kappa_ret best traces for ``record``'s query; with ``older_only`` only those strictly older
    than it (no look-ahead, not itself)."""
    found = retrieve(memory, RetrievalQuery.from_record(record), k=TOP_K, keep=TOP_K)
    usable = (
        found.records["timestamp_s"] < record["timestamp_s"] if older_only else np.ones(len(found.ids), bool)
    )
    keep = np.flatnonzero(usable)[:KAPPA_RET]
    age = np.abs(record["timestamp_s"] - found.records["timestamp_s"][keep]) / ttl
    return Retrieved(found.ids[keep], found.score[keep], age, found.records[keep])


def _loss(scorer: TopoRagScorer, examples: Examples, index: np.ndarray, mode: FitMode) -> torch.Tensor:
    context, traces, z_plan, trace_kpis = examples.take(index)
    if mode == "heads":
        with torch.no_grad():
            q = scorer.encoder(context)
        pi = scorer.fuse(scorer.traces(traces, q).scores)
        kpis = scorer.plan.predict_kpis(pi, trace_kpis, q, z_plan)
        r_hat = scorer.plan(q, z_plan)
    else:
        out = scorer(context, traces, z_plan, trace_kpis)
        kpis, r_hat = out.kpis, out.r_hat
    target_u = torch.as_tensor(examples.utility[index])
    target_kpis = torch.as_tensor(examples.kpis[index])
    return torch.mean((r_hat - target_u) ** 2) + KPI_WEIGHT * torch.mean((kpis - target_kpis) ** 2)


def split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) example indices: a seeded 80/20 permutation (at least one held out)."""
    order = np.random.default_rng(seed).permutation(n)
    cut = min(max(int(round(TRAIN_SHARE * n)), 1), n - 1)
    return np.sort(order[:cut]), np.sort(order[cut:])


def fit_scorer(
    scorer: TopoRagScorer,
    memory: TraceMemory,
    archive: ContextArchive,
    *,
    epochs: int,
    lr: float = 1e-3,
    seed: int = 0,
    mode: FitMode = "full",
    r_max: int = 3,
    batch_size: int = 64,
    max_examples: int = 2048,
) -> FitReport:
    """Fit ``scorer`` on the memory: every part (``full``) or the trace scorer and plan value with the
    context encoder frozen (``heads``). Adam, 80/20 split; returns the losses and held-out errors.
    Single-threaded: the batches are small (see :mod:`edgeplace.torch_threads`)."""
    with torch_threads(1):
        return _fit(scorer, memory, archive, epochs, lr, seed, mode, r_max, batch_size, max_examples)


def _fit(
    scorer: TopoRagScorer,
    memory: TraceMemory,
    archive: ContextArchive,
    epochs: int,
    lr: float,
    seed: int,
    mode: FitMode,
    r_max: int,
    batch_size: int,
    max_examples: int,
) -> FitReport:
    report = FitReport()
    examples = build_examples(memory, archive, r_max, max_examples)
    if examples is None:
        return report
    train, held_out = split(len(examples), seed)
    params = list(scorer.parameters()) if mode == "full" else list(scorer.head_parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    rng = np.random.default_rng(seed)
    scorer.train()
    for _ in range(epochs):
        total = 0.0
        for index in np.array_split(rng.permutation(train), max(1, int(np.ceil(train.size / batch_size)))):
            loss = _loss(scorer, examples, index, mode)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * index.size
        report.train_loss.append(total / train.size)
        with torch.no_grad():
            report.val_loss.append(float(_loss(scorer, examples, held_out, "full")))
    scorer.eval()
    report.val_mse = evaluate_scorer(scorer, examples, held_out)
    return report


def evaluate_scorer(
    scorer: TopoRagScorer, examples: Examples, index: np.ndarray, with_traces: bool = True
) -> dict[str, float]:
    """Table 3's error per utilisation bucket: the mean squared error over (U, latency / l_max,
    violations, cpu utilisation) of the examples ``index``; NaN for an empty bucket."""
    scorer.eval()
    with torch_threads(1), torch.no_grad():
        context, traces, z_plan, trace_kpis = examples.take(index, with_traces)
        out = scorer(context, traces, z_plan, trace_kpis)
    predicted = np.column_stack([out.r_hat.numpy(), out.kpis.numpy()])
    realised = np.column_stack([examples.utility[index], examples.kpis[index]])
    error = ((predicted - realised) ** 2).mean(axis=1)
    bucket = np.digitize(examples.kpis[index, 2], UTIL_BUCKETS, right=True)
    return {
        name: float(error[bucket == b].mean()) if (bucket == b).any() else float("nan")
        for b, name in enumerate(BUCKET_NAMES)
    }


def encode_contexts(
    scorer: TopoRagScorer, entries: dict[str, np.ndarray], batch_size: int = 256
) -> np.ndarray:
    """q_ctx of archived contexts under ``scorer``'s encoder. Shapes: entries {key: (N, ...)} -> (N, Q)."""
    context = {key.removeprefix("ctx."): value for key, value in entries.items() if key.startswith("ctx.")}
    n = len(next(iter(context.values())))
    scorer.eval()
    with torch_threads(1), torch.no_grad():
        return np.concatenate(
            [
                scorer.encoder(
                    ContextInputs.from_mapping({k: v[start : start + batch_size] for k, v in context.items()})
                ).numpy()
                for start in range(0, n, batch_size)
            ]
        )


def reembed(
    scorer: TopoRagScorer, memory: TraceMemory, archive: ContextArchive, batch_size: int = 256
) -> TraceMemory:
    """A copy of ``memory`` whose archived traces carry q_ctx from ``scorer``'s encoder (the others keep
    theirs), re-indexed; ``archive`` is re-keyed to the new trace ids."""
    ids = memory.ids()
    records = memory.get(ids)
    order = np.lexsort((ids, records["timestamp_s"]))
    ids, records = ids[order], records[order].copy()
    archived = np.flatnonzero(np.isin(ids, archive.ids()))
    if archived.size:
        records["q_ctx"][archived] = encode_contexts(scorer, archive.stack(ids[archived]), batch_size)
    fresh = TraceMemory(
        memory.layout,
        capacity=memory.capacity,
        ttl_s=memory.ttl_s,
        keep_best=memory.keep_best,
        nprobe=memory.nprobe,
        min_ivf=memory.min_ivf,
        rebuild_growth=memory.rebuild_growth,
        seed=memory.seed,
    )
    new_ids = fresh.add(records) if len(records) else np.zeros(0, np.int64)
    archive.rekey(dict(zip(ids.tolist(), new_ids.tolist(), strict=True)))
    return fresh
