"""VAMAPPO's CAF connector on a 2-stage toy with hand-computed values (spec e3-e4)."""

import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.evaluation.postprocessing import Postprocessing

from edgeplace.algos.vamappo.connector import CoordinatedAdvantage, SampleColumn, _Rows
from edgeplace.algos.vamappo.coordination import Coordination
from edgeplace.algos.vamappo.settings import VAMAPPOSettings
from edgeplace.algos.vamappo.state import VAMAPPOState
from edgeplace.models.mc_dropout import MCDropoutUncertainty
from edgeplace.models.uncertainty_api import UncertaintyCriticAPI


@dataclass
class Chunk:
    """The parts of a SingleAgentEpisode chunk the connector reads."""

    agent_id: str
    multi_agent_episode_id: str
    t_started: int
    length: int  # rows incl. the bootstrap row

    def __len__(self) -> int:
        return self.length


class ValueIsX(torch.nn.Module, UncertaintyCriticAPI):
    """V(s) = obs["x"]; critic features z = obs["x"]."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))
        self.uncertainty_head = MCDropoutUncertainty(1, widths=(4,), dropouts=(0.5,))

    def critic_embeddings(self, batch):
        return batch[Columns.OBS]["x"]

    def compute_values(self, batch, embeddings=None):
        z = embeddings if embeddings is not None else self.critic_embeddings(batch)
        return z[:, 0] * self.scale


def _toy_coordination() -> Coordination:
    # b's counterfactual state value drops by a's probability of action 0
    return Coordination(
        agent_ids=("a", "b"),
        successor={"a": "b"},
        counterfactual=lambda obs_a, probs, obs_b: {**obs_b, "x": obs_b["x"] - probs[:, :1]},
        transfer_mb=lambda obs: obs["mb"][:, 0],
        bandwidth_mb_s=1.0,
    )


def _toy_batch():
    # rows: a r0, a r1, a bootstrap, b r0, b r1, b bootstrap
    x = torch.tensor([[1.0], [2.0], [2.0], [3.0], [1.0], [1.0]])
    return {
        Columns.OBS: {"x": x, "mb": torch.full((6, 1), 0.05)},
        Columns.REWARDS: torch.tensor([1.0, 1.0, 0.0, 2.0, 4.0, 0.0]),
        Columns.TERMINATEDS: torch.tensor([False, True, False, False, True, False]),
        Columns.TRUNCATEDS: torch.zeros(6, dtype=torch.bool),
        Columns.ACTION_DIST_INPUTS: torch.zeros(6, 2),  # pi = (0.5, 0.5)
    }


CHUNKS = [Chunk("a", "m", 0, 3), Chunk("b", "m", 0, 3)]


def _connector(**settings) -> CoordinatedAdvantage:
    state = VAMAPPOState(VAMAPPOSettings(**settings), num_agents=2)
    return CoordinatedAdvantage(coordination=_toy_coordination(), state=state, gamma=0.5, lambda_=1.0)


def test_influence_on_the_successor_by_hand():
    connector = _connector()
    rows = _Rows(CHUNKS, connector.agent_index)
    batch = _toy_batch()
    values = batch[Columns.OBS]["x"][:, 0].numpy().astype(np.float64)
    influence, weight = connector._influence(
        ValueIsX(), batch, rows, values, batch[Columns.REWARDS].numpy(), batch[Columns.TERMINATEDS].numpy()
    )
    # A_inf(a, r) = r^b_r + gamma V(s^b_{r+1}) - V(s~^b_r), s~ = x_b - 0.5
    np.testing.assert_allclose(influence[:2], [2.0 + 0.5 * 1.0 - 2.5, 4.0 + 0.0 - 0.5])
    np.testing.assert_allclose(weight[:2], [math.tanh(1.0)] * 2)  # 0.05 MB / (1 MB/s * 0.05 s)
    assert np.isnan(influence[2:]).all() and np.isnan(weight[2:]).all()  # bootstrap rows and stage b


def test_targets_and_coordinated_advantages_by_hand():
    out = _connector(uncertainty=False, enhancement=False)._signals(ValueIsX(), _toy_batch(), CHUNKS)
    # discounted returns (lambda = 1): a [1 + 0.5, 1], b [2 + 0.5 * 4, 4]
    np.testing.assert_allclose(out[Postprocessing.VALUE_TARGETS][[0, 1, 3, 4]], [1.5, 1.0, 4.0, 4.0])
    # a: A_coord = 0.7 A_local + 0.3 tanh(1) A_inf = [0.7*0.5 + 0, 0.7*(-1) + 0.3 tanh(1) 3.5] > 0 at r1
    coordinated_a = np.array([0.35, -0.7 + 0.3 * math.tanh(1.0) * 3.5])
    expected_a = (coordinated_a - coordinated_a.mean()) / coordinated_a.std()
    np.testing.assert_allclose(out[Postprocessing.ADVANTAGES][:2], expected_a, rtol=1e-5)
    np.testing.assert_allclose(out[Postprocessing.ADVANTAGES][3:5], [-1.0, 1.0], rtol=1e-5)  # b: local [1, 3]
    assert out[SampleColumn.TRAINABLE].tolist() == [True, True, False, True, True, False]
    assert out[SampleColumn.AGENT].tolist() == [0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(out[SampleColumn.WEIGHT], 1.0)


def test_without_caf_the_advantage_is_local_gae():
    out = _connector(coordinated_advantage=False, uncertainty=False)._signals(
        ValueIsX(), _toy_batch(), CHUNKS
    )
    # a: local [0.5, -1] -> normalised [1, -1]; the same order CAF reverses above
    np.testing.assert_allclose(out[Postprocessing.ADVANTAGES][:2], [1.0, -1.0], rtol=1e-5)
    w = out[SampleColumn.WEIGHT]
    assert w[0] == pytest.approx(math.exp(0.5 * 1.0 / 2.0))  # enhancement: exp(gamma |A| / tau), gamma 0.5


def test_gate_logit_uses_uncertainty_and_volatility():
    out = _connector()._signals(ValueIsX(), _toy_batch(), CHUNKS)
    logit = out[SampleColumn.GATE_LOGIT]
    assert logit.shape == (6,) and np.isfinite(logit).all()
    assert (out[SampleColumn.UNCERTAINTY] >= 0.08).all()  # >= eta_min at iteration 0


def test_successor_rows_skip_successors_cut_off_by_a_chunk_boundary():
    # chunk m: a plays r0, r1; b only r0 (the chunk ends before b's r1)
    chunks = [Chunk("a", "m", 0, 3), Chunk("b", "m", 0, 2), Chunk("a", "n", 2, 2), Chunk("b", "n", 1, 3)]
    rows = _Rows(chunks, {"a": 0, "b": 1})
    successor = rows.successor_rows(np.where(rows.agent == 0, 1, -1))
    # a r0 -> b r0 (row 3); a r1 -> none; chunk n: a r2 (row 5) -> b r2 (row 8)
    assert successor.tolist() == [3, -1, -1, -1, -1, 8, -1, -1, -1, -1]
