"""DagSageEncoder (GNN-DRL): the option and slot graphs read from the observation (hand-built and from
the env), output layout, padding ignored, embeddings that reach as far as the layers do."""

from __future__ import annotations

import numpy as np
import torch

from edgeplace.envs.metaverse_dag import MetaverseDagEnv, MvObsKey
from edgeplace.models.dag_sage_encoder import DagSageEncoder, option_adjacency, slot_adjacency

B, OPTS, S, FN, FS, R, P, K = 2, 5, 7, 14, 12, 19, 64, 4


def pairs(adj: torch.Tensor) -> set[tuple[int, int]]:
    """The undirected edges (u < v) of a symmetric 0/1 adjacency. Shapes: (N, N)."""
    assert torch.equal(adj, adj.T) and set(adj.unique().tolist()) <= {0.0, 1.0}
    return {(u, v) for u, v in adj.nonzero().tolist() if u < v}


def test_option_graph_has_the_live_links_between_real_options():
    link_index = torch.tensor([[[0, 1, 2, 3, 0], [1, 2, 3, 4, 0]]])  # link 4 is padding (0, 0)
    link_feats = torch.rand(1, 5, 6)
    link_feats[0, :, 5] = torch.tensor([1.0, 1.0, 0.0, 1.0, 0.0])  # link 2 is down
    node_valid = torch.tensor([[True, True, True, True, False]])  # option 4 is padding
    adj = option_adjacency(link_index, link_feats, node_valid)
    assert adj.shape == (1, OPTS, OPTS) and pairs(adj[0]) == {(0, 1), (1, 2)}


