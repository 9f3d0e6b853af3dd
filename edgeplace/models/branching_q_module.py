"""A branching dueling Q-network RLModule for RLlib's DQN (new API stack) on the metaverse-dag
observations (papers/llm-mappo.md, f, "CROMADQN-like"): one branch per sub-action of the MultiDiscrete
action, i.e. per placement slot (width O) and per DAG edge (width P = 7).

Shared trunk: spec e's fusion encoder (pooled node and slot embeddings and the region vector; no GRU and
no plan input) and an MLP producing h. A state-value stream V(h) and two advantage heads: a pointer head
scoring every (slot, option) from (h, e_s, e_n) and a route head scoring every (edge, pattern) from
(h, edge features). Per branch b (Tavakoli et al.'s dueling aggregation over the allowed actions):

    Q_b(s, a) = V(s) + A_b(s, a) - mean_{a' allowed} A_b(s, a'),   -inf where a is not allowed.

Internally the branches are padded to one width W = max(O, P) (padding at -inf): Q is (N, B, W) with
B = S + E branches. ``action_dist_inputs`` are the masked Q-values flattened in the action's order
(S * O place values, then E * P route values), so :class:`~edgeplace.algos.module_policy.ModulePolicy`
acts greedily per branch. Exploration is epsilon-greedy per branch, uniform over the allowed actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.dqn.default_dqn_rl_module import QF_NEXT_PREDS, QF_PREDS, QF_TARGET_NEXT_PREDS
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from ray.rllib.utils.schedules.scheduler import Scheduler
from torch import Tensor, nn
from torch.nn import functional as F

from edgeplace.models.branching_q_config import BranchingQConfig
from edgeplace.models.dag_fusion import DagFusionEncoder, tanh_mlp
from edgeplace.models.llm_mappo_config import DagObsKey
from edgeplace.models.pointer_head import PointerHead
from edgeplace.models.route_head import RouteHead
from edgeplace.models.target_q_networks import TargetQNetworks

NEG_INF = float("-inf")
#: The observation entries the module reads besides ``action_mask``.
Q_INPUTS = (DagObsKey.NODE_FEATS, DagObsKey.SLOT_FEATS, DagObsKey.EDGE_FEATS, DagObsKey.REGION)


def dueling_q(value: Tensor, advantages: Tensor, allowed: Tensor) -> Tensor:
    """Q = V + A - (mean of A over the allowed actions), per branch; -inf where not allowed.

    Shapes: value (N,), advantages (N, B, W), allowed (N, B, W) bool -> (N, B, W).
    """
    weights = allowed.to(advantages.dtype)
    mean = (advantages * weights).sum(-1, keepdim=True) / weights.sum(-1, keepdim=True).clamp(min=1.0)
    q = value[:, None, None] + advantages - mean  # (N, B, W)
    return q.masked_fill(~allowed, NEG_INF)


def epsilon_greedy(q: Tensor, epsilon: float) -> Tensor:
    """Per branch: with probability ``epsilon`` a uniformly drawn allowed action (finite Q), else the
    argmax. Shapes: q (N, B, W), -inf where not allowed -> actions (N, B) int64."""
    n, b, w = q.shape
    random = torch.multinomial(torch.isfinite(q).view(n * b, w).float(), num_samples=1).view(n, b)
    explore = torch.rand((n, b), device=q.device) < epsilon
    return torch.where(explore, random, q.argmax(dim=-1))


class BranchingQModule(TargetQNetworks, TorchRLModule):
    """See the module docstring; ``model_config``: :class:`BranchingQConfig` plus DQN's keys (``epsilon``
    is the exploration schedule on RLlib's env-step clock).

    Shapes: observation entries (N, ...) -> Q-values (N, S + E, W) (-inf where masked or padded), greedy
    actions (N, S + E), action-distribution inputs (N, S * O + E * P).
    """

    @override(TorchRLModule)
    def setup(self) -> None:
        cfg = BranchingQConfig.from_model_config(self.model_config)
        space: gym.spaces.Dict = self.observation_space
        self.num_options, node_dim = space[DagObsKey.NODE_FEATS].shape
        self.num_slots, slot_dim = space[DagObsKey.SLOT_FEATS].shape
        self.num_edges, edge_dim = space[DagObsKey.EDGE_FEATS].shape
        self.num_patterns = self._check_action_space()
        self.width = max(self.num_options, self.num_patterns)
        self.epsilon_schedule = Scheduler(fixed_value_or_schedule=self.model_config.get("epsilon", 0.0))
        self.q_net = _BranchingQNet(
            cfg, node_dim, slot_dim, edge_dim, space[DagObsKey.REGION].shape[0], self.num_patterns
        )

    def _check_action_space(self) -> int:
        """The number of route patterns, after checking the action is S place parts of width O, then E
        route parts of one width."""
        nvec = np.asarray(getattr(self.action_space, "nvec", []))
        s, o, e = self.num_slots, self.num_options, self.num_edges
        patterns = int(nvec[-1]) if e and nvec.size else 1
        if nvec.ndim != 1 or nvec.size != s + e or (nvec[:s] != o).any() or (nvec[s:] != patterns).any():
            raise ValueError(
                f"BranchingQModule: expected MultiDiscrete([{o}] * {s} + [P] * {e}), got {self.action_space}"
            )
        return patterns

    def allowed(self, mask: tuple[Tensor, ...] | Tensor) -> Tensor:
        """The allowed actions of every branch, padded with False to width W; ``mask`` in the env's
        layout (one part per sub-action) or flat in the action's order (the replay's compact form).

        Shapes: mask S x (N, O) then E x (N, P), or (N, S * O + E * P) -> (N, S + E, W) bool.
        """
        s, o, e, p = self.num_slots, self.num_options, self.num_edges, self.num_patterns
        if isinstance(mask, Tensor):
            place, route = mask[:, : s * o].view(-1, s, o), mask[:, s * o :].view(-1, e, p)
        else:
            place = torch.stack(mask[:s], dim=1)  # (N, S, O)
            route = torch.stack(mask[s:], dim=1) if e else place.new_zeros((place.shape[0], 0, p))
        return torch.cat(
            [F.pad(place > 0, (0, self.width - o)), F.pad(route > 0, (0, self.width - p))], dim=1
        )

    def _q(self, net: _BranchingQNet, obs: Mapping[str, Any]) -> Tensor:
        """Masked Q-values of ``net``. Shapes: -> (N, S + E, W)."""
        value, place, route = net(obs)  # (N,), (N, S, O), (N, E, P)
        advantages = torch.cat(
            [
                F.pad(place, (0, self.width - self.num_options)),
                F.pad(route, (0, self.width - self.num_patterns)),
            ],
            dim=1,
        )  # (N, S + E, W)
        return dueling_q(value, advantages, self.allowed(obs[DagObsKey.ACTION_MASK]))

    def flat_q(self, q: Tensor) -> Tensor:
        """Branch Q-values in the action's flat order. Shapes: (N, S + E, W) -> (N, S * O + E * P)."""
        s = self.num_slots
        place = q[:, :s, : self.num_options].flatten(1)
        return torch.cat([place, q[:, s:, : self.num_patterns].flatten(1)], dim=1)

    # --- RLlib APIs ----------------------------------------------------------------------------
    @override(TorchRLModule)
    def _forward_inference(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Tensor]:
        """Greedy actions per branch (N, S + E) and the flat masked Q-values as ``action_dist_inputs``."""
        q = self._q(self.q_net, batch[Columns.OBS])
        return {Columns.ACTIONS: q.argmax(dim=-1), Columns.ACTION_DIST_INPUTS: self.flat_q(q)}

    @override(TorchRLModule)
    def _forward_exploration(self, batch: dict[str, Any], t: int, **kwargs: Any) -> dict[str, Tensor]:
        """Epsilon-greedy per branch over the allowed actions (epsilon scheduled on RLlib's ``t``)."""
        q = self._q(self.q_net, batch[Columns.OBS])
        self.epsilon_schedule.update(t)
        return {Columns.ACTIONS: epsilon_greedy(q, float(self.epsilon_schedule.get_current_value()))}

    @override(TorchRLModule)
    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Tensor]:
        """Online Q of the states, online and target Q of the next states (double Q). Shapes: each
        (N, S + E, W)."""
        next_obs = batch[Columns.NEXT_OBS]
        return {
            QF_PREDS: self._q(self.q_net, batch[Columns.OBS]),
            QF_NEXT_PREDS: self._q(self.q_net, next_obs),
            QF_TARGET_NEXT_PREDS: self._q(self._target_q_net, next_obs),
        }


