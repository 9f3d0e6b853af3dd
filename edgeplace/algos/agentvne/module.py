"""AgentVNE as an RLlib new-API-stack RLModule for PPO fine-tuning (papers/agentvne.md, sections d-f).

- Exploration: P from the similarity network, pi = P masked by the host mask and renormalised per agent,
  one Plackett-Luce list per agent by Gumbel-top-k (torch's RNG, which RLlib seeds), decoded by the
  scenario's greedy-BFS decoder. Returns ``actions`` (B, Nv), ``action_logp`` (B,) and
  ``action_dist_inputs`` = masked log pi (B, Nv, Ns).
- Inference: the lists sort P (ties -> lower id); deterministic.
- Train: masked log pi with gradients; the value comes from a separate dual-GCN value network.

The action log-probability, entropy and KL are :class:`AgentRowsDistribution`'s (``realized`` mode).
The static network (adjacency, hop and route tables) is rebuilt from ``model_config["env_config"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from torch import Tensor

from edgeplace.algos.agentvne.decoding import ListDecoder
from edgeplace.algos.agentvne.graphs import graph_pair, masked_log_pi
from edgeplace.algos.agentvne.module_config import LEGACY_KEYS, AgentVNEModuleConfig
from edgeplace.algos.agentvne.pretrain import load_checkpoint
from edgeplace.algos.agentvne.similarity_task import SIMILARITY_KIND
from edgeplace.envs.agent_vne import VNEObsKey, static_network
from edgeplace.envs.agent_vne.observation import FEATURE_DIM
from edgeplace.models.agent_rows_distribution import AgentRowsDistribution
from edgeplace.models.dual_gcn_value import DualGCNValue
from edgeplace.models.graph_pair import GraphPair
from edgeplace.models.resource_similarity import ResourceSimilarityNetwork
from edgeplace.models.similarity_config import SimilarityConfig


class AgentVNEModule(TorchRLModule, ValueFunctionAPI):
    """See the module docstring. ``model_config``: :class:`AgentVNEModuleConfig` fields plus
    :class:`SimilarityConfig` fields."""

    @override(TorchRLModule)
    def setup(self) -> None:
        self.vne_config = AgentVNEModuleConfig.from_model_config(self.model_config)
        self.static = static_network(self.vne_config.env_config)
        max_nodes = int(self.observation_space[VNEObsKey.NODE_FEATURES].shape[0])
        if max_nodes != self.static.max_nodes:
            raise ValueError(
                f"agentvne module: observations have {max_nodes} nodes but model_config['env_config'] "
                f"gives {self.static.max_nodes}"
            )
        sizes = SimilarityConfig.from_model_config(
            self.model_config, shared_with=(AgentVNEModuleConfig,), ignored=LEGACY_KEYS
        )
        self.similarity = ResourceSimilarityNetwork(max_nodes, FEATURE_DIM, sizes)
        self.value_net = DualGCNValue(FEATURE_DIM, sizes.value_width, sizes.value_hidden, sizes.gcn_layers)
        adjacency = torch.from_numpy(np.array(self.static.adjacency, dtype=np.float32))
        self.register_buffer("adjacency", adjacency, persistent=False)  # (Ns, Ns), from env_config
        self.decoder = ListDecoder(self.static, self.vne_config.restarts)
        self.action_dist_cls = AgentRowsDistribution

    def load_pretrained(self, path: str) -> None:
        """Copy a pre-training checkpoint's weights (``best.pt`` or its directory) into the similarity
        network. The learner calls it once when a fine-tuning run starts (:class:`AgentVNELearner`), so
        the module's constructor arguments, which RLlib checkpoints, name no file."""
        payload = load_checkpoint(path, SIMILARITY_KIND)
        if payload["facts"]["max_nodes"] != self.similarity.max_nodes:
            raise ValueError(
                f"{path}: pre-trained for {payload['facts']['max_nodes']} nodes, the module has "
                f"{self.similarity.max_nodes}"
            )
        self.similarity.load_state_dict(payload["state_dict"])

    def _graphs(self, obs: dict[str, Tensor]) -> GraphPair:
        return graph_pair(obs, self.adjacency)

    def log_pi(self, obs: dict[str, Tensor]) -> Tensor:
        """Masked log pi. Shapes: batched obs -> (B, Nv, Ns)."""
        return masked_log_pi(self.similarity.log_similarity(self._graphs(obs)), obs)

    def _decode(self, obs: dict[str, Tensor], log_pi: Tensor, gumbel: Tensor | None) -> Tensor:
        numpy_obs = {key: value.detach().cpu().numpy() for key, value in obs.items()}
        noise = None if gumbel is None else gumbel.cpu().numpy()
        actions = self.decoder.decode(log_pi.detach().cpu().numpy(), numpy_obs, noise)
        return torch.from_numpy(actions).to(log_pi.device)  # (B, Nv)

    @override(TorchRLModule)
    def _forward_inference(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        with torch.no_grad():
            log_pi = self.log_pi(obs)
        return {Columns.ACTIONS: self._decode(obs, log_pi, None), Columns.ACTION_DIST_INPUTS: log_pi}

    @override(TorchRLModule)
    def _forward_exploration(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        with torch.no_grad():
            log_pi = self.log_pi(obs)
            uniform = torch.rand_like(log_pi).clamp(torch.finfo(log_pi.dtype).tiny, 1.0)
            gumbel = -torch.log(-torch.log(uniform))  # Gumbel(0, 1): keys = log pi + G (Gumbel-top-k)
            actions = self._decode(obs, log_pi, gumbel)
            logp = AgentRowsDistribution(log_pi).logp(actions)
        return {Columns.ACTIONS: actions, Columns.ACTION_LOGP: logp, Columns.ACTION_DIST_INPUTS: log_pi}

    @override(TorchRLModule)
    def _forward_train(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        return {Columns.ACTION_DIST_INPUTS: self.log_pi(batch[Columns.OBS])}

    @override(ValueFunctionAPI)
    def compute_values(self, batch: dict[str, Any], embeddings: Tensor | None = None) -> Tensor:
        """Values (B,) from the value network (its own GCN streams; ``embeddings`` are not used)."""
        return self.value_net(self._graphs(batch[Columns.OBS]))


def agentvne_module_spec(model_config: dict[str, Any]) -> RLModuleSpec:
    """An RLModuleSpec of :class:`AgentVNEModule`; the config is validated here (spaces come from the env)."""
    module = AgentVNEModuleConfig.from_model_config(model_config)
    sizes = SimilarityConfig.from_model_config(model_config, shared_with=(AgentVNEModuleConfig,))
    return RLModuleSpec(
        module_class=AgentVNEModule, model_config={**sizes.to_model_config(), **module.to_model_config()}
    )
