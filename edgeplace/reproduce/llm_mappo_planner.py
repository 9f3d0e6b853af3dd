"""Table 3 of the LLM-MAPPO paper on the ``memory`` planner (papers/llm-mappo.md, section g): the
planner's prediction error on held-out windows, by window utilisation, for each way of training it,
with and without its trace memory.

Steps (each cached as a directory under ``out``, resumable):
1. ``bootstrap``: the bootstrap memory (greedy, random and noisy-greedy windows; untrained scorer).
2. ``held-out``: windows of other seeds, recorded the same way (the test set).
3. The variants, each a saved planner: ``untrained`` (the bootstrap's scorer), ``trained`` (fitted end
   to end on the bootstrap memory: the paper's "LoRA" row), ``frozen-encoder`` (trace scorer and plan
   value fitted, context encoder frozen: "frozen SAGE + trained heads") and ``online-refits`` (the
   trained planner run on further windows, refitting on drift: "PFA").
4. Each variant predicts (U, latency / l_max, violations, cpu utilisation) of every held-out window,
   with retrieval from its memory ("TopoRAG") and without ("no memory": the plan value and the KPI
   residual alone); the table holds the mean squared error per utilisation bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console

from edgeplace.algos.llm_mappo.memory_bootstrap import build_memory, play_rollouts
from edgeplace.envs.metaverse_dag import MetaverseDagEnv
from edgeplace.planners.soft_plans.memory import MemoryPlanner
from edgeplace.planners.soft_plans.memory_training import (
    BUCKET_NAMES,
    encode_contexts,
    evaluate_scorer,
    examples_of,
    fit_scorer,
    reembed,
)

VARIANTS = ("untrained", "trained", "frozen-encoder", "online-refits")
MEMORY_ROWS = {"TopoRAG": True, "no memory": False}
ROW, MEMORY = "planner", "memory"


@dataclass(frozen=True)
class PlannerMseSettings:
    """Sizes of the Table 3 experiment."""

    windows: int
    """Bootstrap windows (the spec's 2 k on ``small``)."""
    held_out_windows: int
    online_windows: int
    """Further windows the ``online-refits`` planner runs (refitting on drift)."""
    epochs: int
    seed: int = 0


def planner_mse_table(
    out: Path, settings: PlannerMseSettings, env_config: dict | None = None, console: Console | None = None
) -> pd.DataFrame:
    """Run (or reuse) every step under ``out`` and return the table: one row per (variant, memory), one
    column per utilisation bucket (mean squared error)."""
    config = dict(env_config or {})
    bootstrap = _cached(
        out / "bootstrap",
        lambda p: build_memory(p, windows=settings.windows, env_config=config, seed=settings.seed, epochs=0),
    )
    held_out = _cached(
        out / "held-out",
        lambda p: build_memory(
            p, windows=settings.held_out_windows, env_config=config, seed=settings.seed + 1, epochs=0
        ),
    )
    variants = {
        "untrained": bootstrap,
        "trained": _cached(out / "trained", lambda p: _fitted(bootstrap, p, settings, "full")),
        "frozen-encoder": _cached(out / "frozen-encoder", lambda p: _fitted(bootstrap, p, settings, "heads")),
    }
    variants["online-refits"] = _cached(
        out / "online-refits", lambda p: _online(variants["trained"], p, settings, config)
    )
    test = MemoryPlanner(0, {"memory_dir": str(held_out)})
    queries = test.memory.get(test.archive.ids())
    entries = test.archive.stack(test.archive.ids())
    rows = []
    for name in VARIANTS:
        planner = MemoryPlanner(0, {"memory_dir": str(variants[name])})
        examples = examples_of(
            planner.memory,
            queries,
            entries,
            planner.r_max,
            older_only=False,
            q_ctx=encode_contexts(planner.scorer, entries),
        )
        index = np.arange(len(examples))
        for memory, with_traces in MEMORY_ROWS.items():
            errors = evaluate_scorer(planner.scorer, examples, index, with_traces)
            rows.append({ROW: name, MEMORY: memory, **errors})
    return pd.DataFrame(rows, columns=[ROW, MEMORY, *BUCKET_NAMES])


def _cached(path: Path, make) -> Path:
    if not path.is_dir():
        make(path)
    return path


def _fitted(source: Path, out: Path, settings: PlannerMseSettings, mode: str) -> Path:
    planner = MemoryPlanner(settings.seed, {"memory_dir": str(source)})
    fit_scorer(
        planner.scorer,
        planner.memory,
        planner.archive,
        epochs=settings.epochs,
        seed=settings.seed,
        mode=mode,
        r_max=planner.r_max,
    )
    planner.memory = reembed(planner.scorer, planner.memory, planner.archive)
    return planner.save(out)


def _online(source: Path, out: Path, settings: PlannerMseSettings, env_config: dict) -> Path:
    env = MetaverseDagEnv({**env_config, "planner": "memory", "planner_options": {"memory_dir": str(source)}})
    play_rollouts(env, settings.online_windows, env_config, settings.seed + 2, "online windows")
    return env.planning.planner.save(out)
