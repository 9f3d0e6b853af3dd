"""LlmMappoModule on metaverse-dag-shaped observations (small sizes): shapes with and without the GRU,
masked actions never sampled, the log-prior bias (0 without a planner, toward the prior with trust),
the GRU state carried step by step, every parameter trained, and GroupedCategorical against RLlib's
TorchMultiCategorical; the baseline switches (``encoder="sage"``, ``neighbour_input``,
``critic_input="local"``) in every combination, and defaults unchanged by them."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchMultiCategorical

from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.envs.metaverse_dag import MetaverseDagEnv
from edgeplace.envs.metaverse_dag.observation import MvObsKey, RegionCol, action_space, observation_space
from edgeplace.models.grouped_categorical import GroupedCategorical
from edgeplace.models.item_scoring_head import MASKED_LOGIT
from edgeplace.models.llm_mappo_config import DagObsKey, LlmMappoModelConfig
from edgeplace.models.llm_mappo_module import LlmMappoModule, llm_mappo_module_spec

SLOTS, OPTIONS, EDGES, LINKS, PATTERNS = 6, 5, 4, 3, 7
TINY = {
    "node_width": 8,
    "slot_width": 8,
    "plan_width": 4,
    "gru_size": 8,
    "actor_hidden": [16, 8],
    "pointer_width": 8,
    "route_width": 8,
    "critic_hidden": [8],
    "max_seq_len": 4,
}


NEIGHBOURS = 2
BASELINE_SWITCHES = [
    {"encoder": encoder, "neighbour_input": neighbours, "critic_input": critic, "use_gru": gru}
    for encoder in ("fusion", "sage")
    for neighbours in (False, True)
    for critic in ("state", "local")
    for gru in (False, True)
]


def obs_space(*, neighbours: bool = True) -> gym.spaces.Dict:
    """The env's observation space, with ``neighbour_regions`` (2, 19) or without it (older envs)."""
    spaces = dict(observation_space(SLOTS, OPTIONS, EDGES, LINKS).spaces)
    spaces[DagObsKey.NEIGHBOUR_REGIONS] = gym.spaces.Box(-np.inf, np.inf, (NEIGHBOURS, 19), np.float32)
    if not neighbours:
        del spaces[DagObsKey.NEIGHBOUR_REGIONS]
    return gym.spaces.Dict(spaces)


def make_module(*, neighbours: bool = True, **model: object) -> LlmMappoModule:
    torch.manual_seed(0)
    spec = llm_mappo_module_spec({**TINY, **model})
    spec.observation_space = obs_space(neighbours=neighbours)
    spec.action_space = action_space(SLOTS, OPTIONS, EDGES)
    return spec.build()


