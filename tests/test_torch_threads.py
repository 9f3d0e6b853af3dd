"""The driver's torch thread count is set for a block and restored after it, errors included."""

from __future__ import annotations

import pytest
import torch

from edgeplace.torch_threads import torch_threads


def test_threads_are_set_inside_and_restored_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="boom"), torch_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_zero_threads_is_rejected():
    with pytest.raises(ValueError, match="count must be >= 1"), torch_threads(0):
        pass
