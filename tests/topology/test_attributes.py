"""The attribute rule: a scenario's missing node attributes are drawn (seeded, per attribute), the
topology's own are kept, and bad values or impossible draws raise naming the topology and attribute."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.topology import (
    AttributeNeed,
    Choice,
    PerTier,
    Tagged,
    Tier,
    TierMix,
    TopologyError,
    Uniform,
    UniformInt,
    keep_resources,
    load_topology,
    load_with_attributes,
    waxman,
    with_attributes,
)

LINE = [(i, i + 1) for i in range(19)]  # 20 nodes in a path
TIERS = AttributeNeed.tier(TierMix(0.05, 0.25))
NEEDS = (
    AttributeNeed.resource("compute", UniformInt(100, 200), positive=True),
    AttributeNeed.resource("storage", Choice((1.0, 2.0))),
    AttributeNeed.feature("traffic_rate", Uniform(5.0, 6.0)),
    TIERS,
    AttributeNeed.affinity("tee", Tagged(0.1, 2, (Tier.CLOUD, Tier.EDGE), part=0, parts=2)),
    AttributeNeed.affinity("camera", Tagged(0.1, 2, (Tier.ACCESS,), part=1, parts=2)),
)


def test_missing_attributes_are_drawn_and_present_ones_kept(make_substrate):
    base = make_substrate(LINE)  # compute 4, memory 8 on every node; no storage, tiers or tags
    s = with_attributes(base, NEEDS, seed=0)
    assert s.resource_names == ("compute", "memory", "storage")  # drawn resources appended
    np.testing.assert_array_equal(s.capacity[:, :2], base.capacity)  # never redrawn
    assert set(s.capacity[:, 2]) <= {1.0, 2.0}
    traffic = s.node_features["traffic_rate"]
    assert traffic.shape == (20,) and (traffic >= 5.0).all() and (traffic < 6.0).all()
    np.testing.assert_array_equal(np.bincount(s.tier, minlength=3), [1, 5, 14])
    assert s.affinity["tee"].sum() == 1 and s.affinity["camera"].sum() == 1
    assert (s.tier[s.affinity["tee"]] != Tier.ACCESS).all() and (
        s.tier[s.affinity["camera"]] == Tier.ACCESS
    ).all()
    np.testing.assert_array_equal(s.edge_index, base.edge_index)
    np.testing.assert_array_equal(s.bandwidth_mb_s, base.bandwidth_mb_s)


def test_a_topology_with_every_attribute_is_returned_as_it_is():
    s = waxman(20, seed=42)
    needs = (
        TIERS,
        AttributeNeed.resource("compute", Uniform(50.0, 60.0)),
        AttributeNeed.affinity("tee", Tagged(0.5, 5, (Tier.ACCESS,))),
    )
    assert with_attributes(s, needs, seed=3) is s


def test_draws_are_seeded_per_attribute(make_substrate):
    base = make_substrate(LINE)
    a, again, other = (with_attributes(base, NEEDS, seed) for seed in (4, 4, 5))
    for key in ("capacity", "tier"):
        np.testing.assert_array_equal(getattr(a, key), getattr(again, key))
    np.testing.assert_array_equal(a.node_features["traffic_rate"], again.node_features["traffic_rate"])
    assert not np.array_equal(a.capacity[:, 2], other.capacity[:, 2])
    assert not np.array_equal(a.node_features["traffic_rate"], other.node_features["traffic_rate"])
    # storage is drawn alike whether or not compute had to be drawn before it
    without_compute = make_substrate(LINE, resource_names=("memory",), capacity=np.full((20, 1), 8.0))
    alone = with_attributes(without_compute, NEEDS, seed=4)
    assert alone.resource_names == ("memory", "compute", "storage")
    np.testing.assert_array_equal(alone.capacity[:, 2], a.capacity[:, 2])
    # ... and differently on another topology (the substrate's name is part of the seed)
    renamed = with_attributes(make_substrate(LINE, name="other"), NEEDS, seed=4)
    assert not np.array_equal(renamed.node_features["traffic_rate"], a.node_features["traffic_rate"])


def test_a_positive_need_refuses_a_zero_naming_the_uri_node_and_attribute(tmp_path):
    path = tmp_path / "zoo.gml"
    path.write_text(
        "graph [\n"
        + "".join(f"  node [ id {i} cpu {c} ]\n" for i, c in enumerate((3, 0, 5)))
        + "  edge [ source 0 target 1 ]\n  edge [ source 1 target 2 ]\n]\n"
    )
    uri = f"gml:{path}"
    with pytest.raises(TopologyError, match="must be > 0 on every node; node id 1 has 0") as info:
        load_with_attributes(uri, NEEDS[:1], seed=0)
    assert info.value.source == uri and info.value.field == "compute"


def test_per_tier_draws_need_tiers_first(make_substrate):
    need = AttributeNeed.resource("storage", PerTier(((Tier.CLOUD, Uniform(8.0, 8.0)),)))
    with pytest.raises(TopologyError, match="needs node tiers") as info:
        with_attributes(make_substrate(LINE), (need,), seed=0, source="waxman:nodes=20")
    assert info.value.source == "waxman:nodes=20" and info.value.field == "tier"


def test_per_tier_values_follow_each_nodes_tier(make_substrate):
    storage = PerTier(
        ((Tier.CLOUD, Uniform(8.0, 8.0)), (Tier.EDGE, Uniform(4.0, 6.0)), (Tier.ACCESS, Uniform(2.0, 4.0)))
    )
    s = with_attributes(make_substrate(LINE), (TIERS, AttributeNeed.resource("storage", storage)), seed=1)
    values = s.capacity[:, s.resource_index("storage")]
    assert (values[s.tier == Tier.CLOUD] == 8.0).all()
    assert ((values[s.tier == Tier.EDGE] >= 4.0) & (values[s.tier == Tier.EDGE] < 6.0)).all()
    assert ((values[s.tier == Tier.ACCESS] >= 2.0) & (values[s.tier == Tier.ACCESS] < 4.0)).all()
    uncovered = PerTier(((Tier.CLOUD, Uniform(8.0, 8.0)),))
    with pytest.raises(TopologyError, match=r"has tier [12], which by tier \(cloud: .*\) does not cover"):
        with_attributes(s, (AttributeNeed.resource("gpu", uncovered),), seed=1)


@pytest.mark.parametrize("nodes", [10, 20, 30, 50, 100])
def test_tagged_parts_share_the_total(nodes):
    tee, camera = (Tagged(0.1, 2, (Tier.ACCESS,), part=p, parts=2) for p in (0, 1))
    total = max(2, round(0.1 * nodes))
    assert (tee.count(nodes), camera.count(nodes)) == (total // 2, total - total // 2)


def test_bad_needs_and_seeds(make_substrate):
    base = make_substrate(LINE)
    with pytest.raises(ValueError, match="repeat an attribute"):
        with_attributes(base, (NEEDS[0], NEEDS[0]), seed=0)
    with pytest.raises(ValueError, match="integer >= 0"):
        with_attributes(base, NEEDS, seed=-1)
    with pytest.raises(ValueError, match="low <= high"):
        UniformInt(5, 4)
    with pytest.raises(ValueError, match="non-empty"):
        Choice(())


def test_keep_resources_selects_and_orders_columns():
    s = load_topology("waxman:nodes=12,seed=1")
    kept = keep_resources(s, ("storage", "compute"))
    assert kept.resource_names == ("storage", "compute")
    np.testing.assert_array_equal(kept.capacity, s.capacity[:, [2, 0]])
    assert keep_resources(s, s.resource_names) is s
    with pytest.raises(TopologyError, match="unknown resource 'gpu'"):
        keep_resources(s, ("gpu",))


def test_every_need_describes_itself():
    lines = [need.describe() for need in NEEDS]
    assert lines[0] == "resource compute: integers uniform in [100, 200] (> 0)"
    assert lines[1] == "resource storage: uniform over [1.0, 2.0]"
    assert lines[5] == "affinity camera: part 2 of 2 of max(2, round(0.1 N)) access nodes"
