import numpy as np
import pytest

pytest.importorskip("torch_geometric")
import torch  # noqa: E402
from torch_geometric.utils import is_undirected  # noqa: E402

from edgeplace.models.graph_data import batch_substrates, substrate_to_pyg  # noqa: E402
from edgeplace.topology import TopologyError, synthetic_genai, waxman  # noqa: E402


def test_substrate_to_pyg_has_both_directions_and_link_attributes():
    s = waxman(12, seed=1)
    features = np.random.default_rng(0).random((12, 5))
    data = substrate_to_pyg(s, features)
    assert data.num_nodes == 12 and data.x.dtype == torch.float32 and data.x.shape == (12, 5)
    assert data.edge_index.dtype == torch.int64 and data.edge_index.shape == (2, 2 * s.num_edges)
    assert is_undirected(data.edge_index, num_nodes=12)
    np.testing.assert_array_equal(data.edge_index[:, : s.num_edges].numpy(), s.edge_index)
    np.testing.assert_array_equal(data.edge_index[:, s.num_edges :].numpy(), s.edge_index[::-1])
    assert data.edge_attr.shape == (2 * s.num_edges, 2)
    np.testing.assert_allclose(data.edge_attr[: s.num_edges, 0].numpy(), s.bandwidth_mb_s, rtol=1e-6)
    np.testing.assert_allclose(data.edge_attr[s.num_edges :, 1].numpy(), s.delay_s, rtol=1e-6)


def test_batch_substrates_of_different_sizes():
    subs = [synthetic_genai("genai-small"), waxman(7, seed=3)]
    batch = batch_substrates(subs, [np.ones((25, 3)), np.zeros((7, 3))])
    assert batch.num_graphs == 2 and batch.x.shape == (32, 3)
    assert batch.edge_index.shape[1] == 2 * sum(s.num_edges for s in subs)
    np.testing.assert_array_equal(torch.bincount(batch.batch).numpy(), [25, 7])
    assert batch.edge_index[:, 2 * subs[0].num_edges :].min() >= 25


def test_feature_shape_mismatch():
    with pytest.raises(TopologyError, match="does not match"):
        substrate_to_pyg(waxman(5), np.ones((4, 2)))
    with pytest.raises(TopologyError, match="2 substrates but 1"):
        batch_substrates([waxman(5), waxman(6)], [np.ones((5, 2))])
