"""GAL-VNE-like baseline (papers/agentvne.md, section g): a single-stream GCN node scorer pre-trained on
*unbiased* NodeRank (same data and schedule as AgentVNE), then agents by normalised demand, descending,
each to its highest-scoring feasible node. No BFS, no bias, no RL.

The scorer sees the substrate features without the semantic layer's bias (the bias is subtracted and
the bias flag cleared), and its targets are :func:`~edgeplace.algos.agentvne.labels.node_targets`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from edgeplace.algos.agentvne.dataset import NODE_TARGETS, VNEDataset
from edgeplace.algos.agentvne.pretrain import (
    PretrainConfig,
    PretrainResult,
    load_checkpoint,
    prepare_dataset,
    pretrain,
)
from edgeplace.algos.baselines.agent_vne import EmbeddingPolicy, _by_demand, _greedy_by_score
from edgeplace.envs.agent_vne import StaticNetwork, VNEObsKey, static_network
from edgeplace.envs.agent_vne.feasibility import FeasibilityOracle
from edgeplace.envs.agent_vne.observation import FEATURE_DIM, NodeFeature
from edgeplace.models.node_score_gcn import NodeScoreGCN

#: ``kind`` of a GAL-VNE checkpoint.
GAL_VNE_KIND = "gal-vne"
#: Environment variable naming the checkpoint of the registered ``gal-vne`` baseline.
GAL_VNE_CHECKPOINT_ENV = "EDGEPLACE_GAL_VNE_CHECKPOINT"
#: Spec g: a 2-layer GCN of width 64.
GAL_WIDTH, GAL_LAYERS, GAL_DROPOUT = 64, 2, 0.1


def unbiased_node_features(features: Tensor, node_bias: Tensor) -> Tensor:
    """Substrate features without the semantic bias: b removed from the resource columns, flag cleared.

    Shapes: features (B, Ns, 6), node_bias (B, Ns) -> (B, Ns, 6).
    """
    out = features.clone()
    out[..., : NodeFeature.STORAGE + 1] -= node_bias.unsqueeze(-1).to(out.dtype)
    out[..., NodeFeature.BIAS_FLAG] = 0.0
    return out


class NodeScoreTask:
    """Pre-training task of the GAL-VNE scorer: masked MSE against the unbiased NodeRank targets.

    Args:
        static: the network of the dataset.
    """

    kind = GAL_VNE_KIND

    def __init__(self, static: StaticNetwork) -> None:
        self.static = static
        self.adjacency = torch.from_numpy(np.array(static.adjacency, dtype=np.float32))

    def describe(self) -> dict[str, Any]:
        return {"max_nodes": self.static.max_nodes, "width": GAL_WIDTH, "gcn_layers": GAL_LAYERS}

    def build_model(self) -> NodeScoreGCN:
        return NodeScoreGCN(FEATURE_DIM, GAL_WIDTH, GAL_LAYERS, GAL_DROPOUT)

    def loss_terms(self, model: nn.Module, batch: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
        mask = batch[VNEObsKey.SN_MASK].float()
        features = unbiased_node_features(batch[VNEObsKey.NODE_FEATURES].float(), batch[VNEObsKey.NODE_BIAS])
        scores = model(features, self.adjacency, mask > 0.5)  # (B, Ns)
        return (mask * (scores - batch[NODE_TARGETS]) ** 2).sum(), mask.sum()


class GALVNEPolicy(EmbeddingPolicy):
    """Agents by normalised demand (desc), each to the feasible node with the highest score (scores of
    the residual state before the request; ties -> lower id).

    Args:
        static: the network.
        scorer: a trained :class:`NodeScoreGCN`.
    """

    name = "gal-vne"

    def __init__(self, static: StaticNetwork, scorer: NodeScoreGCN) -> None:
        super().__init__(static)
        self.scorer = scorer.eval()
        self.adjacency = torch.from_numpy(np.array(static.adjacency, dtype=np.float32))

    def node_scores(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        """Scores of the real nodes. Shapes: -> (N,) float64."""
        features = torch.as_tensor(np.asarray(obs[VNEObsKey.NODE_FEATURES]), dtype=torch.float32)[None]
        bias = torch.as_tensor(np.asarray(obs[VNEObsKey.NODE_BIAS]), dtype=torch.float32)[None]
        mask = torch.as_tensor(np.asarray(obs[VNEObsKey.SN_MASK]) > 0.5)[None]
        with torch.inference_mode():
            scores = self.scorer(unbiased_node_features(features, bias), self.adjacency, mask)[0]
        return scores.numpy()[: self.static.num_nodes].astype(np.float64)

    def embed(self, request, obs, node_free, link_free):
        scores = self.node_scores(obs)
        oracle = FeasibilityOracle(self.static, request, node_free, link_free)
        return _greedy_by_score(oracle, _by_demand(request, self.static), lambda _: scores)

    @classmethod
    def from_checkpoint(cls, path: str | Path, env_config: Mapping[str, Any] | None = None) -> GALVNEPolicy:
        """Load ``best.pt`` (or its directory); ``env_config`` defaults to the one it was trained on."""
        payload = load_checkpoint(Path(path), GAL_VNE_KIND)
        static = static_network(payload["env_config"] if env_config is None else env_config)
        if payload["facts"]["max_nodes"] != static.max_nodes:
            raise ValueError(
                f"{path}: gal-vne was trained for {payload['facts']['max_nodes']} nodes, the env pads to "
                f"{static.max_nodes}"
            )
        scorer = NodeScoreGCN(FEATURE_DIM, payload["facts"]["width"], payload["facts"]["gcn_layers"])
        scorer.load_state_dict(payload["state_dict"])
        return cls(static, scorer)


def gal_vne_factory(
    seed: int, env_config: Mapping[str, Any], checkpoint: str | Path | None = None
) -> GALVNEPolicy:
    """The registered ``gal-vne`` baseline: ``checkpoint``, else ``$EDGEPLACE_GAL_VNE_CHECKPOINT``."""
    path = checkpoint or os.environ.get(GAL_VNE_CHECKPOINT_ENV)
    if not path:
        raise FileNotFoundError(
            f"gal-vne needs a pre-trained scorer: train one with "
            f"edgeplace.algos.agentvne.gal_vne.pretrain_gal_vne(env_config, OUT) and set "
            f"{GAL_VNE_CHECKPOINT_ENV}=OUT (or pass checkpoint=)"
        )
    return GALVNEPolicy.from_checkpoint(path, env_config)


def pretrain_gal_vne(
    env_config: Mapping[str, Any] | None,
    out_dir: Path,
    config: PretrainConfig | None = None,
    *,
    dataset: VNEDataset | None = None,
    episodes: int = 100,
    arrivals: int = 50,
    resume: bool = True,
    show_progress: bool = False,
) -> PretrainResult:
    """Train the GAL-VNE scorer on the AgentVNE dataset (``dataset``, else collected and cached in
    ``out_dir``) with the same split and schedule."""
    config = config or PretrainConfig()
    if dataset is None:
        dataset = prepare_dataset(env_config, out_dir, episodes=episodes, arrivals=arrivals, seed=config.seed)
    train, val = dataset.split(0.8, config.seed)
    task = NodeScoreTask(static_network(dataset.env_config))
    return pretrain(task, train, val, out_dir, config, resume=resume, show_progress=show_progress)
