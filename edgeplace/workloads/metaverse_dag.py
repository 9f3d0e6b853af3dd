"""Workload of the metaverse-dag scenario (papers/llm-mappo.md, section b, "Service DAGs" and "Arrivals").

Three service classes (XR, TWIN, HOLO), each with one DAG template per episode, and per-edge-server
arrival rates ``lambda_n(t) = base_n * D(h) * H_n(t) * B_k(t)``: a piecewise-linear diurnal curve,
moving hotspots (random waypoint) and Pareto ON/OFF bursts per region. Everything is vectorised numpy
and draws only from the generator it is given.

Units: time in s, work in M instructions, payloads in MB, rates in requests/s, distances in km.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class ServiceClass(IntEnum):
    """The service classes, in the order of every per-class array (and of the network slices)."""

    XR = 0
    TWIN = 1
    HOLO = 2


NUM_CLASSES = len(ServiceClass)
CLASS_SHARES = np.array([0.40, 0.35, 0.25])
"""Share of the requests of each class."""

# Replica demand tiers (vCPU low, vCPU high, RAM GB low, RAM GB high).
_LIGHT = (0.1, 0.5, 0.125, 0.5)
_MEDIUM = (0.5, 1.5, 0.5, 2.0)
_HEAVY = (1.5, 4.0, 2.0, 8.0)


@dataclass(frozen=True)
class ClassSpec:
    """A service class's template distribution (one row of spec b's class table)."""

    ms_range: tuple[int, int]
    """Microservices per DAG, inclusive range."""
    deadline_s: tuple[float, float]
    """l^max, uniform in this range (one value per template)."""
    tiers: tuple[tuple[float, tuple[float, float, float, float]], ...]
    """(probability, demand tier) of a microservice's per-replica (vCPU, RAM) demand."""
    work_minstr: tuple[float, float]
    """W_q, uniform per request, M instructions."""
    stateful_prob: float
    p_min: float


CLASSES = (
    ClassSpec((4, 6), (10e-3, 20e-3), ((0.6, _MEDIUM), (0.4, _HEAVY)), (50.0, 250.0), 0.2, 0.99),
    ClassSpec((8, 15), (30e-3, 30e-3), ((0.7, _LIGHT), (0.3, _MEDIUM)), (50.0, 200.0), 0.5, 0.995),
    ClassSpec((12, 20), (15e-3, 15e-3), ((1.0, _HEAVY),), (300.0, 800.0), 0.5, 0.99),
)
COMPLEXITY_PRESETS = {
    "C26-3": ((5, 9, 12), 3),
    "C30-5": ((5, 11, 14), 5),
    "C33-6": ((6, 12, 15), 6),
    "C37-8": ((6, 13, 18), 8),
}
"""Complexity presets: (microservices per class (XR, TWIN, HOLO), R_max)."""
PARENT_WINDOW = 4
"""Node i's parents lie in [max(0, i - 4), i - 1]."""
EXTRA_PARENT_PROB = 0.2
PAYLOAD_MEAN_MB, PAYLOAD_SD_MB = 1.5, 1.3
PAYLOAD_FRACTION = (0.01, 0.05)

DIURNAL_HOURS = np.array([0.0, 4.0, 7.0, 9.0, 12.0, 14.0, 18.0, 21.0, 24.0])
DIURNAL_LEVELS = np.array([0.15, 0.08, 0.45, 0.8, 0.9, 0.85, 1.0, 0.9, 0.15])
BASE_RATE_RANGES = np.array([[150.0, 400.0], [80.0, 200.0], [10.0, 50.0]])
"""Base request rate per edge server by zone (dense, medium, suburban), req/s."""
NUM_HOTSPOTS = 6
HOTSPOT_SPEED_KM_S = 0.010
HOTSPOT_GAIN = 1.5
HOTSPOT_SIGMA_KM = 1.0
BURST_SHAPE = 1.5
BURST_MEAN_OFF_S, BURST_MEAN_ON_S = 60.0, 20.0
BURST_FACTOR = 1.8
CROSS_REGION_SHARE = 0.25
CROSS_REGION_CANDIDATES = 2


def max_edges(num_ms: int) -> int:
    """The most DAG edges a template of ``num_ms`` microservices can have (every window parent)."""
    return int(sum(min(i, PARENT_WINDOW) for i in range(1, num_ms)))