def make_obs(rows: int, seed: int = 0, *, kappa: float = 0.0, prior: bool = False) -> dict:
    """A batch (rows, ...) of observations: real nodes first, random masks (each part allows >= 1)."""
    rng = np.random.default_rng(seed)
    real_nodes = rng.integers(2, OPTIONS + 1, rows)
    node = rng.normal(size=(rows, OPTIONS, 14)) * (np.arange(OPTIONS) < real_nodes[:, None])[..., None]
    place = rng.random((rows, SLOTS, OPTIONS)) < 0.6
    favourite = rng.integers(0, OPTIONS, (rows, SLOTS))  # allowed; the prior's mode when there is one
    place[np.arange(rows)[:, None], np.arange(SLOTS), favourite] = True
    route = rng.random((rows, EDGES, PATTERNS)) < 0.6
    route[..., 0] = True
    region = rng.normal(size=(rows, 19))
    region[:, RegionCol.KAPPA] = kappa
    state = np.zeros((rows, 16 * 19 + 6 + 16))
    state[:, :-16] = rng.normal(size=(rows, 16 * 19 + 6))
    state[np.arange(rows), -16 + rng.integers(0, 4, rows)] = 1.0
    pi = np.zeros((rows, SLOTS, OPTIONS))
    rng = np.random.default_rng(seed + 1000)  # the planner's draws leave the rest of the batch alike
    if prior:
        pi = np.where(place, 0.02, 0.0)
        pi[np.arange(rows)[:, None], np.arange(SLOTS), favourite] += 0.9
        pi /= pi.sum(-1, keepdims=True)
    obs = {
        MvObsKey.NODE_FEATS: node,
        MvObsKey.SLOT_FEATS: rng.normal(size=(rows, SLOTS, 12)),
        MvObsKey.EDGE_FEATS: rng.normal(size=(rows, EDGES, 5)),
        MvObsKey.REGION: region,
        MvObsKey.PLAN_Z: rng.normal(size=(rows, 64)) if prior else np.zeros((rows, 64)),
        MvObsKey.PLAN_PRIOR: pi,
        MvObsKey.STATE: state,
    }
    rng = np.random.default_rng(seed + 2000)  # the graph entries leave the draws above as they were
    links = rng.normal(size=(rows, LINKS, 6))
    links[..., 5] = rng.random((rows, LINKS)) < 0.8  # the up column; padding and down links are 0
    link_index = rng.integers(0, real_nodes[:, None, None], (rows, 2, LINKS))
    obs[MvObsKey.LINK_FEATS] = links
    obs[DagObsKey.NEIGHBOUR_REGIONS] = rng.normal(size=(rows, NEIGHBOURS, 19))
    tensors = {key: torch.as_tensor(value, dtype=torch.float32) for key, value in obs.items()}
    tensors[MvObsKey.LINK_INDEX] = torch.as_tensor(link_index)
    tensors[MvObsKey.EDGE_INDEX] = torch.as_tensor(rng.integers(0, SLOTS, (rows, 2, EDGES)))
    parts = [*place.transpose(1, 0, 2), *route.transpose(1, 0, 2)]
    tensors[MvObsKey.ACTION_MASK] = tuple(torch.as_tensor(part, dtype=torch.int8) for part in parts)
    return tensors


