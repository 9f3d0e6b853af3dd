"""Each agent's placement options (papers/llm-mappo.md, section c): its region's ES (padded), then its
EC, the cloud and NONE; and the region's links as (option, option) pairs for the observation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.metaverse_dag.network import EdgeNetwork

NONE = -1
"""Host node of a NONE (or padding) option."""


@dataclass(frozen=True, eq=False)
class RegionOptions:
    """Option index <-> node of every region, and each region's links.

    Shapes (K regions, O = es_pad + 3 options, L_k links padded to L):
        option_node: (K, O) int64 node of each option, -1 for padding and NONE (the last option).
        link_ids: (K, L) int64 network link ids, -1 padding; link_index: (K, 2, L) int64 option indices.
    """

    option_node: np.ndarray
    link_ids: np.ndarray
    link_index: np.ndarray

    @classmethod
    def of(cls, net: EdgeNetwork, es_pad: int | None) -> RegionOptions:
        """The options of ``net`` with ``es_pad`` ES rows per region (None: its largest region).

        Raises:
            ValueError: a region with more ES than ``es_pad`` (naming ``max_region_es``).
        """
        members = [net.region_es(k) for k in range(net.num_regions)]
        largest = max(m.size for m in members)
        pad = largest if es_pad is None else es_pad
        if largest > pad:
            raise ValueError(f"metaverse-dag env_config: max_region_es={pad} < {largest} ES in a region")
        options = pad + 3
        option_node = np.full((net.num_regions, options), NONE, np.int64)
        local = np.full((net.num_regions, net.num_nodes), -1, np.int64)
        blocks = []
        for k, es in enumerate(members):
            option_node[k, : es.size] = es
            option_node[k, pad], option_node[k, pad + 1] = net.ec(k), net.cloud
            local[k, option_node[k, : pad + 2][option_node[k, : pad + 2] >= 0]] = np.flatnonzero(
                option_node[k, : pad + 2] >= 0
            )
            inside = (local[k, net.link_src] >= 0) & (local[k, net.link_dst] >= 0)
            blocks.append(np.flatnonzero(inside))
        width = max(b.size for b in blocks)
        link_ids = np.full((net.num_regions, width), -1, np.int64)
        link_index = np.zeros((net.num_regions, 2, width), np.int64)
        for k, ids in enumerate(blocks):
            link_ids[k, : ids.size] = ids
            link_index[k, 0, : ids.size] = local[k, net.link_src[ids]]
            link_index[k, 1, : ids.size] = local[k, net.link_dst[ids]]
        return cls(option_node, link_ids, link_index)

    @property
    def num_options(self) -> int:
        """O."""
        return int(self.option_node.shape[1])

    @property
    def none_option(self) -> int:
        """Index of NONE."""
        return self.num_options - 1

    @property
    def ec_option(self) -> int:
        """Index of the region's EC."""
        return self.num_options - 3

    def nodes(self, options: np.ndarray) -> np.ndarray:
        """Host nodes of per-agent option choices. Shapes: (K, S) -> (K, S) int64, -1 for NONE."""
        return np.take_along_axis(self.option_node, options, axis=1)