@dataclass(frozen=True)
class DagTemplates:
    """The episode's DAG template of every class, padded to ``M`` microservices per class.

    Shapes (C classes, M padded microservices):
        num_ms: (C,) int64.
        parents: (C, M, M) bool, ``parents[c, j, i]``: i -> j is an edge (i < j).
        work_share: (C, M) omega, Dirichlet(2 * 1) over the real microservices, 0 on padding.
        payload_fraction: (C, M, M) f_ij on edges ``[c, i, j]``, 0 elsewhere.
        cpu: (C, M) per-replica vCPU; ram_gb: (C, M) per-replica RAM, GB.
        stateful: (C, M) bool.
        deadline_s: (C,) l^max, s; p_min: (C,).
    """

    num_ms: np.ndarray
    parents: np.ndarray
    work_share: np.ndarray
    payload_fraction: np.ndarray
    cpu: np.ndarray
    ram_gb: np.ndarray
    stateful: np.ndarray
    deadline_s: np.ndarray
    p_min: np.ndarray

    @property
    def sinks(self) -> np.ndarray:
        """Real microservices without children. Shapes: (C, M) bool."""
        real = np.arange(self.parents.shape[1])[None, :] < self.num_ms[:, None]
        return real & ~self.parents.any(axis=1)

    def edges(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """(sources, destinations) of class ``c``'s edges, by (destination, source). Shapes: (E_c,)."""
        dst, src = np.nonzero(self.parents[c])
        return src, dst


def demand_tiers(cpu: np.ndarray) -> np.ndarray:
    """The demand tier of per-replica vCPU demands: 0 light (< .5), 1 medium (< 1.5), 2 heavy.

    Shapes: (...) -> (...) int64.
    """
    return np.searchsorted(np.array([_MEDIUM[0], _HEAVY[0]]), cpu, side="right").astype(np.int64)


def sample_templates(
    rng: np.random.Generator, ms_counts: tuple[int, ...] | None, max_ms: int
) -> DagTemplates:
    """One template per class: fixed microservice counts ``ms_counts`` (per class), or drawn uniformly in
    each class's range (None). Draws, per class in order: the count, the structure, omega, the payload
    fractions, the demand tiers and values, the stateful flags and the deadline."""
    c_count = NUM_CLASSES
    num_ms = np.zeros(c_count, np.int64)
    parents = np.zeros((c_count, max_ms, max_ms), bool)
    work = np.zeros((c_count, max_ms))
    fraction = np.zeros((c_count, max_ms, max_ms))
    cpu, ram = np.zeros((c_count, max_ms)), np.zeros((c_count, max_ms))
    stateful = np.zeros((c_count, max_ms), bool)
    deadline, p_min = np.zeros(c_count), np.array([spec.p_min for spec in CLASSES])
    for c, spec in enumerate(CLASSES):
        n = (
            int(ms_counts[c])
            if ms_counts is not None
            else int(rng.integers(spec.ms_range[0], spec.ms_range[1] + 1))
        )
        if not 1 <= n <= max_ms:
            raise ValueError(
                f"ms_counts: class {ServiceClass(c).name} has {n} microservices, outside [1, {max_ms}]"
            )
        num_ms[c] = n
        parents[c, :n, :n] = _dag_structure(rng, n)
        work[c, :n] = rng.dirichlet(np.full(n, 2.0))
        fraction[c] = np.where(parents[c].T, rng.uniform(*PAYLOAD_FRACTION, (max_ms, max_ms)), 0.0)
        probs = np.array([p for p, _ in spec.tiers])
        bounds = np.array([tier for _, tier in spec.tiers])[rng.choice(len(probs), n, p=probs)]  # (n, 4)
        cpu[c, :n] = rng.uniform(bounds[:, 0], bounds[:, 1])
        ram[c, :n] = rng.uniform(bounds[:, 2], bounds[:, 3])
        stateful[c, :n] = rng.random(n) < spec.stateful_prob
        deadline[c] = rng.uniform(*spec.deadline_s)
    return DagTemplates(num_ms, parents, work, fraction, cpu, ram, stateful, deadline, p_min)


def _dag_structure(rng: np.random.Generator, n: int) -> np.ndarray:
    """Spec b's structure: node i > 0 gets one parent uniform in its window, and every other window
    node with probability .2. Shapes: -> (n, n) bool, ``[j, i]`` = i is a parent of j."""
    parents = np.zeros((n, n), bool)
    for j in range(1, n):
        low = max(0, j - PARENT_WINDOW)
        parents[j, rng.integers(low, j)] = True
        parents[j, low:j] |= rng.random(j - low) < EXTRA_PARENT_PROB
    return parents


def lognormal_payload_mb(rng: np.random.Generator, size: int) -> np.ndarray:
    """P_q, lognormal moment-matched to mean 1.5 MB and sd 1.3 MB. Shapes: -> (size,) MB."""
    sigma2 = np.log1p((PAYLOAD_SD_MB / PAYLOAD_MEAN_MB) ** 2)
    return rng.lognormal(np.log(PAYLOAD_MEAN_MB) - sigma2 / 2, np.sqrt(sigma2), size)


def diurnal(hour: np.ndarray | float) -> np.ndarray:
    """D(h), piecewise linear through spec b's points; ``hour`` taken modulo 24. Shapes: (...) -> (...)."""
    return np.interp(np.mod(hour, 24.0), DIURNAL_HOURS, DIURNAL_LEVELS)


def base_rates(rng: np.random.Generator, zone: np.ndarray, scale: float) -> np.ndarray:
    """Per-server base rates, uniform in the zone's range times ``scale``. Shapes: (N,) int -> (N,) req/s."""
    low, high = BASE_RATE_RANGES[zone].T
    return scale * rng.uniform(low, high)


class HotspotWalk:
    """H_n(t): 6 hotspots moving by random waypoint at 10 m/s in the dense disc (radius ``disc_km``),
    ``H = 1 + 1.5 sum exp(-d^2 / 2 km^2)`` renormalised to mean 1 over the servers."""

    def __init__(self, rng: np.random.Generator, disc_km: float) -> None:
        self.disc_km = disc_km
        self.position = self._uniform(rng, NUM_HOTSPOTS)  # (6, 2) km
        self.target = self._uniform(rng, NUM_HOTSPOTS)

    def _uniform(self, rng: np.random.Generator, count: int) -> np.ndarray:
        r = self.disc_km * np.sqrt(rng.random(count))
        theta = rng.uniform(0.0, 2 * np.pi, count)
        return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)

    def advance(self, rng: np.random.Generator, dt_s: float) -> None:
        """Move every hotspot ``dt_s`` toward its waypoint; one that arrives draws a new one."""
        gap = self.target - self.position
        dist = np.linalg.norm(gap, axis=1)
        step = HOTSPOT_SPEED_KM_S * dt_s
        arrived = dist <= step
        self.position = np.where(
            arrived[:, None], self.target, self.position + gap * (step / np.maximum(dist, 1e-12))[:, None]
        )
        fresh = self._uniform(rng, NUM_HOTSPOTS)
        self.target = np.where(arrived[:, None], fresh, self.target)

    def factor(self, xy_km: np.ndarray) -> np.ndarray:
        """H_n at the servers. Shapes: (N, 2) km -> (N,), mean 1."""
        d2 = ((xy_km[:, None, :] - self.position[None, :, :]) ** 2).sum(axis=2)
        h = 1.0 + HOTSPOT_GAIN * np.exp(-d2 / (2 * HOTSPOT_SIGMA_KM**2)).sum(axis=1)
        return h / h.mean()