def with_time(obs: dict, steps: int = 1) -> dict:
    """(B * steps, ...) -> (B, steps, ...)."""

    def reshape(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(-1, steps, *t.shape[1:])

    return {k: tuple(map(reshape, v)) if isinstance(v, tuple) else reshape(v) for k, v in obs.items()}


def allowed(obs: dict) -> torch.Tensor:
    """Shapes: -> (..., S * O + E * 7) bool, in the logits' order."""
    return torch.cat([part > 0 for part in obs[MvObsKey.ACTION_MASK]], dim=-1)


def test_the_module_reads_the_envs_keys():
    assert {key.value for key in DagObsKey} <= {key.value for key in MvObsKey}


def test_shapes_without_and_with_the_gru():
    mlp = make_module(use_gru=False)
    obs = make_obs(5)
    out = mlp.forward_train({Columns.OBS: obs})
    assert out[Columns.ACTION_DIST_INPUTS].shape == (5, SLOTS * OPTIONS + EDGES * PATTERNS)
    assert mlp.compute_values({Columns.OBS: obs}).shape == (5,) and not mlp.is_stateful()
    gru = make_module()
    state = {"h": torch.zeros(2, TINY["gru_size"])}
    out = gru.forward_train({Columns.OBS: with_time(make_obs(6), 3), Columns.STATE_IN: state})
    assert out[Columns.ACTION_DIST_INPUTS].shape == (2, 3, SLOTS * OPTIONS + EDGES * PATTERNS)
    assert out[Columns.STATE_OUT]["h"].shape == (2, TINY["gru_size"]) and gru.is_stateful()
    assert gru.compute_values({Columns.OBS: with_time(make_obs(6), 3)}).shape == (2, 3)
    assert gru.model_config["max_seq_len"] == 4


def test_masked_actions_are_never_sampled_and_have_no_mass():
    module = make_module(use_gru=False)
    obs = make_obs(64, seed=1)
    logits = module.forward_exploration({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    dist = module.get_exploration_action_dist_cls().from_logits(logits)
    ok = allowed(obs)
    place_ok = ok[:, : SLOTS * OPTIONS].reshape(64, SLOTS, OPTIONS)
    route_ok = ok[:, SLOTS * OPTIONS :].reshape(64, EDGES, PATTERNS)
    for _ in range(20):
        actions = dist.sample()
        assert place_ok.gather(-1, actions[:, :SLOTS, None]).all()
        assert route_ok.gather(-1, actions[:, SLOTS:, None]).all()
    assert (dist.log_probs[0].exp()[~place_ok] == 0).all()


def test_without_a_planner_the_prior_adds_exactly_nothing():
    module = make_module(use_gru=False)
    plain = make_module(use_gru=False, prior_logits=False)
    obs = make_obs(8)  # planner none: prior rows of zeros, kappa 0
    logits = module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    assert torch.isfinite(logits).all()
    torch.testing.assert_close(
        logits, plain.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    )
    with_prior_no_trust = {**obs, MvObsKey.PLAN_PRIOR: make_obs(8, prior=True)[MvObsKey.PLAN_PRIOR]}
    assert (with_prior_no_trust[MvObsKey.PLAN_PRIOR].sum(-1) > 0).all()
    torch.testing.assert_close(
        module.forward_inference({Columns.OBS: with_prior_no_trust})[Columns.ACTION_DIST_INPUTS], logits
    )


def test_trust_moves_the_greedy_placement_to_the_prior():
    module = make_module(use_gru=False)
    s_o = SLOTS * OPTIONS

    def agreement(kappa: float) -> float:
        obs = make_obs(32, seed=2, prior=True, kappa=kappa)
        logits = module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS][:, :s_o]
        greedy = logits.reshape(32, SLOTS, OPTIONS).argmax(-1)
        return (greedy == obs[MvObsKey.PLAN_PRIOR].argmax(-1)).float().mean().item()

    assert agreement(0.9) == 1.0 > agreement(0.0)


def test_beta_starts_at_one():
    module = make_module()
    torch.testing.assert_close(module.beta(torch.eye(16)), torch.ones(16))


def test_the_gru_carries_its_state_step_by_step():
    module = make_module()
    obs = with_time(make_obs(6, seed=3), 3)  # B=2, T=3
    h0 = {"h": torch.randn(2, TINY["gru_size"])}
    whole = module.forward_inference({Columns.OBS: obs, Columns.STATE_IN: h0})
    state, steps = h0, []
    for t in range(3):
        step_obs = {
            k: tuple(p[:, t : t + 1] for p in v) if isinstance(v, tuple) else v[:, t : t + 1]
            for k, v in obs.items()
        }
        out = module.forward_inference({Columns.OBS: step_obs, Columns.STATE_IN: state})
        steps.append(out[Columns.ACTION_DIST_INPUTS])
        state = out[Columns.STATE_OUT]
    torch.testing.assert_close(torch.cat(steps, dim=1), whole[Columns.ACTION_DIST_INPUTS])
    torch.testing.assert_close(state["h"], whole[Columns.STATE_OUT]["h"])
    reset = module.forward_inference({Columns.OBS: obs, Columns.STATE_IN: {"h": torch.zeros(2, 8)}})
    assert not torch.allclose(reset[Columns.ACTION_DIST_INPUTS], whole[Columns.ACTION_DIST_INPUTS])


def test_every_parameter_gets_a_gradient():
    module = make_module()
    obs = with_time(make_obs(6, seed=4, prior=True, kappa=0.5), 3)
    out = module.forward_train({Columns.OBS: obs, Columns.STATE_IN: {"h": torch.zeros(2, 8)}})
    dist = module.get_train_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
    loss = dist.entropy().mean() + module.compute_values({Columns.OBS: obs}).pow(2).mean()
    loss.backward()
    missing = [name for name, p in module.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing


def test_bad_model_config_values_fail_when_configured():
    with pytest.raises(ValueError, match="unknown model_config keys"):
        llm_mappo_module_spec({"gru_width": 8})
    with pytest.raises(ValueError, match="node_width must be even"):
        LlmMappoModelConfig(node_width=7)


def test_grouped_categorical_equals_rllib_multi_categorical():
    torch.manual_seed(0)
    groups, nvec = ((3, 4), (2, 7)), [4] * 3 + [7] * 2
    logits = torch.randn(5, 26)
    logits[0, 1] = -1e9
    mine = GroupedCategorical.from_logits(logits, groups=groups)
    other = GroupedCategorical.from_logits(torch.randn(5, 26), groups=groups)
    ref = TorchMultiCategorical.from_logits(logits, input_lens=nvec)
    ref_other = TorchMultiCategorical.from_logits(other.logits, input_lens=nvec)
    actions = mine.sample()
    assert actions.shape == (5, 5)
    torch.testing.assert_close(mine.logp(actions), ref.logp(actions))
    torch.testing.assert_close(mine.entropy(), ref.entropy())
    torch.testing.assert_close(mine.kl(other), ref.kl(ref_other))
    torch.testing.assert_close(mine.to_deterministic().sample(), ref.to_deterministic().sample())


def outputs(module: LlmMappoModule, obs: dict, *, steps: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (B, S*O + E*P) and values (B,) of (B, ...) observations, as a T = ``steps`` batch with
    the GRU (zero belief) and as they are without it."""
    if module.is_stateful():
        obs = with_time(obs, steps)
        state = {"h": torch.zeros(obs[MvObsKey.REGION].shape[0], TINY["gru_size"])}
        batch = {Columns.OBS: obs, Columns.STATE_IN: state}
    else:
        batch = {Columns.OBS: obs}
    with torch.no_grad():
        logits = module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS]
        values = module.compute_values({Columns.OBS: obs})
    return logits.reshape(-1, logits.shape[-1]), values.reshape(-1)


#: Seeded outputs of the default modules before the baseline switches existed (rows 1 and 5 of
#: ``make_obs(6, seed=7, prior=True, kappa=0.4)``; the GRU run as B=2, T=3).
BEFORE = {
    False: (
        [-0.32005, MASKED_LOGIT, -1.911137, -1.931991, MASKED_LOGIT, -1.767241, MASKED_LOGIT, -0.291534],
        [0.210789, MASKED_LOGIT, -0.035374, MASKED_LOGIT, MASKED_LOGIT, -0.223193, -0.414095],
        [0.665334, -0.024178, 0.247378, 0.62743, 0.208433, 0.415072],
    ),
    True: (
        [-0.115414, MASKED_LOGIT, -1.681147, -1.693231, MASKED_LOGIT, -1.611173, MASKED_LOGIT, -0.113249],
        [0.172674, MASKED_LOGIT, -0.014571, MASKED_LOGIT, MASKED_LOGIT, 0.087474, -0.065223],
        [0.27122, 0.639837, -0.344871, 0.362655, 0.243032, 0.601269],
    ),
}


@pytest.mark.parametrize("use_gru", [False, True])
@pytest.mark.parametrize("neighbours", [False, True])
def test_defaults_give_the_outputs_of_before(use_gru, neighbours):
    module = make_module(use_gru=use_gru, neighbours=neighbours)
    obs = make_obs(6, seed=7, prior=True, kappa=0.4)
    if not neighbours:  # an observation without the key works as before
        del obs[DagObsKey.NEIGHBOUR_REGIONS]
    logits, values = outputs(module, obs, steps=3)
    first, last, want_values = BEFORE[use_gru]
    torch.testing.assert_close(logits[1, :8], torch.tensor(first), atol=2e-6, rtol=1e-5)
    torch.testing.assert_close(logits[5, -7:], torch.tensor(last), atol=2e-6, rtol=1e-5)
    torch.testing.assert_close(values, torch.tensor(want_values), atol=2e-6, rtol=1e-5)


@pytest.mark.parametrize("switches", BASELINE_SWITCHES, ids=lambda s: "-".join(map(str, s.values())))
def test_every_switch_combination_has_the_shapes_and_respects_the_masks(switches):
    module = make_module(**switches)
    obs = make_obs(6, seed=5, prior=True, kappa=0.5)
    logits, values = outputs(module, obs, steps=3)
    assert logits.shape == (6, SLOTS * OPTIONS + EDGES * PATTERNS) and values.shape == (6,)
    ok = allowed(obs)
    assert (logits[~ok] == MASKED_LOGIT).all() and (logits[ok] > MASKED_LOGIT / 2).all()
    assert torch.isfinite(values).all() and module.is_stateful() == switches["use_gru"]


@pytest.mark.parametrize("switches", BASELINE_SWITCHES[1::2], ids=lambda s: "-".join(map(str, s.values())))
def test_every_parameter_gets_a_gradient_under_the_switches(switches):
    module = make_module(**switches)
    obs = with_time(make_obs(6, seed=4, prior=True, kappa=0.5), 3)
    out = module.forward_train({Columns.OBS: obs, Columns.STATE_IN: {"h": torch.zeros(2, 8)}})
    dist = module.get_train_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
    loss = dist.entropy().mean() + module.compute_values({Columns.OBS: obs}).pow(2).mean()
    loss.backward()
    missing = [name for name, p in module.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing


def test_the_local_critic_ignores_state_and_reads_the_neighbours():
    module = make_module(use_gru=False, critic_input="local")
    obs = make_obs(8, seed=6)
    values = outputs(module, obs)[1]
    other_state = {**obs, MvObsKey.STATE: obs[MvObsKey.STATE] + torch.randn_like(obs[MvObsKey.STATE])}
    torch.testing.assert_close(outputs(module, other_state)[1], values)
    moved = obs[DagObsKey.NEIGHBOUR_REGIONS].clone()
    moved[3] += 1.0
    changed = outputs(module, {**obs, DagObsKey.NEIGHBOUR_REGIONS: moved})[1] != values
    assert changed[3] and changed.sum() == 1
    central = make_module(use_gru=False)
    assert not torch.equal(outputs(central, other_state)[1], outputs(central, obs)[1])


def test_neighbour_input_is_read_only_when_switched_on():
    obs = make_obs(8, seed=8)
    moved = {**obs, DagObsKey.NEIGHBOUR_REGIONS: obs[DagObsKey.NEIGHBOUR_REGIONS] + 1.0}
    plain = make_module(use_gru=False)
    torch.testing.assert_close(outputs(plain, moved)[0], outputs(plain, obs)[0])
    fused = make_module(use_gru=False, neighbour_input=True)
    assert not torch.equal(outputs(fused, moved)[0], outputs(fused, obs)[0])
    torch.testing.assert_close(outputs(fused, moved)[1], outputs(fused, obs)[1])  # central critic


@pytest.mark.parametrize("switch", [{"neighbour_input": True}, {"critic_input": "local"}])
def test_a_switch_reading_the_neighbours_needs_them_in_the_space(switch):
    with pytest.raises(ValueError, match="neighbour_regions"):
        make_module(neighbours=False, **switch)


def test_sage_pointer_scores_graph_embeddings():
    """With h cut from the pointer, f(s, n) depends on option n's embedding only: the SAGE module's
    moves with a linked option's features (the fusion module's does not), never with padding links."""
    obs = make_obs(1, seed=9)
    node = torch.zeros(1, OPTIONS, 14)
    node[0, :4] = torch.randn(4, 14)  # options 0..3 real, 4 padding
    links = torch.zeros(1, LINKS, 6)
    links[0, 0, 5] = 1.0  # one live link 0 - 1; links 1, 2 are padding
    link_index = torch.tensor([[[0, 2, 3], [1, 0, 0]]])
    obs = {**obs, MvObsKey.NODE_FEATS: node, MvObsKey.LINK_FEATS: links, MvObsKey.LINK_INDEX: link_index}
    moved_node = node.clone()
    moved_node[0, 0] += 1.0
    moved = {**obs, MvObsKey.NODE_FEATS: moved_node}
    rewired = {**obs, MvObsKey.LINK_INDEX: torch.tensor([[[0, 1, 3], [1, 3, 2]]])}

    def place(module: LlmMappoModule, batch: dict) -> torch.Tensor:
        """Unmasked place logits (S, O) without h."""
        with torch.no_grad():
            module.pointer.a.weight.zero_()
            module.pointer.a.bias.zero_()
            every = {
                **batch,
                MvObsKey.ACTION_MASK: tuple(torch.ones_like(p) for p in batch[MvObsKey.ACTION_MASK]),
            }
            logits = module.forward_inference({Columns.OBS: every})[Columns.ACTION_DIST_INPUTS]
        return logits[0, : SLOTS * OPTIONS].reshape(SLOTS, OPTIONS)

    sage = make_module(use_gru=False, encoder="sage", prior_logits=False)
    delta = (place(sage, moved) - place(sage, obs)).abs().amax(0)  # (O,)
    assert delta[0] > 0 and delta[1] > 0 and delta[2] == 0 and delta[3] == 0
    torch.testing.assert_close(place(sage, rewired), place(sage, obs))  # padding links point anywhere
    fusion = make_module(use_gru=False, prior_logits=False)
    delta = (place(fusion, moved) - place(fusion, obs)).abs().amax(0)
    assert delta[0] > 0 and (delta[1:] == 0).all()


def test_bad_switch_values_fail_when_configured():
    with pytest.raises(ValueError, match="encoder must be one of"):
        llm_mappo_module_spec({"encoder": "gat"})
    with pytest.raises(ValueError, match="critic_input must be one of"):
        LlmMappoModelConfig(critic_input="global")
    config = LlmMappoModelConfig.from_model_config({"encoder": "sage", "critic_input": "local"})
    assert config.to_model_config()["encoder"] == "sage" and type(config.to_model_config()["encoder"]) is str
    assert LlmMappoModelConfig.from_model_config(config.to_model_config()) == config


def test_the_baselines_act_on_the_envs_observations():
    """GNN-DRL (sage, no GRU) and mu-DDRL (local critic, neighbours in x_t, GRU) on real observations:
    allowed actions, values of every agent."""
    env = MetaverseDagEnv({"horizon": 2})
    observations, _ = env.reset(seed=1)
    agents = list(observations)
    gnn = {"encoder": "sage", "use_gru": False}
    mu = {"critic_input": "local", "neighbour_input": True, "prior_logits": False}
    for name, switches in (("gnn-drl", gnn), ("mu-ddrl", mu)):
        torch.manual_seed(0)
        spec = llm_mappo_module_spec({**TINY, **switches})
        spec.observation_space, spec.action_space = env.observation_spaces["ec_0"], env.action_spaces["ec_0"]
        module = spec.build()
        policy = ModulePolicy(name, {"shared": module}, dict.fromkeys(agents, "shared"))
        actions = policy.act_batch_in_streams(
            ["probe"] * len(agents), agents, [observations[a] for a in agents]
        )
        for agent, action in zip(agents, actions, strict=True):
            mask = observations[agent][MvObsKey.ACTION_MASK]
            assert all(part[value] > 0 for part, value in zip(mask, action, strict=True)), (name, agent)
        batch = {
            key: torch.as_tensor(np.stack([np.asarray(observations[a][key]) for a in agents]))
            for key in (MvObsKey.STATE, MvObsKey.REGION, DagObsKey.NEIGHBOUR_REGIONS)
        }
        values = module.compute_values({Columns.OBS: batch})
        assert values.shape == (len(agents),) and torch.isfinite(values).all()
