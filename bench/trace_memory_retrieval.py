"""TopoRAG trace-memory retrieval latency and footprint (papers/llm-mappo.md, section g, Fig. 11 / Table 6).

Fills a :class:`TraceMemory` with synthetic traces (clustered q_ctx, catalogue signatures, placements that
follow the clusters; see :mod:`edgeplace.planners.trace_memory.synthetic`) at each size, then times
``retrieve`` (index search in the query's shard + S_j scoring of the top 64 + record fetch of the best 8),
one query at a time, for fresh queries drawn from the same distribution. Reports p50 / p95 wall ms, the
index search alone, and bytes per trace = record bytes + serialised index bytes / N, against the spec's
targets: p50(largest) / p50(smallest) <= 1.5, p50 <= 184 ms, <= 8 KB per trace.

All sizes are built first and stay in memory; then every query runs on each size in turn (rotating order),
so a shared machine's load hits the sizes alike. faiss searches run on one thread (one query at a time, as
the planner asks); k-means uses faiss's default threads.

    python bench/trace_memory_retrieval.py [--sizes 10000 500000] [--layout paper] [--queries 300]
    python bench/trace_memory_retrieval.py --quick
"""

from __future__ import annotations

import argparse
import gc
import time

import faiss
import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from edgeplace.planners.trace_memory import RetrievalQuery, TraceMemory, retrieve
from edgeplace.planners.trace_memory.synthetic import SyntheticTraces

TARGET_RATIO = 1.5
TARGET_P50_MS = 184.0
TARGET_BYTES = 8 * 1024
LAYOUTS = {
    "small": ((6, 6, 6), 3, (4, 6, 6)),  # 54 slots; the `small` catalogue (4, 6, 6)
    "paper": ((6, 15, 20), 5, None),  # 205 slots; catalogues drawn in the class ranges
    "C37-8": ((6, 13, 18), 8, (6, 13, 18)),  # 296 slots, the largest complexity preset
}
CHUNK = 25_000
WARMUP = 20


def build(gen: SyntheticTraces, n: int, seed: int, progress: Progress) -> tuple[TraceMemory, float]:
    """A memory of ``n`` traces added in chunks (capacity n, no TTL); returns it and the build seconds."""
    memory = TraceMemory(gen.layout, capacity=n, ttl_s=None, seed=seed)
    rng = np.random.default_rng(seed)
    task = progress.add_task(f"fill {n:,}", total=n)
    start = time.perf_counter()
    for first in range(0, n, CHUNK):
        count = min(CHUNK, n - first)
        memory.add(gen.sample(rng, count, t0_s=600.0 * first / 8))
        progress.advance(task, count)
    return memory, time.perf_counter() - start


def footprint(memory: TraceMemory) -> dict[str, float]:
    """Bytes per trace (record, serialised index share) and the largest shard's size and lists."""
    index_bytes = sum(memory.shard(key).serialize().nbytes for key in memory.shard_keys())
    largest = max(memory.shard_keys(), key=lambda k: memory.shard(k).ntotal)
    return {
        "record_b": memory.layout.record_bytes,
        "index_b": index_bytes / len(memory),
        "shards": len(memory.shard_keys()),
        "largest": memory.shard(largest).ntotal,
        "nlist": memory.shard(largest).nlist,
    }


def measure(memories: dict[int, TraceMemory], queries: list[RetrievalQuery], warmup: int) -> dict[int, dict]:
    """Per-query wall ms of ``retrieve`` and of the index search alone, for every memory.

    The memories take turns on each query (the order rotates per query), so load from other processes on
    a shared machine hits every size alike; the first ``warmup`` queries are not counted.
    """
    sizes = sorted(memories)
    total = {n: [] for n in sizes}
    search = {n: [] for n in sizes}
    gc.disable()
    try:
        for i, query in enumerate(queries):
            for n in sizes[i % len(sizes) :] + sizes[: i % len(sizes)]:
                memory = memories[n]
                start = time.perf_counter()
                result = retrieve(memory, query)
                middle = time.perf_counter()
                memory.search(query.shard_key, query.q_ctx, 64)
                end = time.perf_counter()
                assert result.ids.size > 0
                if i >= warmup:
                    total[n].append(1e3 * (middle - start))
                    search[n].append(1e3 * (end - middle))
    finally:
        gc.enable()
    return {
        n: {
            "p50_ms": float(np.percentile(total[n], 50)),
            "p95_ms": float(np.percentile(total[n], 95)),
            "search_p50_ms": float(np.percentile(search[n], 50)),
        }
        for n in sizes
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 500_000])
    parser.add_argument("--layout", choices=sorted(LAYOUTS), default="paper")
    parser.add_argument("--catalogues", type=int, default=1, help="catalogue sizes (shards = 3 zones x this)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes 2,000 and 20,000, 200 queries")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.queries = [2_000, 20_000], 200
    max_ms, r_max, ms_counts = LAYOUTS[args.layout]
    gen = SyntheticTraces(max_ms, r_max, args.catalogues, clusters=64, seed=args.seed, ms_counts=ms_counts)
    qrng = np.random.default_rng(args.seed + 1)
    queries = [RetrievalQuery.from_record(r) for r in gen.sample(qrng, args.queries + WARMUP, t0_s=1e9)]
    memories, rows = {}, {}
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns) as progress:
        for n in sorted(args.sizes):
            memories[n], build_s = build(gen, n, args.seed, progress)
            rows[n] = {**footprint(memories[n]), "build_s": build_s}
    faiss.omp_set_num_threads(1)
    for n, timing in measure(memories, queries, WARMUP).items():
        rows[n].update(timing)

    slots = gen.layout.max_slots
    print(f"\ntrace-memory retrieval, layout {args.layout} ({slots} slots), {args.queries} queries")
    print(
        f"{'traces':>9} {'shards':>6} {'largest':>8} {'nlist':>5} {'build s':>8} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'search':>7} {'B/trace':>8} (record + index)"
    )
    for n, r in rows.items():
        per_trace = r["record_b"] + r["index_b"]
        print(
            f"{n:>9,} {r['shards']:>6} {r['largest']:>8,} {r['nlist']:>5} {r['build_s']:>8.1f}"
            f" {r['p50_ms']:>7.3f} {r['p95_ms']:>7.3f} {r['search_p50_ms']:>7.3f}"
            f" {per_trace:>8.0f} ({r['record_b']} + {r['index_b']:.0f})"
        )
    small, large = rows[min(rows)], rows[max(rows)]
    ratio = large["p50_ms"] / small["p50_ms"]
    worst_p50 = max(r["p50_ms"] for r in rows.values())
    worst_bytes = max(r["record_b"] + r["index_b"] for r in rows.values())
    checks = (
        (
            f"p50({max(rows):,}) / p50({min(rows):,})",
            f"{ratio:.2f}",
            f"<= {TARGET_RATIO}",
            ratio <= TARGET_RATIO,
        ),
        ("p50 ms (worst size)", f"{worst_p50:.3f}", f"<= {TARGET_P50_MS:g}", worst_p50 <= TARGET_P50_MS),
        ("bytes per trace", f"{worst_bytes:.0f}", f"<= {TARGET_BYTES}", worst_bytes <= TARGET_BYTES),
    )
    print()
    for name, value, limit, ok in checks:
        print(f"  {name:<28} {value:>10}  {limit:<10} {'ok' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
