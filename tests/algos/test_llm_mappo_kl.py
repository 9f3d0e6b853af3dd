"""LLM-MAPPO's KL term (exact, against a direct computation), its decay, its settings section and the
builders of ``mappo`` and ``llm-mappo`` on metaverse-dag."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from edgeplace.algos.llm_mappo.config import LlmMappoConfig
from edgeplace.algos.llm_mappo.prior_kl import placement_prior_kl
from edgeplace.algos.llm_mappo.settings import LlmMappoSettings
from edgeplace.algos.registry import build_algorithm_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.models.item_scoring_head import MASKED_LOGIT


def direct_kl(logits: np.ndarray, allowed: np.ndarray, prior: np.ndarray) -> float:
    """sum over slots with a prior of sum over allowed o of p (log p - log q), q renormalised."""
    total = 0.0
    for s in range(logits.shape[0]):
        q = np.where(allowed[s], prior[s], 0.0)
        if q.sum() == 0:
            continue
        q = q / q.sum()
        z = np.exp(logits[s][allowed[s]] - logits[s][allowed[s]].max())
        p = z / z.sum()
        total += float((p * (np.log(p) - np.log(q[allowed[s]]))).sum())
    return total


def test_the_kl_is_the_exact_categorical_kl_over_unmasked_options():
    rng = np.random.default_rng(0)
    b, s, o = 4, 5, 6
    allowed = rng.random((b, s, o)) < 0.7
    allowed[..., 0] = True
    raw = rng.normal(size=(b, s, o))
    prior = rng.random((b, s, o)) * allowed + 0.01 * allowed
    prior[1, 2] = 0.0  # a slot without a prior adds nothing
    prior /= np.maximum(prior.sum(-1, keepdims=True), 1e-12)
    logits = torch.tensor(np.where(allowed, raw, MASKED_LOGIT), dtype=torch.float32)
    kl = placement_prior_kl(logits, torch.tensor(prior, dtype=torch.float32))
    assert kl.shape == (b,)
    expected = [direct_kl(raw[i], allowed[i], prior[i]) for i in range(b)]
    np.testing.assert_allclose(kl.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert (kl >= 0).all()


def test_the_kl_is_zero_at_the_prior_and_without_a_planner():
    prior = torch.tensor([[[0.7, 0.2, 0.1, 0.0]]])
    logits = torch.where(prior > 0, prior.clamp(min=1e-12).log(), torch.tensor(MASKED_LOGIT))
    assert placement_prior_kl(logits, prior).abs().item() < 1e-6
    no_planner = placement_prior_kl(torch.randn(3, 2, 4), torch.zeros(3, 2, 4))
    assert torch.equal(no_planner, torch.zeros(3))


def test_the_kl_weight_decays_with_training_episodes():
    settings = LlmMappoSettings()
    assert settings.kl_weight(0) == pytest.approx(0.1)
    assert settings.kl_weight(150) == pytest.approx(0.1 / math.e)
    assert settings.kl_weight(300) < settings.kl_weight(150)
    assert LlmMappoSettings(prior_kl=False).kl_weight(0) == 0.0


def test_the_settings_section_is_validated_when_set():
    with pytest.raises(ValueError, match="unknown keys"):
        LlmMappoConfig().llm_mappo(kl_tau=3)
    with pytest.raises(ValueError, match="kl_tau_episodes must be > 0"):
        LlmMappoConfig().llm_mappo(kl_tau_episodes=0)
    assert LlmMappoConfig().llm_mappo(kl_coeff=0.5).llm_mappo_settings == {"kl_coeff": 0.5}


def run(algo: str, **changes) -> TrainConfig:
    values = {"scenario": "metaverse-dag", "algo": algo, "env_config": {"horizon": 10}, "timesteps": 800}
    return TrainConfig(**{**values, **changes})


def test_mappo_runs_without_the_planner_and_its_mechanisms():
    config = build_algorithm_config(run("mappo"))
    assert config.env_config["planner"] == "none"
    assert config.llm_mappo_settings["prior_kl"] is False
    model = config.rl_module_spec.rl_module_specs["shared"].model_config
    assert model["prior_logits"] is False and model["plan_input"] is False and model["use_gru"] is True
    with pytest.raises(ValueError, match="prior_kl"):
        build_algorithm_config(run("mappo", algo_options={"prior_kl": True}))


def test_llm_mappo_defaults_to_the_memory_planner_and_the_paper_schedule():
    config = build_algorithm_config(run("llm-mappo"))
    assert config.env_config["planner"] == "memory"
    assert config.llm_mappo_settings["episode_steps"] == 10
    assert config.entropy_coeff == [[0, 0.01], [200, 0.001]]  # 800 decisions / 4 agents
    assert config.lr == [[0, 3e-4], [200, 0.0]]
    assert config.vf_clip_param == 10.0 and config.grad_clip == 0.5 and not config.use_kl_loss
    named = build_algorithm_config(run("llm-mappo", env_config={"horizon": 10, "planner": "none"}))
    assert named.env_config["planner"] == "none"
