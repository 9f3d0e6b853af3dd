"""LLM-MAPPO's edge agent (papers/llm-mappo.md, e) as a PPO RLModule for the metaverse-dag observations:
fusion (Eq. 23) -> GRU belief (Eq. 24) -> actor trunk -> pointer placement logits (+ the trust-weighted
log-prior of Eq. 32) and route logits, masked; a centralised critic on ``state``.

Every mechanism is a ``model_config`` switch (:class:`LlmMappoModelConfig`): ``use_gru`` (False: an MLP
agent, as RSPPO's), ``prior_logits`` (Eq. 32) and ``plan_input`` (W_k z_plan in x_t); the widths default
to the paper's (GRU 128, trunk [128, 256, 128], pointer 64, critic [256, 512, 256]). The baselines of
spec f switch the rest: ``encoder="sage"`` (GNN-DRL: GraphSAGE over the option and slot graphs, whose
embeddings the pointer head scores), ``neighbour_input`` (the 2 nearest ECs' previous ``region`` vectors
in x_t) and ``critic_input="local"`` (mu-DDRL's local critic on [region ‖ neighbour_regions]).
``neighbour_regions`` is read only when one of the last two is on.

With ``use_gru`` the module is stateful (state ``{"h": (gru_size,)}``) and RLlib feeds it observations
with a time axis: (B, T, ...), T = 1 on the EnvRunners and ``max_seq_len`` in the learner. Without it,
(B, ...). Either way every step is scored in one vectorised pass (no loop over slots or options).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from torch import Tensor, nn
from torch.nn import functional as F

from edgeplace.models.dag_fusion import DagFusionEncoder, tanh_mlp
from edgeplace.models.dag_sage_encoder import DagSageEncoder, option_adjacency, slot_adjacency
from edgeplace.models.grouped_categorical import GroupedCategorical
from edgeplace.models.item_scoring_head import MASKED_LOGIT
from edgeplace.models.llm_mappo_config import CriticInput, DagEncoder, DagObsKey, LlmMappoModelConfig
from edgeplace.models.pointer_head import PointerHead
from edgeplace.models.route_head import RouteHead

#: Floor of pi_LLM inside the log (the env's prior gives every unmasked option >= 2 % / O).
PRIOR_FLOOR = 1e-8
#: The state key of the GRU belief.
BELIEF = "h"


def log_prior_bias(prior: Tensor, gain: Tensor) -> Tensor:
    """``gain * log pi_LLM`` per (slot, option); exactly 0 on slots without a prior (rows of zeros, as
    with planner ``none``) and wherever ``gain`` is 0.

    Shapes: prior (B, S, O), gain (B,) -> (B, S, O).
    """
    has_prior = prior.sum(dim=-1, keepdim=True) > 0  # (B, S, 1)
    log_prior = torch.where(has_prior, prior.clamp(min=PRIOR_FLOOR).log(), torch.zeros_like(prior))
    return gain[:, None, None] * log_prior


def flat_rows(entry: Tensor, trailing: int) -> Tensor:
    """Leading dims merged into rows, as float. Shapes: (L..., *f) with ``trailing`` dims f -> (N, *f)."""
    return entry.reshape(-1, *entry.shape[entry.dim() - trailing :]).float()


class LlmMappoModule(TorchRLModule, ValueFunctionAPI):
    """See the module docstring; ``model_config``: :class:`LlmMappoModelConfig`.

    beta_k = softplus(beta_raw[k]) (initialised to 1) and W_k are per agent slot, picked by the agent
    one-hot at the tail of ``state``: a shared module keeps one beta and W per EC, a per-agent module
    uses its own row only. ``fusion`` is the x_t encoder: :class:`DagFusionEncoder`, or
    :class:`DagSageEncoder` with ``encoder="sage"``.

    Shapes (leading dims L = (B,) or (B, T)): observation entries (L..., ...) -> action-distribution
    inputs (L..., S * O + E * P) (masked values at MASKED_LOGIT; place parts, then route parts, as the
    MultiDiscrete action), values (L...).
    """

    @override(TorchRLModule)
    def setup(self) -> None:
        cfg = self.cfg = LlmMappoModelConfig.from_model_config(self.model_config)
        space: gym.spaces.Dict = self.observation_space
        self.num_options, node_dim = space[DagObsKey.NODE_FEATS].shape
        self.num_slots, slot_dim = space[DagObsKey.SLOT_FEATS].shape
        self.num_edges, edge_dim = space[DagObsKey.EDGE_FEATS].shape
        self.num_patterns = self._check_action_space()
        region_dim = space[DagObsKey.REGION].shape[0]
        neighbour_dim = self._neighbour_dim()
        self.fusion = self._make_encoder(node_dim, slot_dim, region_dim)
        x_dim = self.fusion.out_dim + (neighbour_dim if cfg.neighbour_input else 0)
        self.gru = nn.GRU(x_dim, cfg.gru_size, batch_first=True) if cfg.use_gru else None
        self.trunk = tanh_mlp(cfg.gru_size if cfg.use_gru else x_dim, cfg.actor_hidden)
        hidden = cfg.actor_hidden[-1]
        self.pointer = PointerHead(
            hidden, self.fusion.slot_emb_dim, self.fusion.node_emb_dim, cfg.pointer_width
        )
        self.route = RouteHead(hidden, edge_dim, self.num_patterns, cfg.route_width)
        self.beta_raw = (
            nn.Parameter(torch.full((cfg.agent_slots,), math.log(math.e - 1.0))) if cfg.prior_logits else None
        )
        local = cfg.critic_input == CriticInput.LOCAL
        critic_dim = region_dim + neighbour_dim if local else space[DagObsKey.STATE].shape[0]
        self.critic = nn.Sequential(
            tanh_mlp(critic_dim, cfg.critic_hidden), nn.Linear(cfg.critic_hidden[-1], 1)
        )
        groups = ((self.num_slots, self.num_options), (self.num_edges, self.num_patterns))
        self.action_dist_cls = GroupedCategorical.get_partial_dist_cls(groups=groups)

    def _make_encoder(
        self, node_dim: int, slot_dim: int, region_dim: int
    ) -> DagFusionEncoder | DagSageEncoder:
        """The x_t encoder the config names."""
        cfg = self.cfg
        widths = {
            "node_width": cfg.node_width,
            "slot_width": cfg.slot_width,
            "plan_width": cfg.plan_width if cfg.plan_input else 0,
            "agent_slots": cfg.agent_slots,
        }
        plan_dim = self.observation_space[DagObsKey.PLAN_Z].shape[0]
        if cfg.encoder == DagEncoder.SAGE:
            layers = {"option_layers": cfg.sage_option_layers, "slot_layers": cfg.sage_slot_layers}
            return DagSageEncoder(node_dim, slot_dim, region_dim, plan_dim, **widths, **layers)
        return DagFusionEncoder(node_dim, slot_dim, region_dim, plan_dim, **widths)

    def _neighbour_dim(self) -> int:
        """Length of the flattened ``neighbour_regions`` (0 when the config does not read it)."""
        if not self.cfg.reads_neighbours:
            return 0
        if DagObsKey.NEIGHBOUR_REGIONS not in self.observation_space.spaces:
            raise ValueError(
                f"LlmMappoModule: neighbour_input={self.cfg.neighbour_input} and critic_input="
                f"{self.cfg.critic_input.value!r} read the observation key "
                f"{DagObsKey.NEIGHBOUR_REGIONS.value!r}, which the observation space lacks"
            )
        return int(np.prod(self.observation_space[DagObsKey.NEIGHBOUR_REGIONS].shape))

    def _check_action_space(self) -> int:
        """The number of route patterns, after checking the action is S place parts of width O then E
        route parts of one width."""
        nvec = np.asarray(getattr(self.action_space, "nvec", []))
        s, o, e = self.num_slots, self.num_options, self.num_edges
        patterns = int(nvec[-1]) if e else 1
        if nvec.ndim != 1 or nvec.size != s + e or (nvec[:s] != o).any() or (nvec[s:] != patterns).any():
            raise ValueError(
                f"LlmMappoModule: expected MultiDiscrete([{o}] * {s} + [P] * {e}), got {self.action_space}"
            )
        return patterns

    @override(TorchRLModule)
    def get_initial_state(self) -> dict[str, np.ndarray]:
        return {BELIEF: np.zeros(self.cfg.gru_size, np.float32)} if self.cfg.use_gru else {}

    def beta(self, agent: Tensor) -> Tensor:
        """beta_k of each row's agent. Shapes: agent (N, K) one-hot -> (N,)."""
        return agent @ F.softplus(self.beta_raw)

    # --- forward -------------------------------------------------------------------------------
    @override(TorchRLModule)
    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        lead = obs[DagObsKey.SLOT_FEATS].shape[:-2]  # L = (B,) or (B, T); rows N = prod(L)
        region = flat_rows(obs[DagObsKey.REGION], 1)  # (N, R)
        agent = flat_rows(obs[DagObsKey.STATE], 1)[:, -self.cfg.agent_slots :]  # (N, K) one-hot
        x, e_n, e_s = self._fuse(obs, region, agent)  # (N, Dx), (N, O, Dn), (N, S, Ds)
        out: dict[str, Any] = {}
        if self.gru is not None:
            x, out[Columns.STATE_OUT] = self._believe(x, lead, batch[Columns.STATE_IN])
        h = self.trunk(x)  # (N, H)
        place = self.pointer(h, e_s, e_n)  # (N, S, O)
        if self.beta_raw is not None:  # Eq. 32
            gain = region[:, self.cfg.kappa_column] * self.beta(agent)
            place = place + log_prior_bias(flat_rows(obs[DagObsKey.PLAN_PRIOR], 2), gain)
        route = self.route(h, flat_rows(obs[DagObsKey.EDGE_FEATS], 2))  # (N, E, P)
        logits = self._masked(place, route, obs[DagObsKey.ACTION_MASK])  # (N, S * O + E * P)
        out[Columns.ACTION_DIST_INPUTS] = logits.view(*lead, -1)
        return out

    def _fuse(self, obs: dict[str, Any], region: Tensor, agent: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """x_t (Eq. 23, then the neighbours' regions if fused) and the option and slot embeddings; real
        options and slots are the non-zero rows (the env zeroes padding, NONE and padding slots).

        Shapes: -> (N, Dx), (N, O, Dn), (N, S, Ds).
        """
        node, slot = flat_rows(obs[DagObsKey.NODE_FEATS], 2), flat_rows(obs[DagObsKey.SLOT_FEATS], 2)
        node_valid, slot_valid = node.abs().sum(-1) > 0, slot.abs().sum(-1) > 0  # (N, O), (N, S)
        plan_z = flat_rows(obs[DagObsKey.PLAN_Z], 1)
        if isinstance(self.fusion, DagSageEncoder):
            node_adj, slot_adj = self._graphs(obs, node_valid, slot, slot_valid)  # (N, O, O), (N, S, S)
            x, e_n, e_s = self.fusion(
                node, node_adj, node_valid, slot, slot_adj, slot_valid, region, plan_z, agent
            )
        else:
            x, e_n, e_s = self.fusion(node, node_valid, slot, slot_valid, region, plan_z, agent)
        if self.cfg.neighbour_input:
            neighbours = flat_rows(obs[DagObsKey.NEIGHBOUR_REGIONS], 2).flatten(1)  # (N, 2R)
            x = torch.cat([x, neighbours], dim=-1)
        return x, e_n, e_s

    def _graphs(
        self, obs: dict[str, Any], node_valid: Tensor, slot: Tensor, slot_valid: Tensor
    ) -> tuple[Tensor, Tensor]:
        """The option graph (live links) and the slot graph (DAG edges, replicas) of encoder "sage".

        Shapes: node_valid (N, O), slot (N, S, Fs), slot_valid (N, S) -> (N, O, O), (N, S, S).
        """
        link_index = flat_rows(obs[DagObsKey.LINK_INDEX], 2).long()  # (N, 2, L)
        edge_index = flat_rows(obs[DagObsKey.EDGE_INDEX], 2).long()  # (N, 2, E)
        return (
            option_adjacency(link_index, flat_rows(obs[DagObsKey.LINK_FEATS], 2), node_valid),
            slot_adjacency(edge_index, flat_rows(obs[DagObsKey.EDGE_FEATS], 2), slot, slot_valid),
        )

    def _believe(self, x: Tensor, lead: torch.Size, state_in: dict[str, Tensor]) -> tuple[Tensor, dict]:
        """b_t = GRU(b_{t-1}, x_t) over each sequence from its state in (Eq. 24).

        Shapes: x (B * T, Dx), state_in h (B, G) -> b (B * T, G), state out h (B, G).
        """
        if len(lead) != 2:
            raise ValueError(f"LlmMappoModule with use_gru needs (B, T, ...) observations, got {tuple(lead)}")
        belief, h_n = self.gru(x.view(*lead, -1), state_in[BELIEF].unsqueeze(0))  # (B, T, G), (1, B, G)
        return belief.reshape(-1, belief.shape[-1]), {BELIEF: h_n.squeeze(0)}

    def _masked(self, place: Tensor, route: Tensor, mask: tuple[Tensor, ...]) -> Tensor:
        """Both heads' logits, forbidden values at MASKED_LOGIT, flattened in the action's order.

        Shapes: place (N, S, O), route (N, E, P), mask S x (L..., O) then E x (L..., P) -> (N, S*O + E*P).
        """
        allowed = [flat_rows(part, 1) > 0 for part in mask]
        place = place.masked_fill(~torch.stack(allowed[: self.num_slots], dim=1), MASKED_LOGIT)
        if self.num_edges:
            route = route.masked_fill(~torch.stack(allowed[self.num_slots :], dim=1), MASKED_LOGIT)
        return torch.cat([place.flatten(1), route.flatten(1)], dim=1)

    @override(ValueFunctionAPI)
    def compute_values(self, batch: dict[str, Any], embeddings: Tensor | None = None) -> Tensor:
        """V(state) of the centralised critic, or V(region ‖ neighbour_regions) of a local one.

        Shapes: state (L..., D), region (L..., R), neighbour_regions (L..., 2, R) -> (L...).
        """
        obs = batch[Columns.OBS]
        if self.cfg.critic_input == CriticInput.LOCAL:
            neighbours = obs[DagObsKey.NEIGHBOUR_REGIONS].flatten(-2)  # (L..., 2R)
            return self.critic(torch.cat([obs[DagObsKey.REGION], neighbours], dim=-1).float()).squeeze(-1)
        return self.critic(obs[DagObsKey.STATE].float()).squeeze(-1)


def llm_mappo_module_spec(model_config: Mapping[str, Any] | None = None) -> RLModuleSpec:
    """The RLModuleSpec of one edge agent (spaces come from the env); ``model_config`` is validated
    here, so a bad value fails when the algorithm is configured."""
    config = LlmMappoModelConfig.from_model_config(model_config)
    return RLModuleSpec(module_class=LlmMappoModule, model_config=config.to_model_config())
