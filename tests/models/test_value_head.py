import torch

from edgeplace.models import NodeEncoding, ValueHead, critic_features

B, N, D = 3, 4, 8


def test_critic_features_mean_pool_only_real_nodes():
    node_mask = torch.tensor([[True, True, False, False]] * B)
    nodes = torch.randn(B, N, D)
    encoding = NodeEncoding(nodes=nodes, context=torch.randn(B, D), request=torch.randn(B, D))
    z = critic_features(encoding, node_mask)
    assert z.shape == (B, 3 * D)
    torch.testing.assert_close(z[:, 2 * D :], nodes[:, :2].mean(dim=1))


def test_value_head_returns_one_value_per_row():
    assert ValueHead(3 * D, hidden=(16,))(torch.randn(B, 3 * D)).shape == (B,)
