"""The output contract of node encoders, consumed by the item-scoring and value heads."""

from typing import NamedTuple

from torch import Tensor


class NodeEncoding(NamedTuple):
    """Embeddings of one observation batch.

    Shapes:
        nodes: (B, N, d) one token per node; rows of padding nodes are arbitrary (mask them)
        context: (B, d) the request's summary of the network (cross-attention output)
        request: (B, d) the request token
    """

    nodes: Tensor
    context: Tensor
    request: Tensor
