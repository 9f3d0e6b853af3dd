"""AgentVNE's pre-training task: the resource-similarity network P against the NodeRank targets Y
(papers/agentvne.md, section f), and loading its checkpoints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from edgeplace.algos.agentvne.dataset import LOSS_MASK, TARGETS
from edgeplace.algos.agentvne.graphs import graph_pair
from edgeplace.algos.agentvne.labels import LabelMode
from edgeplace.algos.agentvne.pretrain import (
    PretrainConfig,
    PretrainResult,
    load_checkpoint,
    prepare_dataset,
    pretrain,
)
from edgeplace.algos.agentvne.settings import DEFAULT_RATES
from edgeplace.envs.agent_vne import StaticNetwork, static_network
from edgeplace.envs.agent_vne.observation import FEATURE_DIM
from edgeplace.models.resource_similarity import ResourceSimilarityNetwork
from edgeplace.models.similarity_config import SimilarityConfig

#: ``kind`` of an AgentVNE similarity-network checkpoint.
SIMILARITY_KIND = "agentvne-similarity"


class SimilarityTask:
    """AgentVNE: the resource-similarity network P against the NodeRank targets Y.

    Args:
        static: the network of the dataset (gives Ns and the substrate adjacency).
        config: the network's sizes.
    """

    kind = SIMILARITY_KIND

    def __init__(self, static: StaticNetwork, config: SimilarityConfig | None = None) -> None:
        self.static, self.config = static, config or SimilarityConfig()
        self.adjacency = torch.from_numpy(np.array(static.adjacency, dtype=np.float32))

    def describe(self) -> dict[str, Any]:
        return {"max_nodes": self.static.max_nodes, "model_config": self.config.to_model_config()}

    def build_model(self) -> ResourceSimilarityNetwork:
        return ResourceSimilarityNetwork(self.static.max_nodes, FEATURE_DIM, self.config)

    def loss_terms(self, model: nn.Module, batch: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
        similarity = model(graph_pair(batch, self.adjacency))  # (B, Nv, Ns)
        mask = batch[LOSS_MASK]
        return (mask * (similarity - batch[TARGETS]) ** 2).sum(), mask.sum()


def load_similarity_network(path: Path) -> ResourceSimilarityNetwork:
    """The pre-trained AgentVNE similarity network of ``path`` (``best.pt`` or its directory)."""
    return similarity_network(load_checkpoint(path, SIMILARITY_KIND))


def similarity_network(payload: Mapping[str, Any]) -> ResourceSimilarityNetwork:
    """The similarity network of a loaded AgentVNE checkpoint payload, weights included."""
    facts = payload["facts"]
    network = ResourceSimilarityNetwork(
        facts["max_nodes"], FEATURE_DIM, SimilarityConfig.from_model_config(facts["model_config"])
    )
    network.load_state_dict(payload["state_dict"])
    return network


def pretrain_agentvne(
    env_config: Mapping[str, Any] | None,
    out_dir: Path,
    config: PretrainConfig | None = None,
    model_config: SimilarityConfig | None = None,
    *,
    episodes: int = 100,
    arrivals: int = 50,
    rates: Sequence[float] = DEFAULT_RATES,
    label_mode: LabelMode | str = LabelMode.REALIZED,
    resume: bool = True,
    show_progress: bool = False,
) -> PretrainResult:
    """Spec f end to end: teacher dataset (episodes at arrival rates drawn from ``rates``, cached in
    ``out_dir``), 80/20 split, pre-training."""
    config = config or PretrainConfig()
    dataset = prepare_dataset(
        env_config,
        out_dir,
        episodes=episodes,
        arrivals=arrivals,
        rates=rates,
        seed=config.seed,
        label_mode=label_mode,
    )
    train, val = dataset.split(0.8, config.seed)
    task = SimilarityTask(static_network(dataset.env_config), model_config)
    return pretrain(task, train, val, out_dir, config, resume=resume, show_progress=show_progress)
