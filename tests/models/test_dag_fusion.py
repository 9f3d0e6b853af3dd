"""DagFusionEncoder (Eq. 23): output layout, pooling over real rows only, per-agent W_k, no plan part
when plan_width is 0."""

from __future__ import annotations

import torch

from edgeplace.models.dag_fusion import DagFusionEncoder, masked_max, masked_mean, project_plan

B, OPTS, S, FN, FS, R, P, K = 3, 5, 4, 14, 12, 19, 64, 4


def inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    node_valid = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
    slot_valid = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=torch.bool)
    return {
        "node_feats": torch.randn(B, OPTS, FN, generator=g) * node_valid[..., None],
        "node_valid": node_valid,
        "slot_feats": torch.randn(B, S, FS, generator=g) * slot_valid[..., None],
        "slot_valid": slot_valid,
        "region": torch.randn(B, R, generator=g),
        "plan_z": torch.randn(B, P, generator=g),
        "agent": torch.eye(K)[[0, 1, 3]],
    }


def test_output_layout_and_embeddings():
    torch.manual_seed(0)
    encoder = DagFusionEncoder(FN, FS, R, P, node_width=16, slot_width=8, plan_width=6, agent_slots=K)
    x, e_n, e_s = encoder(**inputs())
    assert x.shape == (B, 16 + 8 + R + 6) and encoder.out_dim == x.shape[1]
    assert e_n.shape == (B, OPTS, 8) and e_s.shape == (B, S, 8)
    torch.testing.assert_close(x[:, 24 : 24 + R], inputs()["region"])  # region passes through


def test_padded_rows_do_not_change_the_pools():
    torch.manual_seed(0)
    encoder = DagFusionEncoder(FN, FS, R, P, node_width=16, slot_width=8, plan_width=6, agent_slots=K)
    data = inputs()
    noisy = dict(data)
    noisy["node_feats"] = data["node_feats"] + 5.0 * (~data["node_valid"])[..., None]
    noisy["slot_feats"] = data["slot_feats"] + 5.0 * (~data["slot_valid"])[..., None]
    torch.testing.assert_close(encoder(**data)[0], encoder(**noisy)[0])


def test_masked_pools_match_direct_reductions():
    x = torch.randn(2, 4, 3)
    valid = torch.tensor([[1, 0, 1, 0], [0, 0, 0, 0]], dtype=torch.bool)
    torch.testing.assert_close(masked_mean(x, valid)[0], x[0, [0, 2]].mean(0))
    torch.testing.assert_close(masked_max(x, valid)[0], x[0, [0, 2]].amax(0))
    assert (masked_mean(x, valid)[1] == 0).all() and (masked_max(x, valid)[1] == 0).all()


def test_w_k_is_per_agent_and_absent_without_plan_input():
    torch.manual_seed(0)
    encoder = DagFusionEncoder(FN, FS, R, P, node_width=16, slot_width=8, plan_width=6, agent_slots=K)
    data = inputs()
    before = encoder(**data)[0].detach()
    with torch.no_grad():
        encoder.plan_proj[1].mul_(2.0)  # agent 1's W_k only (rows use agents 0, 1, 3)
    changed = (encoder(**data)[0] - before).abs().sum(dim=1)
    assert changed[1] > 0 and changed[0] == 0 and changed[2] == 0
    plain = DagFusionEncoder(FN, FS, R, P, node_width=16, slot_width=8, plan_width=0, agent_slots=K)
    assert plain.plan_proj is None and plain(**data)[0].shape == (B, 16 + 8 + R)


def test_project_plan_uses_each_rows_own_w_k():
    weights = torch.randn(K, P, 6)
    plan_z, agent = torch.randn(B, P), torch.eye(K)[[2, 0, 2]]
    want = torch.stack([plan_z[b] @ weights[k] for b, k in enumerate([2, 0, 2])])
    torch.testing.assert_close(project_plan(plan_z, agent, weights), want)
