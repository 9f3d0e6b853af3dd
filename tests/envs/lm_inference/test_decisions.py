"""The explicit form of actions (the rule and llm backends): decisions the masks do not cover reach the
simulator, fallbacks are counted, and malformed decisions are refused naming the field."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.envs.base import KPI_INFO_KEY
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER
from edgeplace.envs.lm_inference.decisions import explicit_config, explicit_routes, explicit_weights
from edgeplace.envs.lm_inference.env import EpisodeKpi
from edgeplace.envs.lm_inference.lm_types import NUM_LMS
from edgeplace.envs.lm_inference.masks import KEEP
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.observation import LmObs
from edgeplace.envs.lm_inference.request_log import Outcome
from edgeplace.envs.lm_inference.state_codec import decode_state
from tests.envs.lm_inference.conftest import CPU, GPU, LM1, LM3, LM4, SHORT, VM2, VM3, VM7, config, play

N = 6
LOCAL = np.repeat(np.arange(N)[:, None], NUM_LMS, axis=1)
ONLY_VM3 = np.zeros((NUM_LMS, N), dtype=np.int64)
ONLY_VM3[LM1, VM3] = 2  # LM1 in role on VM3 alone; the other LMs uniform


class ExplicitLocal:
    """Explicit actions: LM1 on VM3 only (1 fallback), local routes (2 fallbacks), every node keeps."""

    name = "explicit-local"

    def act_batch(self, agent_ids, observations):
        rows = []
        for agent, observation in zip(agent_ids, observations, strict=True):
            if agent == PLANNER:
                rows.append(explicit_weights(ONLY_VM3, fallbacks=1))
            elif agent == SCHEDULER:
                rows.append(explicit_routes(LOCAL, fallbacks=2))
            else:
                view, _ = decode_state(observation[LmObs.STATE], N)
                rows.append(explicit_config(view.node_config(int(agent[-1]) - 2)))
        out = np.empty(len(rows), dtype=object)
        out[:] = rows
        return out


def test_explicit_routes_bypass_the_masks_and_fallbacks_are_counted():
    env = make_env(SHORT)
    _, _, infos = play(env, ExplicitLocal(), seed=0)
    log = env.sim.log
    stuck = (log.origin == VM2) & (log.lm >= LM3)  # VM2 cannot host LM3 / LM4: they fail at once
    assert stuck.any() and (log.outcome[stuck] == Outcome.INFEASIBLE).all()
    off_role = (log.lm == LM1) & (log.origin != VM3)
    np.testing.assert_array_equal(env.off_role, off_role | stuck)
    kpis = infos[PLANNER][KPI_INFO_KEY]
    measured = (log.slot >= 10) & (log.slot < 25)
    assert kpis[EpisodeKpi.OFF_ROLE_RATIO] == pytest.approx((off_role | stuck)[measured].mean())
    assert kpis[EpisodeKpi.FALLBACKS] == 3 * 1 + 30 * 2
    assert kpis[EpisodeKpi.CREATIONS] == 0  # every node kept its (empty) configuration


def at_deploy(seed: int = 0):
    """An env at slot 0's deployment, after local routes."""
    env = make_env(SHORT)
    env.reset(seed=seed)
    env.step({PLANNER: explicit_weights(ONLY_VM3)})
    observations, *_ = env.step({SCHEDULER: explicit_routes(LOCAL)})
    return env, dict.fromkeys(observations, KEEP)


def test_an_explicit_configuration_may_lie_outside_the_catalogue():
    env, keep = at_deploy()
    odd = config(LM4=(GPU, 4, 1), LM1=(CPU, 10, 0))  # a GPU pod with 4 host cores, one vGPU idle
    assert odd not in env.masks.table.entries[VM3]
    env.step({**keep, "deployer_VM3": explicit_config(odd)})
    assert env.view.node_config(VM3) == odd and env.sim.counts.creations == 2


@pytest.mark.parametrize(
    ("agent", "action", "message"),
    [
        (
            "deployer_VM7",
            explicit_config(config(LM4=(GPU, 16, 4))),
            "deployer_VM7: .* field 'cores' needs 16",
        ),
        ("deployer_VM2", explicit_config(config(LM3=(GPU, 2, 1))), "deployer_VM2: .* field 'vgpus' needs 1"),
        ("deployer_VM3", np.array([3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]), "deployer_VM3: .* field 'mode'"),
        (
            "deployer_VM3",
            np.append(explicit_config(NodeConfig.off())[:-1], -1),
            "field 'fallbacks' must be >= 0",
        ),
        ("deployer_VM3", np.full(13, 0.5), "explicit action holds integers"),
    ],
)
def test_a_malformed_explicit_decision_is_refused_naming_the_field_and_changes_nothing(
    agent, action, message
):
    env, keep = at_deploy()
    twin, _ = at_deploy()
    with pytest.raises(ValueError, match=message):
        env.step({**keep, agent: action})
    after, rewards, *_ = env.step(keep)
    twin_after, twin_rewards, *_ = twin.step(keep)
    assert rewards == twin_rewards
    np.testing.assert_array_equal(after[SCHEDULER][LmObs.STATE], twin_after[SCHEDULER][LmObs.STATE])


def test_malformed_explicit_plans_and_routes_are_refused():
    env = make_env(SHORT)
    env.reset(seed=0)
    weights = ONLY_VM3.copy()
    weights[LM4, VM2] = 1
    with pytest.raises(ValueError, match="planner: weights: a weight on a node that can never host"):
        env.step({PLANNER: explicit_weights(weights)})
    env.step({PLANNER: explicit_weights(ONLY_VM3)})
    routes = LOCAL.copy()
    routes[VM7, LM1] = N
    with pytest.raises(ValueError, match=r"scheduler: field 'destinations' must be node indices in \[0, 6\)"):
        env.step({SCHEDULER: explicit_routes(routes)})
