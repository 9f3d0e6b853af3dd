import pytest
import torch
from torch import nn

from edgeplace.models.single_query_attention import SingleQueryAttention

B, N, D, HEADS = 5, 7, 16, 4


def test_equals_torch_multihead_attention_with_the_same_weights():
    torch.manual_seed(0)
    attention = SingleQueryAttention(D, HEADS)
    with torch.no_grad():
        for param in attention.parameters():
            param.normal_()  # non-zero biases too
    reference = nn.MultiheadAttention(D, HEADS, batch_first=True)
    key_bias = torch.randn(D)  # cancels in the softmax
    with torch.no_grad():
        reference.in_proj_weight.copy_(
            torch.cat([attention.q_proj.weight, attention.k_weight, attention.v_weight])
        )
        reference.in_proj_bias.copy_(torch.cat([attention.q_proj.bias, key_bias, attention.v_bias]))
        reference.out_proj.load_state_dict(attention.out_proj.state_dict())
    query, tokens = torch.randn(B, D), torch.randn(B, N, D)
    key_mask = torch.rand(B, N) < 0.5
    key_mask[:, 0] = True
    expected, _ = reference(query.unsqueeze(1), tokens, tokens, key_padding_mask=~key_mask)
    torch.testing.assert_close(attention(query, tokens, key_mask), expected.squeeze(1), rtol=1e-4, atol=1e-4)


def test_rejects_heads_that_do_not_divide_the_width():
    with pytest.raises(ValueError, match="num_heads"):
        SingleQueryAttention(10, 4)
