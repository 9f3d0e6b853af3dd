"""AgentVNE at evaluation time: the similarity network's sorted lists, decoded by the greedy-BFS
decoder, behind the policy protocol (papers/agentvne.md, section e, "Inference")."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from edgeplace.algos.agentvne.decoding import ListDecoder
from edgeplace.algos.agentvne.graphs import MODEL_KEYS, as_tensors, graph_pair, masked_log_pi
from edgeplace.algos.agentvne.pretrain import BEST_FILE, load_checkpoint
from edgeplace.algos.agentvne.similarity_task import SIMILARITY_KIND, similarity_network
from edgeplace.algos.checkpoints import MODULE_SUBDIR, read_metadata, resolve_checkpoint
from edgeplace.envs.agent_vne import AGENT_ID, StaticNetwork, VNEObsKey, static_network
from edgeplace.envs.agent_vne.decoder import DEFAULT_RESTARTS
from edgeplace.models.resource_similarity import ResourceSimilarityNetwork
from edgeplace.policy import Observation

if TYPE_CHECKING:
    from ray.rllib.algorithms.algorithm import Algorithm

#: Environment variable naming the checkpoint of the registered ``agentvne`` policy.
AGENTVNE_CHECKPOINT_ENV = "EDGEPLACE_AGENTVNE_CHECKPOINT"
_DECODE_KEYS = (
    VNEObsKey.NODE_RESIDUAL,
    VNEObsKey.LINK_RESIDUAL_BW,
    VNEObsKey.REQUEST_DEMAND,
    VNEObsKey.REQUEST_LINK_BW,
    VNEObsKey.REQUEST_AFFINITY,
    VNEObsKey.HOST_MASK,
    VNEObsKey.ANCHOR_TARGET,
)


class AgentVNEPolicy:
    """Deterministic AgentVNE: P -> masked log pi -> sorted lists -> greedy-BFS decoding, one forward
    pass per batch.

    Args:
        network: a (pre-trained or fine-tuned) similarity network for ``static.max_nodes`` nodes.
        static: the network of the envs it acts on.
        restarts: R of the decoder.
        name: the policy's name in reports.
    """

    def __init__(
        self,
        network: ResourceSimilarityNetwork,
        static: StaticNetwork,
        restarts: int = DEFAULT_RESTARTS,
        name: str = "agentvne",
    ) -> None:
        if network.max_nodes != static.max_nodes:
            raise ValueError(
                f"agentvne: the network was built for {network.max_nodes} nodes, the env pads to "
                f"{static.max_nodes} (one model per substrate size)"
            )
        self.name, self.network, self.static = name, network.eval(), static
        self.decoder = ListDecoder(static, restarts)
        self.adjacency = torch.from_numpy(np.array(static.adjacency, dtype=np.float32))

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Shapes: B observations -> (B, Nv) int64 hosts, Ns = unassigned."""
        if not observations:
            raise ValueError("cannot act on an empty batch of observations")
        keys = dict.fromkeys((*MODEL_KEYS, *_DECODE_KEYS))
        batch = {key: np.stack([np.asarray(obs[key]) for obs in observations]) for key in keys}
        return self.decoder.decode(self.log_pi(batch), batch)

    def log_pi(self, batch: Mapping[str, np.ndarray]) -> np.ndarray:
        """Masked log pi (spec e) of stacked observations, one forward pass.

        Shapes: ``batch[key]`` (B, ...) with at least MODEL_KEYS and POLICY_KEYS -> (B, Nv, Ns).
        """
        tensors = as_tensors(batch)
        with torch.inference_mode():
            scores = self.network.log_similarity(graph_pair(tensors, self.adjacency))
            return masked_log_pi(scores, tensors).numpy()

    @classmethod
    def from_algorithm(
        cls, algo: Algorithm, agent_ids: Sequence[str], name: str = "trained"
    ) -> AgentVNEPolicy:
        """The policy of a running fine-tuning algorithm's network, as its checkpoint would restore it."""
        (agent,) = agent_ids
        module = algo.get_module(algo.config.policy_mapping_fn(agent, None))
        return cls(module.similarity, module.static, restarts=module.vne_config.restarts, name=name)

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, env_config: Mapping[str, Any] | None = None, name: str | None = None
    ) -> AgentVNEPolicy:
        """Load a pre-training checkpoint (``best.pt`` or its directory) or a PPO fine-tuning checkpoint
        (an edgeplace algorithm checkpoint or run directory). ``env_config`` defaults to the one the
        checkpoint was trained on."""
        path = Path(path)
        if path.is_file() or (path / BEST_FILE).is_file():
            payload = load_checkpoint(path, SIMILARITY_KIND)
            network, trained_on = similarity_network(payload), payload["env_config"]
        else:
            network, trained_on = _finetuned_network(path)
        static = static_network(trained_on if env_config is None else env_config)
        return cls(network, static, name=name or "agentvne")


def _finetuned_network(path: Path) -> tuple[ResourceSimilarityNetwork, Mapping[str, Any]]:
    """The similarity network and env config of an RLlib algorithm checkpoint."""
    from ray.rllib.core.rl_module.rl_module import RLModule  # Ray loads only for fine-tuned checkpoints

    checkpoint = resolve_checkpoint(path)
    metadata = read_metadata(checkpoint)
    module_id = metadata["agent_modules"][AGENT_ID]
    module = RLModule.from_checkpoint(str(checkpoint / MODULE_SUBDIR / module_id))
    return module.similarity, metadata["env_config"]


def agentvne_factory(seed: int, env_config: Mapping[str, Any]) -> AgentVNEPolicy:
    """The registered ``agentvne`` policy: the checkpoint named by ``$EDGEPLACE_AGENTVNE_CHECKPOINT``."""
    path = os.environ.get(AGENTVNE_CHECKPOINT_ENV)
    if not path:
        raise FileNotFoundError(
            f"agentvne needs a trained checkpoint: set {AGENTVNE_CHECKPOINT_ENV} to a pre-training "
            f"directory (best.pt) or a fine-tuning run directory"
        )
    return AgentVNEPolicy.from_checkpoint(path, env_config)
