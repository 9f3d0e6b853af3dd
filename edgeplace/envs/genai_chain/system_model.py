"""The genai-chain system model (spec d): tensor sizes, profiled compute time, node noise, latency
and utility of one stage placement. Pure numpy; shared by the env, evaluation and Serve.

Units: seconds (``_s``), megabytes (``_mb``), load in the dataset's abstract compute units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.genai_chain.params import GenAIChainParams
from edgeplace.workloads.genai_chain import NUM_STAGES

#: Which instances a system-model method evaluates: an index, an index array, or all (``ALL``).
Instances = int | np.ndarray | slice
ALL = slice(None)


def sigmoid_utility(deadline_s: np.ndarray | float, latency_s: np.ndarray | float, kappa_per_s: float):
    """Eq.6 latency utility 1 / (1 + exp(kappa (T - T_max))), numerically safe for large gaps."""
    z = np.clip(kappa_per_s * (np.asarray(latency_s) - np.asarray(deadline_s)), -60.0, 60.0)
    return 1.0 / (1.0 + np.exp(z))


@dataclass(frozen=True)
class RequestProfile:
    """Per-stage quantities of one request (spec c, "Building a request").

    Shapes: types, input_mb, output_mb, deadline_s are (5,); types hold model types 1..3.
    """

    types: np.ndarray
    omega: float
    size_scale: float
    access_node: int
    input_mb: np.ndarray
    output_mb: np.ndarray
    deadline_s: np.ndarray

    @classmethod
    def build(
        cls, route: np.ndarray, omega: float, size_scale: float, access_node: int, params: GenAIChainParams
    ) -> RequestProfile:
        types = np.asarray(route, dtype=np.int64)
        if types.shape != (NUM_STAGES,) or types.min() < 1 or types.max() > 3:
            raise ValueError(f"route must be {NUM_STAGES} model types in 1..3, got {types.tolist()}")
        scale = 0.5 + float(size_scale)
        output_mb = params.per_type("output_size_mb")[types - 1] * scale
        input_mb = np.concatenate(([params.input_size_mb * scale], output_mb[:-1]))
        return cls(
            types=types,
            omega=float(omega),
            size_scale=float(size_scale),
            access_node=int(access_node),
            input_mb=input_mb,
            output_mb=output_mb,
            deadline_s=params.per_type("stage_deadline_s")[types - 1],
        )


class NodeNoise:
    """Per-node compute slowdown delta: a normal/spike Markov chain stepped once per request.

    ``delta`` (N,) is the slowdown the current request experiences; ``telemetry`` (N,) is the previous
    request's delta, the only part an agent observes.
    """

    def __init__(self, num_nodes: int, params: GenAIChainParams) -> None:
        self.params = params
        self.spike = np.zeros(num_nodes, dtype=bool)
        self.delta = np.zeros(num_nodes)
        self.telemetry = np.zeros(num_nodes)

    def reset(self, rng: np.random.Generator) -> None:
        """Stationary spike states, a telemetry draw, then one step for the first request."""
        p_up, p_down = self.params.p_normal_to_spike, self.params.p_spike_to_normal
        self.spike = rng.random(self.spike.size) < p_up / (p_up + p_down)
        self.delta = self._draw(rng)
        self.advance(rng)

    def advance(self, rng: np.random.Generator) -> None:
        """Move to the next request: telemetry <- delta, step the chain, draw a new delta."""
        self.telemetry = self.delta
        flip = rng.random(self.spike.size)
        self.spike = np.where(
            self.spike, flip >= self.params.p_spike_to_normal, flip < self.params.p_normal_to_spike
        )
        self.delta = self._draw(rng)

    def _draw(self, rng: np.random.Generator) -> np.ndarray:
        unit = rng.exponential(1.0, self.spike.size)
        return np.where(
            self.spike, 1.0 + self.params.spike_noise_mean * unit, self.params.normal_noise_mean * unit
        )


@dataclass(frozen=True)
class StageOutcome:
    """What placing one stage cost and earned."""

    node: int
    comm_s: float
    compute_s: float
    quality: float
    latency_utility: float
    utility: float
    overload: float
    reward: float

    @property
    def latency_s(self) -> float:
        return self.comm_s + self.compute_s


class ChainSystemModel:
    """Latency and utility of placements on a fixed workload (Eq.1-7 and 11 with spec d's defaults).

    Precomputes the per-instance profiling factors and the hop matrix once; every method is O(M) or
    O(N) numpy.
    """

    def __init__(
        self,
        *,
        hops: np.ndarray,
        capacity: np.ndarray,
        instance_type: np.ndarray,
        instance_quality: np.ndarray,
        instance_node: np.ndarray,
        params: GenAIChainParams,
    ) -> None:
        self.params = params
        self.hops = np.asarray(hops, dtype=np.float64)
        self.capacity = np.asarray(capacity, dtype=np.float64)
        self.instance_type = instance_type
        self.instance_quality = instance_quality
        self.instance_node = instance_node
        type_index = instance_type - 1
        self._profile_base = params.per_type("profile_base_s")[type_index]
        self._profile_slope = params.per_type("profile_slope_s")[type_index]
        self._demand = params.per_type("demand")
        self._profile_factor = (0.6 + 0.8 * instance_quality) * np.sqrt(
            params.reference_capacity / self.capacity[instance_node]
        )

    def profiled_time_s(self, size_scale: float, instances: Instances = ALL) -> np.ndarray:
        """Eq.2 F_m of ``instances`` (default all) at this request size. Shapes: -> (M,) or scalar."""
        return (self._profile_base[instances] + self._profile_slope[instances] * size_scale) * (
            self._profile_factor[instances]
        )

    def compute_time_s(
        self, profiled_s: np.ndarray, delta: np.ndarray, load: np.ndarray, instances: Instances = ALL
    ) -> np.ndarray:
        """Eq.3 T_comp = F_m (1 + delta_s + 0.5 L_s / C_s) on each instance's node. Shapes: -> (M,)."""
        node = self.instance_node[instances]
        return profiled_s * (1.0 + delta[node] + 0.5 * load[node] / self.capacity[node])

    def comm_time_s(
        self, request: RequestProfile, stage: int, prev_node: int, instances: Instances = ALL
    ) -> np.ndarray:
        """Eq.1 T_comm of placing ``stage`` (0-based) on each instance's node. Shapes: -> (M,).

        Stage 0 uploads the user input from the access node; later stages ship the predecessor's
        output unless co-located (then 0).
        """
        node = self.instance_node[instances]
        transfer = request.input_mb[stage] / self.params.bandwidth_mb_s + self.hops[prev_node, node] * (
            self.params.hop_delay_s
        )
        if stage == 0:
            return transfer
        return np.where(node == prev_node, 0.0, transfer)

    def migration(
        self, request: RequestProfile, stage: int, instance: int, load: np.ndarray
    ) -> tuple[int, float]:
        """METAPPO's task migration (spec f): the instance the stage runs on and the transfer it adds.

        If placing the stage would push its node above ``migration_load_threshold``, it moves to the
        highest-quality instance of the same type on another node within ``migration_max_hops`` whose
        load ratio is at most the threshold (lowest index on ties), paying ``D_in / B + H t_hop``;
        without such a node it stays (extra 0).
        """
        p = self.params
        node = self.instance_node[instance]
        stage_type = int(request.types[stage])
        if (load[node] + self._demand[stage_type - 1]) / self.capacity[node] <= p.migration_load_threshold:
            return instance, 0.0
        hosts = self.instance_node
        candidates = (
            (self.instance_type == stage_type)
            & (hosts != node)
            & (self.hops[node, hosts] <= p.migration_max_hops)
            & (load[hosts] / self.capacity[hosts] <= p.migration_load_threshold)
        )
        if not candidates.any():
            return instance, 0.0
        target = int(np.argmax(np.where(candidates, self.instance_quality, -np.inf)))
        extra_s = request.input_mb[stage] / p.bandwidth_mb_s + self.hops[node, hosts[target]] * p.hop_delay_s
        return target, float(extra_s)

    def place(
        self,
        request: RequestProfile,
        stage: int,
        prev_node: int,
        instance: int,
        delta: np.ndarray,
        load: np.ndarray,
        extra_comm_s: float = 0.0,
    ) -> StageOutcome:
        """Outcome of putting ``stage`` on ``instance``; adds the stage's demand to ``load`` in place.
        ``extra_comm_s`` is transfer time paid on top of Eq.1 (a migration's)."""
        p = self.params
        node = int(self.instance_node[instance])
        stage_type = int(request.types[stage])
        comm_s = float(self.comm_time_s(request, stage, prev_node, instance)) + extra_comm_s
        profiled_s = self.profiled_time_s(request.size_scale, instance)
        compute_s = float(self.compute_time_s(profiled_s, delta, load, instance))
        quality = float(self.instance_quality[instance])
        latency_utility = float(sigmoid_utility(request.deadline_s[stage], comm_s + compute_s, p.kappa_per_s))
        utility = request.omega * quality + (1.0 - request.omega) * latency_utility
        load[node] += self._demand[stage_type - 1]
        overload = max(0.0, load[node] / self.capacity[node] - 1.0)
        return StageOutcome(
            node=node,
            comm_s=comm_s,
            compute_s=compute_s,
            quality=quality,
            latency_utility=latency_utility,
            utility=utility,
            overload=overload,
            reward=utility - p.overload_penalty * overload,
        )
