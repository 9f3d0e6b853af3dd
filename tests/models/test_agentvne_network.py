"""AgentVNE's networks (papers/agentvne.md, section d): shapes and masks of the dual GCN + Transformer
+ column-wise NTN, the NTN against a hand loop, the value network, the PyG conversion and the per-agent
action distribution (section f)."""

from __future__ import annotations

import math

import gymnasium as gym
import pytest
import torch
from torch_geometric.data import Batch, Data

from edgeplace.models.agent_rows_distribution import AgentRowsDistribution
from edgeplace.models.dual_gcn_value import DualGCNValue
from edgeplace.models.graph_pair import GraphPair, dense_graphs
from edgeplace.models.item_scoring_head import MASKED_LOGIT
from edgeplace.models.ntn_similarity import ColumnwiseNTN
from edgeplace.models.resource_similarity import ResourceSimilarityNetwork
from edgeplace.models.similarity_config import SimilarityConfig

NV, NS = 4, 6
M = MASKED_LOGIT


def make_graphs(seed: int = 0) -> GraphPair:
    """Three requests (2 agents, 3 agents, none) on a 4-node path padded to 6 nodes."""
    generator = torch.Generator().manual_seed(seed)
    links = torch.zeros(3, NV, NV)
    links[0, 0, 1] = links[1, 0, 1] = links[1, 1, 2] = 1.0
    vn_mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0]], dtype=torch.float32)
    adj = torch.zeros(NS, NS)
    for u in range(3):
        adj[u, u + 1] = adj[u + 1, u] = 1.0
    sn_mask = torch.tensor([[1, 1, 1, 1, 0, 0]] * 3, dtype=torch.float32)
    x_v = torch.rand(3, NV, 6, generator=generator) * vn_mask.unsqueeze(-1)
    x_s = torch.rand(3, NS, 6, generator=generator) * sn_mask.unsqueeze(-1)
    return GraphPair.build(x_v, links, vn_mask, x_s, adj, sn_mask)


def test_similarity_is_row_normalised_over_real_nodes_and_zero_on_padding():
    torch.manual_seed(0)
    network = ResourceSimilarityNetwork(NS, 6, SimilarityConfig(d_model=8)).eval()
    graphs = make_graphs()
    p = network(graphs)
    assert p.shape == (3, NV, NS)
    assert torch.isfinite(p).all()
    assert (p[:, :, 4:] == 0).all()  # padded substrate columns
    assert (p[0, 2:] == 0).all() and (p[1, 3:] == 0).all() and (p[2] == 0).all()  # padded agents
    norms = p.norm(dim=-1)
    torch.testing.assert_close(norms[0, :2], torch.ones(2))
    torch.testing.assert_close(norms[1, :3], torch.ones(3))
    assert (p[0, :2, :4] > 0).all()  # a sigmoid: every real node gets some weight


def test_padding_content_does_not_change_the_output():
    torch.manual_seed(0)
    network = ResourceSimilarityNetwork(NS, 6, SimilarityConfig(d_model=8)).eval()
    graphs = make_graphs()
    noisy = graphs._replace(
        x_v=graphs.x_v + 5.0 * (~graphs.vn_mask).unsqueeze(-1),
        x_s=graphs.x_s + 5.0 * (~graphs.sn_mask).unsqueeze(-1),
    )
    torch.testing.assert_close(network(graphs), network(noisy))


def test_ntn_matches_a_hand_loop():
    torch.manual_seed(1)
    ntn = ColumnwiseNTN(max_nodes=3, d_model=2)
    h_v, h_s = torch.randn(2, 2, 2), torch.randn(2, 3, 2)
    expected = torch.zeros(2, 2, 3)
    for b in range(2):
        for i in range(2):
            for j in range(3):
                expected[b, i, j] = sum(
                    h_s[b, j, k] * ntn.weight[j, k, m] * h_v[b, i, m] for k in range(2) for m in range(2)
                )
    torch.testing.assert_close(ntn.scores(h_v, h_s), expected)
    vn_mask = torch.tensor([[True, True], [True, False]])
    sn_mask = torch.tensor([[True, True, False], [True, True, True]])
    s = torch.sigmoid(expected) * sn_mask.unsqueeze(1)
    manual = s / (s.norm(dim=-1, keepdim=True) + 1e-8) * vn_mask.unsqueeze(-1)
    torch.testing.assert_close(ntn(h_v, h_s, vn_mask, sn_mask), manual)
    with pytest.raises(ValueError, match="substrate rows"):
        ntn.scores(h_v, h_s[:, :2])


