"""DNN inference services and their per-slot requests (spec: papers/hisper.md, sections c-e).

Two inference services (object detection, OD; multiple-object tracking, MOT) each offer 16
configurations and a few DNN models. :data:`SERVICE_TABLES` holds every per-(service, configuration,
model) constant as padded numpy tables, so a whole slot (or every candidate action) is looked up
with one fancy index. :func:`draw_episode` draws an episode's requests and server background load
from one generator in a documented order.

Units: data in MB, model work in TFLOP per inference, model memory in MB, deadlines in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Service(IntEnum):
    """Inference services; the value is the service's row in :data:`SERVICE_TABLES`."""

    OD = 0
    MOT = 1


NUM_SERVICES = len(Service)
NUM_CONFIGS = 16
"""Configurations per service: ``i = 4 * resolution_index + x_index`` (0 = highest quality)."""
MAX_MODELS = 4
"""Model slots of the padded tables (OD has 4 models, MOT 3)."""
RESOLUTIONS = (1.0, 0.75, 0.5, 0.25)
"""Frame resolution scale r by ``resolution_index``."""
OD_JPEG_QUALITY = (100, 90, 80, 70)
"""OD ``x``: JPEG quality by ``x_index``."""
MOT_FPS = (30, 15, 10, 5)
"""MOT ``x``: frames per second by ``x_index``."""
MOT_CLIP_S = 1.0
"""L: length of a MOT clip, so one MOT inference runs the model on ``L * fps`` frames."""
_OD_QUALITY_DATA_FACTOR = (1.0, 0.45, 0.30, 0.24)
"""qf(q): JPEG size relative to q100 (spec d, eta)."""


@dataclass(frozen=True)
class DnnModel:
    """One DNN model variant of a service (spec d, Tables II/III)."""

    name: str
    memory_mb: float
    tflop: float
    """Work per inference (OD) or per frame (MOT), TFLOP."""


OD_MODELS = (
    DnnModel("R-50-FPN FP16", 159.48, 0.1747),
    DnnModel("R-50-C4", 129.31, 0.8193),
    DnnModel("X-101-64x4d-FPN", 380.91, 0.3688),
    DnnModel("R-101-FPN", 232.13, 0.2380),
)
MOT_MODELS = (
    DnnModel("ByteTrack/YOLOX-X", 378.02, 0.3959),
    DnnModel("SORT/R50-FPN", 157.93, 0.1448),
    DnnModel("QDTrack/R50-FPN", 216.95, 0.1416),
)
MODELS = {Service.OD: OD_MODELS, Service.MOT: MOT_MODELS}

# Phi_s(i, j): one row per model, 16 values in configuration order (spec d, the normative 3-decimal tables).
_OD_ACCURACY = (
    (.374, .318, .262, .206, .343, .282, .224, .171, .312, .246, .187, .136, .281, .211, .150, .102),
    (.357, .303, .250, .196, .328, .269, .214, .163, .298, .235, .179, .130, .269, .201, .143, .097),
    (.420, .357, .294, .231, .385, .317, .252, .192, .351, .277, .210, .153, .316, .237, .168, .114),
    (.398, .338, .279, .219, .365, .300, .239, .182, .332, .262, .199, .145, .299, .224, .159, .108),
)  # fmt: skip
_MOT_ACCURACY = (
    (.850, .825, .799, .765, .846, .820, .795, .761, .837, .812, .786, .752, .799, .773, .748, .714),
    (.714, .693, .671, .643, .710, .689, .668, .639, .703, .682, .660, .632, .671, .650, .628, .600),
    (.750, .728, .705, .675, .746, .724, .701, .671, .739, .716, .694, .664, .705, .682, .660, .630),
)  # fmt: skip


@dataclass(frozen=True)
class ServiceTables:
    """Every service constant as a table padded to (S services, C configurations, M model slots).

    Shapes (S = 2, C = 16, M = 4; a padded model slot (MOT model 3) holds NaN and ``model_valid`` False):
        accuracy: (S, C, M) Phi, raw accuracy (mAP for OD, MOTA for MOT).
        accuracy_std: (S, C, M) Eq. 19's standardised accuracy in [0, 1].
        data_factor: (S, C) eta, data size of a configuration relative to the raw data.
        work_factor: (S, C) I, inferences per request (1 for OD, ``L * fps`` frames for MOT).
        model_memory_mb: (S, M) B_j; model_tflop: (S, M) A_j; model_valid: (S, M) bool.
        num_models: (S,) int64.
    """

    accuracy: np.ndarray
    accuracy_std: np.ndarray
    data_factor: np.ndarray
    work_factor: np.ndarray
    model_memory_mb: np.ndarray
    model_tflop: np.ndarray
    model_valid: np.ndarray
    num_models: np.ndarray


