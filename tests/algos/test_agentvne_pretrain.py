"""AgentVNE pre-training (papers/agentvne.md, section f): NodeRank targets by hand, the teacher dataset,
the masked-MSE loop with best/resume checkpoints, and the GAL-VNE baseline (section g)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos import baselines
from edgeplace.algos.agentvne.dataset import VNEDataset, collect_dataset
from edgeplace.algos.agentvne.gal_vne import (
    GAL_VNE_CHECKPOINT_ENV,
    GALVNEPolicy,
    NodeScoreTask,
    gal_vne_factory,
    pretrain_gal_vne,
)
from edgeplace.algos.agentvne.labels import LabelMode, node_targets, noderank_targets
from edgeplace.algos.agentvne.pretrain import (
    BEST_FILE,
    DATASET_FILE,
    PretrainConfig,
    evaluate_loss,
    prepare_dataset,
    pretrain,
)
from edgeplace.algos.agentvne.similarity_task import SimilarityTask, load_similarity_network
from edgeplace.envs.agent_vne import VNEKPI, AgentVNEEnv, VNEObsKey, static_network
from edgeplace.envs.agent_vne.static import StaticNetwork
from edgeplace.evaluation.runner import run_episodes
from edgeplace.topology import Substrate

TINY = {"arrivals_per_episode": 10}


def star() -> StaticNetwork:
    """Centre 0 linked to leaves 1 and 2 (10 Mbit/s each); capacity 2 everywhere."""
    substrate = Substrate(
        name="star3",
        resource_names=("compute", "memory", "storage"),
        capacity=np.full((3, 3), 2.0),
        edge_index=np.array([[0, 0], [1, 2]]),
        bandwidth_mb_s=np.full(2, 10.0 / 8.0),
        delay_s=np.full(2, 0.001),
        affinity={"tee": np.zeros(3, dtype=bool), "camera": np.zeros(3, dtype=bool)},
    )
    return StaticNetwork.build(substrate)


def star_obs(static: StaticNetwork, bias=(0.0, 0.0, 0.0)) -> dict[str, np.ndarray]:
    """cpu free (2, 1, 1), links full; agent 0 may go anywhere, agent 1 only on the leaves, agent 2 is an
    anchor on node 0, agent 3 is padding."""
    return {
        VNEObsKey.NODE_RESIDUAL: np.array([[2.0, 2, 2], [1, 2, 2], [1, 2, 2]]),
        VNEObsKey.LINK_RESIDUAL_BW: np.array([10.0, 10.0]),
        VNEObsKey.NODE_BIAS: np.asarray(bias, dtype=np.float32),
        VNEObsKey.SN_MASK: np.ones(3, dtype=np.float32),
        VNEObsKey.VN_MASK: np.array([1, 1, 1, 0], dtype=np.float32),
        VNEObsKey.ANCHOR_TARGET: np.array([-1, -1, 0, -1]),
        VNEObsKey.HOST_MASK: np.array([[1, 1, 1], [0, 1, 1], [1, 0, 0], [0, 0, 0]], dtype=np.float32),
    }


def star_noderank() -> np.ndarray:
    """By hand: H = cpu * incident bw = (40, 10, 10); NR0 = (24, 6, 6)/36; p_01 = p_02 = 1/2,
    p_10 = p_20 = 1. Step 1: (24 + 0.2 * 12, 6 + 0.2 * 12, same) = (26.4, 8.4, 8.4) ~ (22, 7, 7)/36.
    Step 2: (22 + 0.2 * 14, 7 + 0.2 * 11, same) = (24.8, 9.2, 9.2). Eq.24 cubes and L1-normalises."""
    cubed = np.array([24.8, 9.2, 9.2]) ** 3
    return cubed / cubed.sum()


def test_realized_targets_on_a_star_by_hand():
    static = star()
    targets, mask = noderank_targets(static, star_obs(static), LabelMode.REALIZED)
    nr = star_noderank()
    np.testing.assert_allclose(targets[0], nr / np.linalg.norm(nr), rtol=1e-6)
    np.testing.assert_allclose(targets[1], [0.0, 2**-0.5, 2**-0.5], rtol=1e-6)  # leaves only, equal
    assert (targets[2:] == 0).all()  # anchor and padding rows
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0]])
    tiled, tiled_mask = noderank_targets(static, star_obs(static), LabelMode.TILED)
    np.testing.assert_allclose(tiled[1], nr / np.linalg.norm(nr), rtol=1e-6)
    np.testing.assert_array_equal(tiled_mask, mask)
    np.testing.assert_allclose(node_targets(static, star_obs(static)), nr / np.linalg.norm(nr), rtol=1e-6)


def test_bias_raises_the_target_of_its_node_but_not_gal_vnes():
    static = star()
    plain, _ = noderank_targets(static, star_obs(static))
    biased, _ = noderank_targets(static, star_obs(static, bias=(0.0, 0.5, 0.0)))
    assert biased[1, 1] > plain[1, 1] > biased[1, 2]
    # b = 0.5 with ref_cpu 2: H(1) = (1 + 1) * 10 = 20 > H(2) = 10
    np.testing.assert_array_equal(
        node_targets(static, star_obs(static, bias=(0, 0.5, 0))), node_targets(static, star_obs(static))
    )


@pytest.fixture(scope="module")
def tiny_dataset() -> VNEDataset:
    return collect_dataset(TINY, episodes=4, arrivals=8, seed=3)


def test_dataset_is_seeded_sized_and_round_trips(tiny_dataset, tmp_path):
    assert len(tiny_dataset) == 32
    again = collect_dataset(TINY, episodes=4, arrivals=8, seed=3)
    np.testing.assert_array_equal(again.targets, tiny_dataset.targets)
    assert tiny_dataset.targets.shape == (32, 8, 20) and tiny_dataset.node_targets.shape == (32, 20)
    norms = np.linalg.norm(tiny_dataset.targets, axis=2)
    rows = tiny_dataset.loss_mask.max(axis=2) > 0
    np.testing.assert_allclose(norms[rows], 1.0, rtol=1e-5)
    assert (norms[~rows] == 0).all()
    train, val = tiny_dataset.split(0.8, seed=0)
    assert (len(train), len(val)) == (26, 6)
    tiny_dataset.save(tmp_path / "d.npz")
    loaded = VNEDataset.load(tmp_path / "d.npz")
    np.testing.assert_array_equal(
        loaded.observations[VNEObsKey.HOST_MASK], tiny_dataset.observations[VNEObsKey.HOST_MASK]
    )
    assert loaded.env_config == tiny_dataset.env_config and loaded.label_mode == "realized"
    assert loaded.rates == tiny_dataset.rates == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def test_cached_dataset_is_reused_only_for_the_same_rates(tmp_path):
    first = prepare_dataset(TINY, tmp_path, episodes=2, arrivals=6, rates=(0.2,), seed=1)
    assert first.rates == (0.2,)
    assert len(prepare_dataset(TINY, tmp_path, episodes=9, arrivals=9, rates=(0.2,), seed=1)) == len(first)
    heavier = prepare_dataset(TINY, tmp_path, episodes=2, arrivals=6, rates=(3.0,), seed=1)
    assert heavier.rates == (3.0,) and VNEDataset.load(tmp_path / DATASET_FILE).rates == (3.0,)
    # Same requests at a higher rate: more of them find the substrate busy, so the states differ.
    assert not np.array_equal(
        heavier.observations[VNEObsKey.NODE_FEATURES], first.observations[VNEObsKey.NODE_FEATURES]
    )


def test_pretraining_lowers_the_loss_and_keeps_and_resumes_the_best(tiny_dataset, tmp_path):
    train, val = tiny_dataset.split(0.8, seed=0)
    task = SimilarityTask(static_network(TINY))
    result = pretrain(task, train, val, tmp_path, PretrainConfig(epochs=5, batch_size=8))
    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < losses[0]
    best = min(result.history, key=lambda row: row["val_loss"])
    assert (result.best_epoch, result.best_val_loss) == (best["epoch"], best["val_loss"])
    restored = load_similarity_network(tmp_path)
    assert evaluate_loss(task, restored, val) == pytest.approx(result.best_val_loss, rel=1e-6)
    longer = pretrain(task, train, val, tmp_path, PretrainConfig(epochs=6, batch_size=8))
    assert len(longer.history) == 6 and longer.history[:5] == result.history  # resumed, not restarted
    with pytest.raises(ValueError, match="different pre-training run"):
        pretrain(task, train, val, tmp_path, PretrainConfig(epochs=6, batch_size=4))


def test_gal_vne_trains_plays_valid_episodes_and_needs_a_checkpoint(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.delenv(GAL_VNE_CHECKPOINT_ENV, raising=False)
    with pytest.raises(FileNotFoundError, match=GAL_VNE_CHECKPOINT_ENV):
        gal_vne_factory(0, TINY)
    with pytest.raises(FileNotFoundError, match="no pre-training checkpoint"):
        gal_vne_factory(0, TINY, checkpoint=tmp_path)
    result = pretrain_gal_vne(TINY, tmp_path, PretrainConfig(epochs=2), dataset=tiny_dataset)
    assert result.best_path == tmp_path / BEST_FILE
    assert NodeScoreTask.kind == "gal-vne"
    monkeypatch.setenv(GAL_VNE_CHECKPOINT_ENV, str(tmp_path))
    policy = gal_vne_factory(0, TINY)
    assert isinstance(policy, GALVNEPolicy)
    kpis = run_episodes(lambda: AgentVNEEnv(TINY), policy, seed=0, episodes=1, num_envs=1)
    assert 0.0 < kpis[0][VNEKPI.ACCEPTANCE_RATIO] <= 1.0
    with pytest.raises(ValueError, match="agentvne-similarity"):
        load_similarity_network(tmp_path)


def test_the_learned_policies_are_baselines_that_name_their_missing_checkpoint(monkeypatch):
    assert {"gal-vne", "agentvne"} <= set(baselines.baseline_names("agent-vne"))
    monkeypatch.delenv("EDGEPLACE_AGENTVNE_CHECKPOINT", raising=False)
    with pytest.raises(FileNotFoundError, match="EDGEPLACE_AGENTVNE_CHECKPOINT"):
        baselines.make_baseline("agent-vne", "agentvne", env_config=TINY)
