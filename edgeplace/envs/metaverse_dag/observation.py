"""State -> observation and the action masks of the metaverse-dag scenario (papers/llm-mappo.md,
section c, "Observation" and "Masks"): THE place env, evaluation, baselines and Serve read them from.

Per agent (O options, L links, S slots, E route entries, all padded):

============  ===============  ===============================================================
key           shape            content
============  ===============  ===============================================================
node_feats    (O, 14)          free cpu, free mem, cpu util, mean rho, rate/400, up, zone (3),
                               tier (3), radio latency / 2.5 ms, delay to the load centroid / 10 ms
link_feats    (L, 6)           free slice bandwidth (3), util, delay / 10 ms, up
link_index    (2, L)           option indices of each link's ends (0, 0 on padding)
slot_feats    (S, 12)          class (3), topological quantile, replica / R_max, cpu / 4 vCPU,
                               RAM / 8 GB, stateful, deadline / 30 ms, option / O, last rho,
                               last sojourn / 100 ms
edge_feats    (E, 5)           payload fraction / .05, class (3), pattern / 6
edge_index    (2, E)           slots of replica 0 of each DAG edge's source and destination
region        (19,)            section c's region vector (planner entries 0 without a planner)
neighbour_    (2, 19)          the previous step's ``region`` vectors of the 2 nearest other ECs
regions                        (by EC-EC delay); zeros before the first step and for missing ones
plan_z        (64,)            z_plan (0 without a planner)
plan_prior    (S, O)           pi_LLM (0 without a planner)
action_mask   S x (O,), E x 7  place per slot, then route per edge (Gymnasium's layout)
state         (K_MAX * 19 + 6 + K_MAX,)  critic only: every region vector, global KPIs, agent one-hot
============  ===============  ===============================================================
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

import gymnasium as gym
import numpy as np

from edgeplace.envs.action_masks import MASK_DTYPE, mask_space
from edgeplace.envs.metaverse_dag.config import K_MAX
from edgeplace.envs.metaverse_dag.layout import NUM_PATTERNS
from edgeplace.obs_keys import ObsKey

NODE_DIM, LINK_DIM, SLOT_DIM, EDGE_DIM, REGION_DIM, PLAN_DIM = 14, 6, 12, 5, 19, 64
GLOBAL_DIM = 6
NEIGHBOURS = 2
"""Rows of ``neighbour_regions``: the nearest other ECs whose last region vectors an agent reads."""
"""Global KPIs in ``state``: latency / l_max, violations, success, LB, R_tot / R_max, sigma_R."""


class MvObsKey(StrEnum):
    """Observation keys of the metaverse-dag scenario."""

    NODE_FEATS = "node_feats"
    LINK_FEATS = "link_feats"
    LINK_INDEX = "link_index"
    SLOT_FEATS = "slot_feats"
    EDGE_FEATS = "edge_feats"
    EDGE_INDEX = "edge_index"
    REGION = "region"
    NEIGHBOUR_REGIONS = "neighbour_regions"
    """The previous step's ``region`` vectors of the :data:`NEIGHBOURS` nearest other ECs."""
    PLAN_Z = "plan_z"
    PLAN_PRIOR = "plan_prior"
    ACTION_MASK = ObsKey.ACTION_MASK.value
    STATE = "state"


class NodeCol(IntEnum):
    """Columns of ``node_feats`` that consumers read by name."""

    FREE_CPU = 0
    FREE_RAM = 1
    CPU_UTIL = 2
    UP = 5
    CENTROID_DELAY = 13


class RegionCol(IntEnum):
    """Columns of ``region`` (section c): KPIs, load, clock, then the planner's guidance (zeros, and
    the static weights, without a planner)."""

    LATENCY = 0
    VIOLATIONS = 1
    SUCCESS = 2
    LB = 3
    R_TOT = 4
    RATE = 5
    BURST = 6
    OUTAGE = 7
    R_G = 8
    HOUR_SIN = 9
    HOUR_COS = 10
    STEP = 11
    KAPPA = 12
    """Trust kappa in the current plan (Eq. 25)."""
    PHI = 13
    """phi_t, the blended cooperation weight (Eq. 28)."""
    OMEGA = 14
    """First of the four blended local weights omega_t (Eq. 26): columns 14..17."""
    R_HAT = 18
    """The plan's predicted utility."""


class SlotCol(IntEnum):
    """Columns of ``slot_feats`` that consumers read by name."""

    QUANTILE = 3
    CPU = 5
    RAM = 6
    DEADLINE = 8
    OPTION = 9
    LAST_RHO = 10


