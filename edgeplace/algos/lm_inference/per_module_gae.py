"""GAE with each module's own discount: RLlib's :class:`GeneralAdvantageEstimation` takes one gamma for
every module, so ``algorithm_config_overrides_per_module`` cannot change a module's discount by itself.
This piece runs RLlib's, once per distinct gamma, on the modules that discount with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.connectors.learner.general_advantage_estimation import GeneralAdvantageEstimation
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModule
from ray.rllib.utils.annotations import override


class PerModuleGAE(ConnectorV2):
    """Learner connector: advantages and value targets per module with ``gammas[module]`` (``gamma`` for
    modules not named), GAE lambda ``lambda_`` for all.

    Fills ``batch[module]`` as RLlib's piece does (ADVANTAGES, VALUE_TARGETS; shapes (T,) per module).
    """

    def __init__(
        self,
        input_observation_space: Any = None,
        input_action_space: Any = None,
        *,
        gammas: Mapping[str, float],
        gamma: float,
        lambda_: float,
    ) -> None:
        super().__init__(input_observation_space, input_action_space)
        self.gammas, self.gamma = dict(gammas), gamma
        self.pieces = {
            value: GeneralAdvantageEstimation(gamma=value, lambda_=lambda_)
            for value in {gamma, *self.gammas.values()}
        }

    @override(ConnectorV2)
    def __call__(
        self, *, rl_module: MultiRLModule, episodes: list[Any], batch: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any]:
        groups: dict[float, dict[str, Any]] = {}
        for module_id, module_batch in batch.items():
            groups.setdefault(self.gammas.get(module_id, self.gamma), {})[module_id] = module_batch
        for value, group in groups.items():
            batch.update(self.pieces[value](rl_module=rl_module, episodes=episodes, batch=group, **kwargs))
        return batch