def _build_tables() -> ServiceTables:
    accuracy = np.full((NUM_SERVICES, NUM_CONFIGS, MAX_MODELS), np.nan)
    accuracy[Service.OD, :, : len(OD_MODELS)] = np.asarray(_OD_ACCURACY).T
    accuracy[Service.MOT, :, : len(MOT_MODELS)] = np.asarray(_MOT_ACCURACY).T
    low = np.nanmin(accuracy, axis=(1, 2), keepdims=True)
    high = np.nanmax(accuracy, axis=(1, 2), keepdims=True)

    r_squared = np.repeat(np.square(RESOLUTIONS), 4)  # (C,): configuration i has resolution i // 4
    od_x = np.tile(_OD_QUALITY_DATA_FACTOR, 4)
    fps = np.tile(np.asarray(MOT_FPS, dtype=np.float64), 4)
    memory = np.full((NUM_SERVICES, MAX_MODELS), np.nan)
    tflop = np.full((NUM_SERVICES, MAX_MODELS), np.nan)
    for service, models in MODELS.items():
        memory[service, : len(models)] = [m.memory_mb for m in models]
        tflop[service, : len(models)] = [m.tflop for m in models]
    tables = ServiceTables(
        accuracy=accuracy,
        accuracy_std=(accuracy - low) / (high - low),
        data_factor=np.stack([r_squared * od_x, r_squared * fps / MOT_FPS[0]]),
        work_factor=np.stack([np.ones(NUM_CONFIGS), MOT_CLIP_S * fps]),
        model_memory_mb=memory,
        model_tflop=tflop,
        model_valid=~np.isnan(memory),
        num_models=np.array([len(MODELS[s]) for s in Service], dtype=np.int64),
    )
    for value in vars(tables).values():
        value.setflags(write=False)
    return tables


SERVICE_TABLES = _build_tables()


@dataclass(frozen=True)
class RequestDistribution:
    """How requests and server background are drawn (spec c step 5 and e; ranges [paper], laws [ours])."""

    od_data_mb: tuple[float, float] = (1.0, 10.0)
    """Uniform range of an OD request's raw data, MB."""
    mot_data_mb: tuple[float, float] = (5.0, 20.0)
    """Uniform range of a MOT request's raw data, MB."""
    od_deadlines_s: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0)
    """OD deadlines, drawn uniformly from this set, s."""
    mot_deadlines_s: tuple[float, ...] = (1.0, 5.0, 10.0, 15.0, 20.0, 25.0)
    """MOT deadlines, drawn uniformly from this set, s."""
    background_tflop: tuple[float, float] = (0.1, 0.3)
    """Uniform range of a server's background queue h_sys per slot, TFLOP."""
    background_memory_mb: tuple[float, float] = (100.0, 900.0)
    """Uniform range of a server's background memory H_mem per slot, MB."""

    def __post_init__(self) -> None:
        for name in ("od_data_mb", "mot_data_mb", "background_tflop", "background_memory_mb"):
            low, high = getattr(self, name)
            if not 0.0 <= low <= high:
                raise ValueError(f"{name} must be a range 0 <= low <= high, got {getattr(self, name)}")
        for name in ("od_deadlines_s", "mot_deadlines_s"):
            if not getattr(self, name) or min(getattr(self, name)) <= 0:
                raise ValueError(f"{name} must be a non-empty set of positive deadlines")


@dataclass(frozen=True)
class EpisodeDraws:
    """An episode's requests and server background, one row per slot.

    Shapes (T slots, R requests per slot in agent order, V servers):
        local: (T, R) int64, the request's local server v_u.
        data_mb: (T, R) float64, raw data data_u, MB.
        deadline_s: (T, R) float64, dreq_u, s.
        background_tflop: (T, V) float64, h_sys, TFLOP of queued work.
        background_memory_mb: (T, V) float64, H_mem, MB.
    """

    local: np.ndarray
    data_mb: np.ndarray
    deadline_s: np.ndarray
    background_tflop: np.ndarray
    background_memory_mb: np.ndarray


def draw_episode(
    rng: np.random.Generator,
    services: np.ndarray,
    num_slots: int,
    num_servers: int,
    distribution: RequestDistribution | None = None,
    server_xy_km: np.ndarray | None = None,
) -> EpisodeDraws:
    """Draw ``num_slots`` slots of requests (one per entry of ``services``) and server background.

    Draws, in this order, all slots at once: the local servers ((T, R) uniform integers, or, when
    ``server_xy_km`` is given, user points uniform in the servers' bounding box ((T, R, 2)) mapped
    to their nearest server); raw data (T, R) uniform in the service's range; deadline indices
    (T, R) uniform over the service's set; background work (T, V); background memory (T, V).

    Shapes: services (R,) of :class:`Service` values; server_xy_km (V, 2) km or None.
    """
    dist = distribution or RequestDistribution()
    services = np.asarray(services, dtype=np.int64)
    shape = (num_slots, services.size)
    if server_xy_km is None:
        local = rng.integers(0, num_servers, shape)
    else:
        users = rng.uniform(server_xy_km.min(axis=0), server_xy_km.max(axis=0), (*shape, 2))
        gaps = np.linalg.norm(users[..., None, :] - server_xy_km, axis=-1)  # (T, R, V)
        local = gaps.argmin(axis=-1)
    is_od = services == Service.OD
    low = np.where(is_od, dist.od_data_mb[0], dist.mot_data_mb[0])
    high = np.where(is_od, dist.od_data_mb[1], dist.mot_data_mb[1])
    data_mb = rng.uniform(low, high, shape)
    sets = (dist.od_deadlines_s, dist.mot_deadlines_s)
    table = np.full((NUM_SERVICES, max(map(len, sets))), np.nan)
    for service, values in enumerate(sets):
        table[service, : len(values)] = values
    counts = np.array([len(values) for values in sets])[services]
    deadline_s = table[services, rng.integers(0, counts, shape)]
    return EpisodeDraws(
        local=local.astype(np.int64),
        data_mb=data_mb,
        deadline_s=deadline_s,
        background_tflop=rng.uniform(*dist.background_tflop, (num_slots, num_servers)),
        background_memory_mb=rng.uniform(*dist.background_memory_mb, (num_slots, num_servers)),
    )