class BurstProcess:
    """B_k(t): Pareto (shape 1.5) ON/OFF periods per region, mean OFF 60 s and ON 20 s, x1.8 while ON."""

    def __init__(self, rng: np.random.Generator, regions: int) -> None:
        self.on = np.zeros(regions, bool)
        self.remaining_s = self._durations(rng, self.on)

    @staticmethod
    def _durations(rng: np.random.Generator, on: np.ndarray) -> np.ndarray:
        mean = np.where(on, BURST_MEAN_ON_S, BURST_MEAN_OFF_S)
        scale = mean * (BURST_SHAPE - 1) / BURST_SHAPE  # Pareto minimum giving that mean
        return scale * (1.0 + rng.pareto(BURST_SHAPE, on.size))

    def advance(self, rng: np.random.Generator, dt_s: float) -> None:
        """Advance ``dt_s``; a period that ends flips its region (one flip per step at most)."""
        self.remaining_s = self.remaining_s - dt_s
        ended = self.remaining_s <= 0
        self.on = np.where(ended, ~self.on, self.on)
        self.remaining_s = np.where(ended, self._durations(rng, self.on), self.remaining_s)

    def factor(self) -> np.ndarray:
        """B_k. Shapes: -> (K,)."""
        return np.where(self.on, BURST_FACTOR, 1.0)