def test_ntn_slices_start_at_std_one_over_d():
    torch.manual_seed(0)
    ntn = ColumnwiseNTN(max_nodes=50, d_model=64)
    assert abs(float(ntn.weight.detach().std()) - 1 / 64) < 0.02 / 64
    assert abs(float(ntn.weight.detach().mean())) < 1e-4


def test_width_follows_the_substrate_size():
    assert ResourceSimilarityNetwork(100).d_model == 64
    assert ResourceSimilarityNetwork(101).d_model == 128
    assert SimilarityConfig(d_model=16).width(500) == 16
    with pytest.raises(ValueError, match="num_heads"):
        SimilarityConfig(d_model=7)


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    network = ResourceSimilarityNetwork(NS, 6, SimilarityConfig(d_model=8))
    value = DualGCNValue(6, 8, (16,))
    graphs = make_graphs()
    (network(graphs) ** 2).sum().backward()
    value(graphs).sum().backward()
    for name, parameter in [*network.named_parameters(), *value.named_parameters()]:
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_value_network_gives_one_value_per_request_and_ignores_padding():
    torch.manual_seed(0)
    value = DualGCNValue(6, 8, (16, 8)).eval()
    graphs = make_graphs()
    out = value(graphs)
    assert out.shape == (3,) and torch.isfinite(out).all()
    noisy = graphs._replace(x_s=graphs.x_s + 3.0 * (~graphs.sn_mask).unsqueeze(-1))
    torch.testing.assert_close(value(noisy), out)


def test_dense_graphs_from_a_pyg_batch():
    first = Data(x=torch.ones(2, 6), edge_index=torch.tensor([[0], [1]]))
    second = Data(x=2 * torch.ones(3, 6), edge_index=torch.tensor([[0, 1], [1, 2]]))
    x, adj, mask = dense_graphs(Batch.from_data_list([first, second]), max_nodes=4)
    assert x.shape == (2, 4, 6) and adj.shape == (2, 4, 4)
    assert mask.tolist() == [[True, True, False, False], [True, True, True, False]]
    assert adj[0, 1, 0] == 1 and adj[0, 0, 1] == 1 and adj[1, 2, 1] == 1 and adj[1, 0, 2] == 0
    assert (x[0, 2:] == 0).all() and (x[1, :3] == 2).all()
    with pytest.raises(ValueError, match="max_nodes"):
        dense_graphs(Batch.from_data_list([second]), max_nodes=2)


# --- the per-agent distribution ---------------------------------------------------------------------
def rows() -> torch.Tensor:
    """One request, 3 agents on 3 nodes: agent 0 on {0, 1} (pi 0.25 / 0.75), agent 1 on {2} only,
    agent 2 inactive (anchor or padding)."""
    return torch.tensor([[[math.log(0.25), math.log(0.75), M], [M, M, 0.0], [M, M, M]]], dtype=torch.float32)


def test_logp_sums_assigned_active_agents_only():
    dist = AgentRowsDistribution.from_logits(rows())
    unassigned = 3
    expected = {
        (1, 2, 0): math.log(0.75),  # the inactive agent's host adds nothing
        (0, 2, unassigned): math.log(0.25),
        (unassigned, unassigned, unassigned): 0.0,
        (0, unassigned, 1): math.log(0.25),
    }
    for action, logp in expected.items():
        torch.testing.assert_close(dist.logp(torch.tensor([action])), torch.tensor([logp]))


def test_entropy_and_kl_sum_over_active_agents():
    dist = AgentRowsDistribution.from_logits(rows())
    h0 = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    torch.testing.assert_close(dist.entropy(), torch.tensor([h0]))
    torch.testing.assert_close(dist.kl(dist), torch.zeros(1))
    other = rows().clone()
    other[0, 0, :2] = torch.tensor([math.log(0.5), math.log(0.5)])
    kl = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    torch.testing.assert_close(dist.kl(AgentRowsDistribution.from_logits(other)), torch.tensor([kl]))


def test_samples_and_deterministic_actions_respect_the_masks():
    torch.manual_seed(0)
    dist = AgentRowsDistribution.from_logits(rows().expand(200, 3, 3))
    draws = dist.sample()
    assert set(draws[:, 0].tolist()) == {0, 1} and set(draws[:, 1].tolist()) == {2}
    assert (draws[:, 2] == 3).all()
    assert AgentRowsDistribution.from_logits(rows()).to_deterministic().sample().tolist() == [[1, 2, 3]]
    with pytest.raises(ValueError, match="Nv, Ns"):
        AgentRowsDistribution(torch.zeros(2, 3))
    assert AgentRowsDistribution.required_input_dim(gym.spaces.MultiDiscrete([4] * 3)) == 9