class _BranchingQNet(nn.Module):
    """The shared trunk and the three streams: V(h), placement advantages (pointer head over h, e_s,
    e_n) and route advantages (MLP over h and the edge features).

    Args:
        cfg: the widths.
        node_dim, slot_dim, edge_dim, region_dim: feature widths of the observation entries.
        patterns: route patterns per edge.

    Shapes: observation entries (N, ...) -> V (N,), A_place (N, S, O), A_route (N, E, P) (unmasked).
    """

    def __init__(
        self,
        cfg: BranchingQConfig,
        node_dim: int,
        slot_dim: int,
        edge_dim: int,
        region_dim: int,
        patterns: int,
    ) -> None:
        super().__init__()
        self.fusion = DagFusionEncoder(
            node_dim,
            slot_dim,
            region_dim,
            0,
            node_width=cfg.node_width,
            slot_width=cfg.slot_width,
            plan_width=0,
        )
        self.trunk = tanh_mlp(self.fusion.out_dim, cfg.trunk_hidden)
        hidden = cfg.trunk_hidden[-1]
        self.value = nn.Sequential(
            nn.Linear(hidden, cfg.value_hidden), nn.Tanh(), nn.Linear(cfg.value_hidden, 1)
        )
        self.pointer = PointerHead(
            hidden, self.fusion.slot_emb_dim, self.fusion.node_emb_dim, cfg.pointer_width
        )
        self.route = RouteHead(hidden, edge_dim, patterns, cfg.route_width)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for part in (self.fusion, self.pointer, self.route):
            part.reset_parameters()
        for layer in (*self.trunk, *self.value):
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()

    def forward(self, obs: Mapping[str, Any]) -> tuple[Tensor, Tensor, Tensor]:
        node = obs[DagObsKey.NODE_FEATS].float()  # (N, O, Fn)
        slot = obs[DagObsKey.SLOT_FEATS].float()  # (N, S, Fs)
        region = obs[DagObsKey.REGION].float()  # (N, R)
        no_plan = region.new_zeros((region.shape[0], 0))
        # Real options and slots are the non-zero rows (the env zeroes padding, NONE and padding slots).
        x, e_n, e_s = self.fusion(
            node, node.abs().sum(-1) > 0, slot, slot.abs().sum(-1) > 0, region, no_plan, no_plan
        )
        h = self.trunk(x)  # (N, H)
        value = self.value(h).squeeze(-1)  # (N,)
        return value, self.pointer(h, e_s, e_n), self.route(h, obs[DagObsKey.EDGE_FEATS].float())


def branching_q_module_spec(model_config: Mapping[str, Any] | None = None) -> RLModuleSpec:
    """The RLModuleSpec of one shared EC agent (spaces come from the env); ``model_config`` is validated
    here, so a bad value fails when the algorithm is configured."""
    config = BranchingQConfig.from_model_config(model_config)
    return RLModuleSpec(module_class=BranchingQModule, model_config=config.to_model_config())
