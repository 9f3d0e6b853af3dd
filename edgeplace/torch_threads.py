"""Torch's intra-op thread count for small-batch work in the driver process.

On our 2-core machines a 2-thread torch op spin-waits whenever the other core is busy (a Ray worker,
a second job): one AgentVNE decision then takes ~300 ms instead of ~2 ms, and a pre-training epoch
~8x longer. Small batches gain little from a second thread, so drivers run them single-threaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` intra-op threads, then restore the previous count."""
    if count < 1:
        raise ValueError(f"torch_threads: count must be >= 1, got {count}")
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
