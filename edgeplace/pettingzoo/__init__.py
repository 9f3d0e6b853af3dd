"""Every registered scenario as a PettingZoo env, for tools outside RLlib (TorchRL, BenchMARL, SuperSuit,
hand-written loops).

The form follows the scenario env's base, with no per-scenario code: a
:class:`~edgeplace.envs.simultaneous.SimultaneousEnv` is a PettingZoo ``ParallelEnv``
(:class:`ScenarioParallelEnv`); a :class:`~edgeplace.envs.turn_based.TurnBasedEnv` and a
:class:`~edgeplace.envs.multi_rate.MultiRateEnv` are ``AECEnv`` s (:class:`ScenarioAECEnv`). Observations,
spaces (the env's own objects), seeding through ``reset(seed=...)``, action masks (Gymnasium's layout,
so ``env.action_space(agent).sample(mask=obs["action_mask"])`` works) and the KPIs in ``infos`` at
episode end are the RLlib env's.

    from edgeplace.pettingzoo import pettingzoo_env
    env = pettingzoo_env("dnn-inference", {"agents_per_service": 2})

Needs PettingZoo: ``pip install 'edgeplace[pettingzoo]'``.
"""

try:
    import pettingzoo  # noqa: F401
except ModuleNotFoundError as err:  # name the extra that installs it
    raise ModuleNotFoundError(
        "edgeplace.pettingzoo needs PettingZoo: pip install 'edgeplace[pettingzoo]'"
    ) from err

from edgeplace.pettingzoo.aec import ScenarioAECEnv
from edgeplace.pettingzoo.factory import pettingzoo_env, wrap_env
from edgeplace.pettingzoo.parallel import ScenarioParallelEnv

__all__ = ["ScenarioAECEnv", "ScenarioParallelEnv", "pettingzoo_env", "wrap_env"]
