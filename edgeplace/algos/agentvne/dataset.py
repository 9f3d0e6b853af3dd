"""The pre-training dataset: teacher rollouts in the agent-vne env (papers/agentvne.md, section f,
"Dataset").

Each episode draws lambda uniformly from ``rates`` and plays ``arrivals`` arrivals with the biased
NodeRank+BFS teacher; every arrival stores the pre-placement observation (the keys the networks and the
sampling distribution read), the NodeRank targets Y and loss mask of :mod:`labels`, and GAL-VNE's
unbiased node target. Same arguments and seed, same dataset.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from edgeplace.algos.agentvne.graphs import MODEL_KEYS, POLICY_KEYS
from edgeplace.algos.agentvne.labels import LabelMode, node_targets, noderank_targets
from edgeplace.algos.agentvne.settings import DEFAULT_RATES
from edgeplace.algos.agentvne.teacher import BiasedNodeRankTeacher
from edgeplace.atomic_io import write_bytes_atomic
from edgeplace.envs.agent_vne import AGENT_ID, AgentVNEConfig, AgentVNEEnv, VNEObsKey, static_network
from edgeplace.envs.base import ALL_AGENTS, EPISODE_INDEX_OPTION
from edgeplace.policy import act

#: Observation keys stored per sample (GAL-VNE also needs the bias to remove it from the features).
STORED_KEYS = tuple(dict.fromkeys((*MODEL_KEYS, *POLICY_KEYS, VNEObsKey.NODE_BIAS)))
TARGETS, LOSS_MASK, NODE_TARGETS = "targets", "loss_mask", "node_targets"
_METADATA = "__metadata__"


@dataclass(frozen=True, eq=False)
class VNEDataset:
    """K stored arrivals.

    Shapes: observations[key] (K, ...) as the env's space; targets, loss_mask (K, Nv, Ns) float32;
    node_targets (K, Ns) float32.
    """

    observations: Mapping[str, np.ndarray]
    targets: np.ndarray
    loss_mask: np.ndarray
    node_targets: np.ndarray
    env_config: Mapping[str, Any]
    label_mode: str = LabelMode.REALIZED
    rates: tuple[float, ...] = DEFAULT_RATES
    """The arrival rates the teacher episodes were drawn from."""

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    def subset(self, indices: np.ndarray) -> VNEDataset:
        """The samples at ``indices`` (K',) in that order."""
        return VNEDataset(
            {key: value[indices] for key, value in self.observations.items()},
            self.targets[indices],
            self.loss_mask[indices],
            self.node_targets[indices],
            self.env_config,
            self.label_mode,
            self.rates,
        )

    def split(self, train_fraction: float = 0.8, seed: int = 0) -> tuple[VNEDataset, VNEDataset]:
        """A seeded random (train, validation) split; each part keeps at least one sample."""
        if len(self) < 2 or not 0.0 < train_fraction < 1.0:
            raise ValueError(
                f"split: need >= 2 samples and 0 < train_fraction < 1, got {len(self)}, {train_fraction}"
            )
        order = np.random.default_rng(seed).permutation(len(self))
        cut = min(max(1, round(train_fraction * len(self))), len(self) - 1)
        return self.subset(np.sort(order[:cut])), self.subset(np.sort(order[cut:]))

    def batch(self, indices: np.ndarray) -> dict[str, Tensor]:
        """Tensors of the samples at ``indices``: the observation keys plus TARGETS, LOSS_MASK and
        NODE_TARGETS. Shapes: (K', ...)."""
        out = {key: torch.from_numpy(value[indices]) for key, value in self.observations.items()}
        out[TARGETS] = torch.from_numpy(self.targets[indices])
        out[LOSS_MASK] = torch.from_numpy(self.loss_mask[indices])
        out[NODE_TARGETS] = torch.from_numpy(self.node_targets[indices])
        return out

    def save(self, path: Path) -> None:
        """Write a compressed ``.npz`` atomically."""
        buffer = io.BytesIO()
        metadata = json.dumps(
            {"env_config": dict(self.env_config), "label_mode": str(self.label_mode), "rates": self.rates}
        )
        np.savez_compressed(
            buffer,
            **{f"obs/{key}": value for key, value in self.observations.items()},
            **{TARGETS: self.targets, LOSS_MASK: self.loss_mask, NODE_TARGETS: self.node_targets},
            **{_METADATA: np.array(metadata)},
        )
        write_bytes_atomic(Path(path), buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> VNEDataset:
        """Read a dataset written by :meth:`save`."""
        with np.load(Path(path)) as data:
            metadata = json.loads(str(data[_METADATA]))
            observations = {name[4:]: data[name] for name in data.files if name.startswith("obs/")}
            return cls(
                observations,
                data[TARGETS],
                data[LOSS_MASK],
                data[NODE_TARGETS],
                metadata["env_config"],
                metadata["label_mode"],
                tuple(metadata.get("rates", DEFAULT_RATES)),
            )


def collect_dataset(
    env_config: Mapping[str, Any] | None = None,
    *,
    episodes: int = 100,
    arrivals: int = 50,
    rates: Sequence[float] = DEFAULT_RATES,
    seed: int = 0,
    label_mode: LabelMode | str = LabelMode.REALIZED,
    on_episode: Callable[[], None] | None = None,
) -> VNEDataset:
    """Teacher rollouts: ``episodes`` x ``arrivals`` samples (fewer when the parser rejects a request
    outright). ``env_config``'s arrival rate and episode length are replaced per episode."""
    if episodes < 1 or arrivals < 1 or not rates:
        raise ValueError(
            f"collect_dataset: need episodes, arrivals >= 1 and rates, got {episodes}, {arrivals}"
        )
    base = AgentVNEConfig.from_env_config(env_config).to_env_config()
    static = static_network(base)
    teacher = BiasedNodeRankTeacher(static)
    rng = np.random.default_rng(seed)
    envs: dict[float, AgentVNEEnv] = {}
    records: list[dict[str, np.ndarray]] = []
    for episode in range(episodes):
        rate = float(rng.choice(np.asarray(rates, dtype=np.float64)))
        if rate not in envs:
            envs[rate] = AgentVNEEnv({**base, "arrival_rate": rate, "arrivals_per_episode": arrivals})
        env = envs[rate]
        observations, _ = env.reset(seed=seed, options={EPISODE_INDEX_OPTION: episode})
        while True:
            obs = observations[AGENT_ID]
            targets, loss_mask = noderank_targets(static, obs, label_mode)
            records.append(
                {
                    **{key: obs[key] for key in STORED_KEYS},
                    TARGETS: targets,
                    LOSS_MASK: loss_mask,
                    NODE_TARGETS: node_targets(static, obs),
                }
            )
            observations, _, terminated, truncated, _ = env.step(act(teacher, observations))
            if terminated[ALL_AGENTS] or truncated[ALL_AGENTS]:
                break
        if on_episode is not None:
            on_episode()
    stacked = {key: np.stack([record[key] for record in records]) for key in records[0]}
    return VNEDataset(
        {key: stacked[key] for key in STORED_KEYS},
        stacked[TARGETS],
        stacked[LOSS_MASK],
        stacked[NODE_TARGETS],
        base,
        str(LabelMode(label_mode)),
        tuple(float(rate) for rate in rates),
    )