def cross_region_shares(ec_xy_km: np.ndarray) -> np.ndarray:
    """Share of region j's traffic served by region k: .75 at home and .25 split over the 2 nearest other
    regions (all of it at home with one region). Shapes: (K, 2) km -> (K, K), rows sum to 1."""
    k = ec_xy_km.shape[0]
    if k == 1:
        return np.ones((1, 1))
    dist = np.linalg.norm(ec_xy_km[:, None] - ec_xy_km[None], axis=2)
    np.fill_diagonal(dist, np.inf)
    nearest = np.argsort(dist, axis=1, kind="stable")[:, : min(CROSS_REGION_CANDIDATES, k - 1)]
    shares = np.eye(k) * (1.0 - CROSS_REGION_SHARE)
    np.put_along_axis(shares, nearest, CROSS_REGION_SHARE / nearest.shape[1], axis=1)
    return shares


@dataclass(frozen=True)
class RequestSample:
    """S sampled requests per region. Shapes (Q = K * S): region, cls, origin (int64); payload_mb,
    work_minstr (float64)."""

    region: np.ndarray
    cls: np.ndarray
    origin: np.ndarray
    payload_mb: np.ndarray
    work_minstr: np.ndarray


def sample_requests(rng: np.random.Generator, served_rate: np.ndarray, per_region: int) -> RequestSample:
    """``per_region`` requests served by each region: origin server in proportion to the rate it sends
    there, class by the mix, payload lognormal, work uniform in the class's range.

    Shapes: served_rate (N, K) req/s from server n served by region k -> Q = K * per_region requests.
    """
    n, k = served_rate.shape
    region = np.repeat(np.arange(k), per_region)
    totals = served_rate.sum(axis=0)
    weights = np.where(totals > 0, served_rate / np.maximum(totals, 1e-300), 1.0 / n)  # (N, K)
    cdf = np.cumsum(weights, axis=0)[:, region]  # (N, Q)
    origin = np.minimum((cdf < rng.random(region.size) * cdf[-1]).sum(axis=0), n - 1)
    cls = np.searchsorted(np.cumsum(CLASS_SHARES), rng.random(region.size) * CLASS_SHARES.sum(), side="right")
    work_range = np.array([spec.work_minstr for spec in CLASSES])[cls]
    return RequestSample(
        region=region,
        cls=cls.astype(np.int64),
        origin=origin.astype(np.int64),
        payload_mb=lognormal_payload_mb(rng, region.size),
        work_minstr=rng.uniform(work_range[:, 0], work_range[:, 1]),
    )


def mean_work_minstr() -> np.ndarray:
    """E[W_q] per class. Shapes: -> (C,) M instructions."""
    return np.array([sum(spec.work_minstr) / 2 for spec in CLASSES])


def failed_servers(rng: np.random.Generator, servers: int, fraction: float) -> np.ndarray:
    """``round(fraction * servers)`` edge servers chosen uniformly to fail. Shapes: -> (servers,) bool."""
    failed = np.zeros(servers, bool)
    failed[rng.permutation(servers)[: round(fraction * servers)]] = True
    return failed


class ArrivalProcess:
    """lambda_n(t) = base_n * D(h) * H_n(t) * B_k(t) over one episode; under a load sweep (``load`` set)
    D = H = B = 1 and the base rates are rescaled to a mean of ``load`` req/s per server.

    Shapes: base (N,) req/s, xy_km (N, 2), region (N,) int64 in [0, K).
    """

    def __init__(
        self,
        rng: np.random.Generator,
        base: np.ndarray,
        xy_km: np.ndarray,
        region: np.ndarray,
        *,
        start_hour: float,
        disc_km: float,
        load: float | None,
    ) -> None:
        self.base = base if load is None else base * (load / base.mean())
        self.xy_km, self.region, self.start_hour, self.load = xy_km, region, start_hour, load
        self.hotspots = HotspotWalk(rng, disc_km)
        self.bursts = BurstProcess(rng, int(region.max()) + 1)

    def hour(self, t_s: float) -> float:
        """Hour of day at episode time ``t_s``."""
        return float(np.mod(self.start_hour + t_s / 3600.0, 24.0))

    def rates(self, t_s: float) -> np.ndarray:
        """lambda_n at episode time ``t_s``. Shapes: -> (N,) req/s."""
        if self.load is not None:
            return self.base
        return (
            self.base
            * diurnal(self.hour(t_s))
            * self.hotspots.factor(self.xy_km)
            * self.bursts.factor()[self.region]
        )

    def advance(self, rng: np.random.Generator, dt_s: float) -> None:
        """Move the hotspots and the burst periods on by ``dt_s``."""
        self.hotspots.advance(rng, dt_s)
        self.bursts.advance(rng, dt_s)
