"""The trace store: IVF recall, eviction, save / load, validation and determinism."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from edgeplace.planners.trace_memory import TraceLayout, TraceMemory, TraceMemoryError
from edgeplace.planners.trace_memory.synthetic import SyntheticTraces


@pytest.fixture(scope="module")
def gen() -> SyntheticTraces:
    return SyntheticTraces((6, 6, 6), 3, catalogues=1, clusters=8, seed=0, ms_counts=(4, 6, 6))


def _memory(gen: SyntheticTraces, **kwargs) -> TraceMemory:
    kwargs.setdefault("min_ivf", 256)
    return TraceMemory(gen.layout, **kwargs)


def test_layout_presets_fit_the_byte_budget():
    for layout in (TraceLayout.small(), TraceLayout.paper(), TraceLayout.for_catalogue((6, 13, 18), 8)):
        assert layout.record_bytes + layout.q_dim * 4 + 8 <= 8 * 1024
    assert TraceLayout.small().max_slots == 54 and TraceLayout.paper().max_slots == 205
    paper = TraceMemory.for_preset("paper")
    assert paper.capacity == 200_000 and paper.layout == TraceLayout.paper()
    with pytest.raises(TraceMemoryError, match="field 'preset'"):
        TraceMemory.for_preset("huge")
    with pytest.raises(TraceMemoryError, match="field 'capacity'"):
        TraceMemory(capacity=0)


def test_ivf_recall_against_exact_search(gen):
    rng = np.random.default_rng(0)
    records = gen.sample(rng, 1200)
    memory = _memory(gen, capacity=10_000)
    ids = memory.add(records)
    key = (0, int(gen.catalogue_ms[0]))
    shard = memory.shard(key)
    assert shard.is_ivf and shard.nlist == round(np.sqrt(shard.ntotal))
    mine = records["shard_zone"] == 0
    unit = records["q_ctx"][mine] / np.linalg.norm(records["q_ctx"][mine], axis=1, keepdims=True)
    queries = records["q_ctx"][mine][:200] + 0.2 * rng.normal(size=(200, 64)).astype(np.float32)
    hits = 0
    for q in queries:
        exact = ids[mine][np.argsort(-(unit @ (q / np.linalg.norm(q))))[:10]]
        found, cosine = memory.search(key, q, k=10)
        assert np.all(np.diff(cosine) <= 1e-6)
        hits += np.isin(exact, found).sum()
    assert hits / (10 * len(queries)) >= 0.9


def test_flat_then_ivf_then_rebuild_policy(gen):
    memory = _memory(gen, capacity=10_000, ttl_s=1e5, rebuild_growth=2.0)
    rng = np.random.default_rng(1)
    key = (0, int(gen.catalogue_ms[0]))

    def add(n: int, t0_s: float = 0.0) -> None:
        batch = gen.sample(rng, n, t0_s=t0_s)
        batch["shard_zone"] = 0
        if t0_s:
            batch["utility"] = 0.0  # never among the best 5
        memory.add(batch)

    add(200)
    assert not memory.shard(key).is_ivf  # below min_ivf = 256: exact search
    add(100)
    assert memory.shard(key).trained_n == 300 and memory.shard(key).nlist == 17  # round(sqrt(300))
    add(250)
    assert memory.shard(key).trained_n == 300  # 550 <= 2 * 300: added to the trained lists
    add(100)
    assert memory.shard(key).trained_n == 650 and memory.shard(key).nlist == 25
    add(20, t0_s=1e6)  # everything older expires except the best 5
    assert memory.shard(key).ntotal == 25 and not memory.shard(key).is_ivf


def _reference_capacity_eviction(batches: list[np.ndarray], capacity: int, keep_best: int) -> list[int]:
    """Live ids after each batch, by the rules written out with plain Python."""
    live: list[tuple[int, float, float, tuple[int, int]]] = []  # (id, timestamp, utility, shard)
    next_id = 0
    for batch in batches:
        for r in batch:
            live.append(
                (
                    next_id,
                    float(r["timestamp_s"]),
                    float(r["utility"]),
                    (int(r["shard_zone"]), int(r["catalogue_ms"])),
                )
            )
            next_id += 1
        protected = set()
        for shard in {x[3] for x in live}:
            mine = sorted((x for x in live if x[3] == shard), key=lambda x: (-x[2], -x[0]))
            protected |= {x[0] for x in mine[:keep_best]}
        unprotected = sorted((x for x in live if x[0] not in protected), key=lambda x: (x[1], x[0]))
        drop = {x[0] for x in unprotected[: max(0, len(live) - capacity)]}
        live = [x for x in live if x[0] not in drop]
    return sorted(x[0] for x in live)


def test_capacity_and_best_per_shard_survive(gen):
    rng = np.random.default_rng(2)
    memory = _memory(gen, capacity=60, ttl_s=None, keep_best=5)
    batches = [gen.sample(rng, 30, t0_s=1e4 * i) for i in range(8)]
    batches[0]["utility"][:6] = 1.0  # six early traces with the best utility
    star_ids = np.arange(6)
    for batch in batches:
        memory.add(batch)
        assert len(memory) <= 60
    assert memory.ids().tolist() == _reference_capacity_eviction(batches, 60, 5)
    kept = np.isin(star_ids, memory.ids())
    for zone in range(3):
        in_zone = batches[0]["shard_zone"][:6] == zone
        assert kept[in_zone].sum() == min(5, in_zone.sum())  # the best 5 of each shard are never evicted


def test_lookup_survives_compaction(gen):
    rng = np.random.default_rng(9)
    memory = _memory(gen, capacity=100, ttl_s=None)
    first = gen.sample(rng, 100)
    first["utility"][:3] = 1.0  # old survivors in front of the compacted array
    memory.add(first)
    for i in range(1, 13):
        memory.add(gen.sample(rng, 100, t0_s=1e5 * i))
    assert memory._size < 1200  # compacted at least once
    live = memory.ids()
    assert np.isin([0, 1, 2], live).all() and len(memory) == 100
    np.testing.assert_array_equal(memory.get(live[::-1])["trace_id"], live[::-1])
    with pytest.raises(KeyError):
        memory.get([50])
    with pytest.raises(KeyError):
        memory.get([10_000])


def test_ttl_evicts_old_traces_but_keeps_the_best(gen):
    rng = np.random.default_rng(3)
    memory = _memory(gen, capacity=10_000, ttl_s=5_000.0, keep_best=5)
    old = gen.sample(rng, 200, t0_s=0.0)
    old["timestamp_s"] = np.arange(200.0)  # all within the TTL of each other
    old_ids = memory.add(old)
    assert len(memory) == 200
    new = gen.sample(rng, 50, t0_s=1e6)
    new["utility"] = 0.0  # never among the best 5
    memory.add(new)
    survivors = old_ids[np.isin(old_ids, memory.ids())]
    shards = {(int(z), int(c)) for z, c in zip(old["shard_zone"], old["catalogue_ms"], strict=True)}
    assert survivors.size == 5 * len(shards)
    kept = memory.get(survivors)
    for z, c in shards:
        in_shard = (old["shard_zone"] == z) & (old["catalogue_ms"] == c)
        top = np.sort(old["utility"][in_shard])[::-1][:5]
        np.testing.assert_array_equal(np.sort(kept["utility"][kept["shard_zone"] == z])[::-1], top)
    with pytest.raises(KeyError):
        memory.get(old_ids[~np.isin(old_ids, survivors)][:1])


def test_save_load_round_trip_is_bit_identical(gen, tmp_path):
    rng = np.random.default_rng(4)
    memory = _memory(gen, capacity=900, ttl_s=None)
    for i in range(3):
        memory.add(gen.sample(rng, 400, t0_s=1e4 * i))  # evictions and rebuilds on the way
    kinds = {memory.shard(k).is_ivf for k in memory.shard_keys()}
    assert kinds == {True, False}  # one IVF shard and one exact shard at least
    path = memory.save(tmp_path / "memory.npz")
    loaded = TraceMemory.load(path)
    assert len(loaded) == len(memory) and loaded.shard_keys() == memory.shard_keys()
    np.testing.assert_array_equal(loaded.get(loaded.ids()), memory.get(memory.ids()))
    for q in gen.sample(rng, 20):
        key = (int(q["shard_zone"]), int(q["catalogue_ms"]))
        a, b = memory.search(key, q["q_ctx"]), loaded.search(key, q["q_ctx"])
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1].tobytes() == b[1].tobytes()
    new = gen.sample(rng, 5)
    np.testing.assert_array_equal(memory.add(new), loaded.add(new))  # ids continue


def test_corrupt_files_name_the_file_and_field(gen, tmp_path):
    rng = np.random.default_rng(5)
    memory = _memory(gen)
    memory.add(gen.sample(rng, 50))
    path = memory.save(tmp_path / "m.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(TraceMemoryError, match="garbage.npz"):
        TraceMemory.load(garbage)
    with pytest.raises(TraceMemoryError, match="missing.npz"):
        TraceMemory.load(tmp_path / "missing.npz")
    with np.load(path) as archive:
        members = {name: archive[name] for name in archive.files}

    def rewrite(name: str, **changes) -> str:
        target = tmp_path / name
        arrays = {**members, **changes}
        np.savez(target, **{k: v for k, v in arrays.items() if v is not None})
        return str(target)

    with pytest.raises(TraceMemoryError, match="no_index.npz, field 'index_0'"):
        TraceMemory.load(rewrite("no_index.npz", index_0=None))
    with pytest.raises(TraceMemoryError, match="bad_index.npz, field 'index_1'"):
        TraceMemory.load(rewrite("bad_index.npz", index_1=np.arange(40, dtype=np.uint8)))
    bad = members["records"].copy()
    bad["q_ctx"][3, 0] = np.nan
    with pytest.raises(TraceMemoryError, match="bad_rec.npz, field 'records.q_ctx'"):
        TraceMemory.load(rewrite("bad_rec.npz", records=bad))
    with pytest.raises(TraceMemoryError, match="bad_meta.npz, field 'meta'"):
        TraceMemory.load(rewrite("bad_meta.npz", meta=np.frombuffer(b"{oops", np.uint8)))
    with zipfile.ZipFile(path) as zin:
        assert "records.npy" in zin.namelist()


def test_bad_input_names_the_field(gen):
    memory = _memory(gen)
    good = gen.sample(np.random.default_rng(6), 4)
    for field, value in (("q_ctx", np.nan), ("w", 0.9), ("phi", 1.5), ("role_zone", 7), ("slot_rho", -1.0)):
        bad = good.copy()
        bad[field][1] = value
        with pytest.raises(TraceMemoryError, match=f"field '{field}'"):
            memory.add(bad)
    columns = {name: good[name] for name in good.dtype.names if name != "trace_id"}
    assert memory.add(columns).tolist() == [0, 1, 2, 3]
    with pytest.raises(TraceMemoryError, match="field 'dag_sig'"):
        memory.add({**columns, "dag_sig": good["dag_sig"][:, :2]})
    with pytest.raises(TraceMemoryError, match="field 'utility'"):
        memory.add({k: v for k, v in columns.items() if k != "utility"})
    with pytest.raises(TraceMemoryError, match="field 'q_ctx'"):
        memory.search((0, 16), np.zeros(64))
    assert len(memory) == 4


def test_fields_are_taken_by_name(gen):
    memory = _memory(gen)
    good = gen.sample(np.random.default_rng(8), 3)
    names = list(reversed(good.dtype.names))
    reordered = np.zeros(3, np.dtype([(name, good.dtype.fields[name][0]) for name in names]))
    for name in names:
        reordered[name] = good[name]
    ids = memory.add(reordered)
    stored = memory.get(ids)
    for name in good.dtype.names:
        if name != "trace_id":
            np.testing.assert_array_equal(stored[name], good[name])
    columns = memory.get_columns(ids[::-1], ("role_zone", "dag_sig", "utility"))
    for name, value in columns.items():
        np.testing.assert_array_equal(value, stored[name][::-1])
    with pytest.raises(TraceMemoryError, match="field 'nope'"):
        memory.get_columns(ids, ("nope",))


def test_deterministic_given_insertion_order(gen):
    def build() -> TraceMemory:
        rng = np.random.default_rng(7)
        memory = _memory(gen, capacity=1500, ttl_s=None)
        for i in range(4):
            memory.add(gen.sample(rng, 500, t0_s=1e4 * i))
        return memory

    a, b = build(), build()
    np.testing.assert_array_equal(a.ids(), b.ids())
    for key in a.shard_keys():
        assert a.shard(key).serialize().tobytes() == b.shard(key).serialize().tobytes()
