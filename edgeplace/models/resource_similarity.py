"""AgentVNE's resource-similarity network: dual GCN + Transformer, then the column-wise NTN
(papers/agentvne.md, d)."""

from __future__ import annotations

from torch import Tensor, nn

from edgeplace.models.dual_gcn_transformer import DualGCNTransformer
from edgeplace.models.graph_pair import GraphPair
from edgeplace.models.ntn_similarity import ColumnwiseNTN
from edgeplace.models.similarity_config import SimilarityConfig


class ResourceSimilarityNetwork(nn.Module):
    """P = row-L2(sigmoid(NTN(DualGCNTransformer(graphs)))), the agent x node similarity matrix.

    Args:
        max_nodes: Ns_max (the NTN has one slice per substrate node).
        in_features: F of both streams (6 in spec d).
        config: sizes (d defaults to 64 up to 100 nodes, 128 above).

    Shapes:
        GraphPair with Ns = max_nodes -> P (B, Nv, Ns): rows of real agents have unit L2 norm over
        the real nodes; padded rows and columns are 0.
    """

    def __init__(self, max_nodes: int, in_features: int = 6, config: SimilarityConfig | None = None) -> None:
        super().__init__()
        config = config or SimilarityConfig()
        d = config.width(max_nodes)
        self.max_nodes, self.d_model = max_nodes, d
        self.encoder = DualGCNTransformer(
            in_features, d, config.num_heads, config.ff_multiplier, config.dropout, config.gcn_layers
        )
        self.ntn = ColumnwiseNTN(max_nodes, d)

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.ntn.reset_parameters()

    def forward(self, graphs: GraphPair) -> Tensor:
        h_v, h_s = self.encoder(graphs)  # (B, Nv, d), (B, Ns, d)
        return self.ntn(h_v, h_s, graphs.vn_mask, graphs.sn_mask)  # (B, Nv, Ns)

    def log_similarity(self, graphs: GraphPair) -> Tensor:
        """log sigmoid(Z): P before Eq.19's row normalisation, in log space (what the sampling
        distribution needs; the normalisation cancels in it). Shapes: GraphPair -> (B, Nv, Ns)."""
        return self.ntn.log_scores(*self.encoder(graphs))
