import torch

from edgeplace.models import MASKED_LOGIT, ItemScoringHead, NodeEncoding

B, N, M, D, F_ITEM = 3, 5, 7, 8, 2


def head_inputs() -> tuple[NodeEncoding, torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    encoding = NodeEncoding(
        nodes=torch.randn(B, N, D, generator=gen),
        context=torch.randn(B, D, generator=gen),
        request=torch.randn(B, D, generator=gen),
    )
    items = torch.randn(B, M, F_ITEM, generator=gen)
    item_node = torch.randint(0, N, (B, M), generator=gen)
    action_mask = torch.rand(B, M, generator=gen) < 0.6
    return encoding, items, item_node, action_mask


def test_blockwise_first_layer_equals_the_mlp_of_the_concatenation():
    head = ItemScoringHead(D, F_ITEM, hidden=(16, 4))
    encoding, items, item_node, action_mask = head_inputs()
    host = encoding.nodes[torch.arange(B).unsqueeze(1), item_node]  # (B, M, D)
    state = torch.cat([encoding.context, encoding.request], -1).unsqueeze(1).expand(-1, M, -1)
    concat = torch.cat([host, state, items], dim=-1)  # (B, M, 3D + F_ITEM)
    weight = torch.cat([head.node_proj.weight, head.state_proj.weight, head.item_weight.T], dim=1)
    expected = head.tail(concat @ weight.T + head.state_proj.bias).squeeze(-1)
    logits = head(encoding, items, item_node, action_mask)
    torch.testing.assert_close(logits[action_mask], expected[action_mask])


def test_forbidden_items_get_the_masked_logit():
    encoding, items, item_node, action_mask = head_inputs()
    logits = ItemScoringHead(D, F_ITEM)(encoding, items, item_node, action_mask)
    assert logits.shape == (B, M)
    assert (logits[~action_mask] == MASKED_LOGIT).all()
    assert (logits[action_mask] > MASKED_LOGIT / 2).all()


def test_all_forbidden_row_stays_finite():
    encoding, items, item_node, _ = head_inputs()
    logits = ItemScoringHead(D, F_ITEM)(encoding, items, item_node, torch.zeros(B, M, dtype=torch.bool))
    assert torch.isfinite(torch.log_softmax(logits, -1)).all()