def state_dim() -> int:
    """Length of ``state``."""
    return K_MAX * REGION_DIM + GLOBAL_DIM + K_MAX


def action_space(num_slots: int, num_options: int, num_edges: int) -> gym.spaces.MultiDiscrete:
    """``place`` per slot, then ``route`` per DAG edge."""
    return gym.spaces.MultiDiscrete([num_options] * num_slots + [NUM_PATTERNS] * num_edges)


def observation_space(num_slots: int, num_options: int, num_edges: int, num_links: int) -> gym.spaces.Dict:
    """The Dict space of one agent's observation."""

    def box(*shape: int) -> gym.spaces.Box:
        return gym.spaces.Box(-np.inf, np.inf, shape, np.float32)

    return gym.spaces.Dict(
        {
            MvObsKey.NODE_FEATS: box(num_options, NODE_DIM),
            MvObsKey.LINK_FEATS: box(num_links, LINK_DIM),
            MvObsKey.LINK_INDEX: gym.spaces.Box(0, num_options - 1, (2, num_links), np.int64),
            MvObsKey.SLOT_FEATS: box(num_slots, SLOT_DIM),
            MvObsKey.EDGE_FEATS: box(num_edges, EDGE_DIM),
            MvObsKey.EDGE_INDEX: gym.spaces.Box(0, max(num_slots - 1, 0), (2, num_edges), np.int64),
            MvObsKey.REGION: box(REGION_DIM),
            MvObsKey.NEIGHBOUR_REGIONS: box(NEIGHBOURS, REGION_DIM),
            MvObsKey.PLAN_Z: box(PLAN_DIM),
            MvObsKey.PLAN_PRIOR: box(num_slots, num_options),
            MvObsKey.ACTION_MASK: mask_space(action_space(num_slots, num_options, num_edges)),
            MvObsKey.STATE: box(state_dim()),
        }
    )


def action_masks(place: np.ndarray, route: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Every agent's mask in the layout of :func:`edgeplace.envs.action_masks.multi_discrete_mask`
    (S + E int8 parts, read-only), as row views of two blocks: with ~100 parts per agent, splitting one
    buffer per agent would cost more than the rest of the observation.

    Shapes: place (K, S, O) bool, route (K, E, 7) bool -> K x (S + E parts).
    """
    place_rows, route_rows = place.astype(MASK_DTYPE), route.astype(MASK_DTYPE)
    place_rows.flags.writeable = route_rows.flags.writeable = False
    return [(*place_rows[k], *route_rows[k]) for k in range(place.shape[0])]


def place_allowed(
    option_node: np.ndarray,
    node_up: np.ndarray,
    fits: np.ndarray,
    slot_valid: np.ndarray,
    slot_rep: np.ndarray,
    replica_limit: np.ndarray | None = None,
) -> np.ndarray:
    """Section c's place masks: no padding, no down node, no node smaller than the replica, NONE never
    for replica slot 0; a padding slot allows NONE alone, and so does a slot whose replica index is at or
    beyond ``replica_limit`` (the autoscaler's count of its microservice, >= 1; None: no limit).

    Shapes: option_node (K, O) (NONE last, -1), node_up (N,) bool, fits (N, S) bool (the node's capacity
    holds the slot's replica), slot_valid (S,) bool, slot_rep (S,), replica_limit (K, S)
    -> (K, S, O) bool.
    """
    real = option_node >= 0  # (K, O)
    hosts = np.maximum(option_node, 0)
    allowed = (real & node_up[hosts])[:, None, :] & fits[hosts].transpose(0, 2, 1)  # (K, S, O)
    allowed &= slot_valid[None, :, None]
    allowed[:, :, -1] = (slot_rep > 0) | ~slot_valid
    if replica_limit is not None:
        beyond = slot_rep[None, :] >= replica_limit  # (K, S)
        allowed &= ~beyond[..., None]
        allowed[:, :, -1] |= beyond
    return allowed


def route_allowed(regions: int, edge_valid: np.ndarray) -> np.ndarray:
    """Every pattern on a real DAG edge, pattern 0 alone on padding. Shapes: (E,) -> (K, E, 7) bool."""
    allowed = np.repeat(edge_valid[:, None], NUM_PATTERNS, axis=1)
    allowed[:, 0] = True
    return np.broadcast_to(allowed, (regions, *allowed.shape))
