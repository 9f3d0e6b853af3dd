import torch

from edgeplace.models import NodeAttentionEncoder
from edgeplace.models.node_attention_encoder import fill_empty_rows

B, N, F_NODE, F_REQ, D = 4, 6, 3, 5, 16


def encoder_inputs(seed: int = 0) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    nodes = torch.randn(B, N, F_NODE, generator=gen)
    node_mask = torch.arange(N).expand(B, N) < torch.tensor([[6], [4], [1], [3]])  # (B, N)
    nodes = nodes * node_mask.unsqueeze(-1)
    request = torch.randn(B, F_REQ, generator=gen)
    key_mask = node_mask & (torch.rand(B, N, generator=gen) < 0.5)
    return nodes, node_mask, request, key_mask


def test_shapes():
    nodes, node_mask, request, key_mask = encoder_inputs()
    encoding = NodeAttentionEncoder(F_NODE, F_REQ, d_model=D, self_attention_layers=1)(
        nodes, node_mask, request, key_mask
    )
    assert encoding.nodes.shape == (B, N, D)
    assert encoding.context.shape == encoding.request.shape == (B, D)


def test_empty_key_mask_falls_back_to_valid_nodes_without_nan():
    nodes, node_mask, request, _ = encoder_inputs()
    encoder = NodeAttentionEncoder(F_NODE, F_REQ, d_model=D)
    empty = encoder(nodes, node_mask, request, torch.zeros_like(node_mask))
    all_valid = encoder(nodes, node_mask, request, node_mask)
    torch.testing.assert_close(empty.context, all_valid.context)
    no_nodes = encoder(nodes, torch.zeros_like(node_mask), request, torch.zeros_like(node_mask))
    assert torch.isfinite(no_nodes.context).all()


def test_keys_outside_key_mask_do_not_change_the_context():
    nodes, node_mask, request, key_mask = encoder_inputs()
    key_mask[:, 0] = True  # every row keeps a key
    encoder = NodeAttentionEncoder(F_NODE, F_REQ, d_model=D)
    before = encoder(nodes, node_mask, request, key_mask).context
    noisy = torch.where(key_mask.unsqueeze(-1), nodes, nodes + 5.0 * node_mask.unsqueeze(-1))
    torch.testing.assert_close(encoder(noisy, node_mask, request, key_mask).context, before)


def test_reset_parameters_reinitialises_every_weight():
    encoder = NodeAttentionEncoder(F_NODE, F_REQ, d_model=D, self_attention_layers=1)
    before = [p.clone() for p in encoder.parameters()]
    encoder.reset_parameters()
    changed = [not torch.equal(a, b) for a, b in zip(before, encoder.parameters(), strict=True)]
    weights = [p.dim() > 1 for p in encoder.parameters()]
    assert all(c for c, w in zip(changed, weights, strict=True) if w)


def test_fill_empty_rows():
    mask = torch.tensor([[False, False], [True, False]])
    fallback = torch.tensor([[True, True], [False, True]])
    assert fill_empty_rows(mask, fallback).tolist() == [[True, True], [True, False]]