def hand_slots() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Class 0 with microservices 0 -> 1 and class 1 with one, R_max = 2, then a padding slot:
    slots (c, m, r) = (0,0,0) (0,0,1) (0,1,0) (0,1,1) (1,0,0) (1,0,1) pad; one DAG edge, one padding edge.
    Shapes: slot_feats (1, S, 12), slot_valid (1, S), edge_index (1, 2, 2), edge_feats (1, 2, 5)."""
    rows = [(0, 0.0, 0.0), (0, 0.0, 0.5), (0, 1.0, 0.0), (0, 1.0, 0.5), (1, 0.0, 0.0), (1, 0.0, 0.5)]
    slot_feats = torch.zeros(1, S, FS)
    for s, (c, quantile, replica) in enumerate(rows):
        slot_feats[0, s, c] = 1.0
        slot_feats[0, s, 3], slot_feats[0, s, 4] = quantile, replica
        slot_feats[0, s, 5:] = torch.rand(FS - 5) + 0.1
    edge_feats = torch.zeros(1, 2, 5)
    edge_feats[0, 0, :2] = torch.tensor([0.3, 1.0])
    return slot_feats, slot_feats.abs().sum(-1) > 0, torch.tensor([[[0, 0], [2, 0]]]), edge_feats


def test_slot_graph_joins_dag_edges_and_replicas_to_their_replica_0():
    slot_feats, slot_valid, edge_index, edge_feats = hand_slots()
    adj = slot_adjacency(edge_index, edge_feats, slot_feats, slot_valid)
    assert adj.shape == (1, S, S) and pairs(adj[0]) == {(0, 2), (0, 1), (2, 3), (4, 5)}


def test_slot_graph_matches_the_env_layout():
    env = MetaverseDagEnv({"horizon": 2})
    obs = env.reset(seed=0)[0]["ec_0"]
    rows = {
        key: torch.as_tensor(np.asarray(obs[key]))[None] for key in MvObsKey if key != MvObsKey.ACTION_MASK
    }
    slot_valid = rows[MvObsKey.SLOT_FEATS].abs().sum(-1) > 0
    adj = slot_adjacency(
        rows[MvObsKey.EDGE_INDEX], rows[MvObsKey.EDGE_FEATS], rows[MvObsKey.SLOT_FEATS], slot_valid
    )
    layout, valid = env.layout, slot_valid[0].numpy()
    slots = list(enumerate(zip(layout.slot_class, layout.slot_ms, layout.slot_rep, strict=True)))
    first = {(c, m): s for s, (c, m, r) in slots if r == 0}
    want = {(first[c, m], s) for s, (c, m, r) in slots if r and valid[s]}
    real_edges = rows[MvObsKey.EDGE_FEATS][0].abs().sum(-1) > 0
    want |= {tuple(sorted(e)) for e in rows[MvObsKey.EDGE_INDEX][0][:, real_edges].T.tolist()}
    assert want and pairs(adj[0]) == want
    node_valid = rows[MvObsKey.NODE_FEATS].abs().sum(-1) > 0
    links = option_adjacency(rows[MvObsKey.LINK_INDEX], rows[MvObsKey.LINK_FEATS], node_valid)
    live = env.options.link_ids[0] >= 0  # every node is up at reset
    assert pairs(links[0]) == {tuple(sorted(e)) for e in env.options.link_index[0][:, live].T.tolist()}


def encoder(**kwargs: int) -> DagSageEncoder:
    torch.manual_seed(0)
    return DagSageEncoder(FN, FS, R, P, node_width=16, slot_width=8, plan_width=6, agent_slots=K, **kwargs)


def path_inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    """Options 0 - 1 - 2 - 3 on a path (4 is padding) in both rows; the hand-built slots."""
    g = torch.Generator().manual_seed(seed)
    node_valid = torch.tensor([[True] * 4 + [False]] * B)
    node_adj = torch.zeros(B, OPTS, OPTS)
    for u in range(3):
        node_adj[:, u, u + 1] = node_adj[:, u + 1, u] = 1.0
    slot_feats, slot_valid, edge_index, edge_feats = hand_slots()
    return {
        "node_feats": torch.randn(B, OPTS, FN, generator=g) * node_valid[..., None],
        "node_adj": node_adj,
        "node_valid": node_valid,
        "slot_feats": slot_feats.expand(B, -1, -1),
        "slot_adj": slot_adjacency(edge_index, edge_feats, slot_feats, slot_valid).expand(B, -1, -1),
        "slot_valid": slot_valid.expand(B, -1),
        "region": torch.randn(B, R, generator=g),
        "plan_z": torch.randn(B, P, generator=g),
        "agent": torch.eye(K)[[0, 3]],
    }


def test_output_layout_and_zero_padding_embeddings():
    model = encoder()
    data = path_inputs()
    x, e_n, e_s = model(**data)
    assert x.shape == (B, 16 + 8 + R + 6) and model.out_dim == x.shape[1] and len(model.options.convs) == 3
    assert e_n.shape == (B, OPTS, 8) and e_s.shape == (B, S, 8) and len(model.slots.convs) == 2
    torch.testing.assert_close(x[:, 24 : 24 + R], data["region"])
    assert (e_n[:, 4] == 0).all() and (e_s[:, 6] == 0).all()
    noisy = {**data, "node_feats": data["node_feats"] + 5.0 * (~data["node_valid"])[..., None]}
    noisy["slot_feats"] = data["slot_feats"] + 5.0 * (~data["slot_valid"])[..., None]
    for got, want in zip(model(**noisy), (x, e_n, e_s), strict=True):
        torch.testing.assert_close(got, want)


def test_embeddings_reach_as_many_hops_as_layers():
    data = path_inputs()
    moved = dict(data)
    moved["node_feats"] = data["node_feats"].clone()
    moved["node_feats"][:, 0] += 1.0
    for layers, reached in ((1, 2), (3, 4)):
        model = encoder(option_layers=layers)
        delta = (model(**moved)[1] - model(**data)[1]).abs().amax(dim=(0, 2))  # (O,)
        assert (delta[:reached] > 0).all() and (delta[reached:] == 0).all()
    model = encoder()
    slots_moved = dict(data)
    slots_moved["slot_feats"] = data["slot_feats"].clone()
    slots_moved["slot_feats"][:, 3, 5:] += 1.0  # (0, 1, 1): reaches its replica 0 and slot 0 in 2 hops
    delta = (model(**slots_moved)[2] - model(**data)[2]).abs().amax(dim=(0, 2))
    assert (delta[[0, 2, 3]] > 0).all() and (delta[[1, 4, 5, 6]] == 0).all()
