"""RLlib's Q-network APIs for a module that holds an online Q-network ``q_net``, a target copy of it and
its own masked evaluation ``_q(net, obs)`` (:class:`~edgeplace.models.masked_q_module.MaskedQModule`,
:class:`~edgeplace.models.branching_q_module.BranchingQModule`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ray.rllib.algorithms.dqn.default_dqn_rl_module import QF_PREDS
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.utils import make_target_network
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, QNetAPI, TargetNetworkAPI
from ray.rllib.utils.annotations import override
from torch import Tensor, nn


class TargetQNetworks(InferenceOnlyAPI, QNetAPI, TargetNetworkAPI):
    """Q-values, the target network and its updates, for modules that set ``self.q_net`` and implement
    ``_q``; listed before ``TorchRLModule`` among the module's bases."""

    q_net: nn.Module

    def _q(self, net: nn.Module, obs: Mapping[str, Any]) -> Tensor:
        """Masked Q-values of ``net`` (the online or the target network) on ``obs``."""
        raise NotImplementedError

    @override(QNetAPI)
    def compute_q_values(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        return {QF_PREDS: self._q(self.q_net, batch[Columns.OBS])}

    @override(TargetNetworkAPI)
    def make_target_networks(self) -> None:
        self._target_q_net = make_target_network(self.q_net)

    @override(TargetNetworkAPI)
    def get_target_network_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(self.q_net, self._target_q_net)]

    @override(TargetNetworkAPI)
    def forward_target(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        return {QF_PREDS: self._q(self._target_q_net, batch[Columns.OBS])}

    @override(InferenceOnlyAPI)
    def get_non_inference_attributes(self) -> list[str]:
        return ["_target_q_net"]
