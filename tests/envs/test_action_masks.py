"""Action masks in Gymnasium's layout: their spaces, building them, and the padded form the joint policies
read."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from edgeplace.envs.action_masks import (
    concatenated,
    discrete_mask,
    entry_row,
    mask_space,
    multi_discrete_mask,
    padded_parts,
    sub_action_sizes,
)


def test_masks_have_the_layout_gymnasium_samples_under():
    discrete, multi = gym.spaces.Discrete(4), gym.spaces.MultiDiscrete([2, 3])
    d_mask, m_mask = discrete_mask([0, 1, 0, 1]), multi_discrete_mask([[1, 0], [0, 0, 1]])
    assert mask_space(discrete).contains(d_mask) and mask_space(multi).contains(m_mask)
    assert not mask_space(discrete).contains(d_mask.astype(np.float32))  # int8, as Gymnasium asks
    discrete.seed(0)
    multi.seed(0)
    assert {int(discrete.sample(mask=d_mask)) for _ in range(50)} == {1, 3}
    assert {tuple(multi.sample(mask=m_mask).tolist()) for _ in range(20)} == {(0, 2)}
    with pytest.raises(TypeError, match="Discrete and 1-d MultiDiscrete"):
        sub_action_sizes(gym.spaces.Box(0, 1, (2,)))


def test_a_multi_discrete_mask_is_read_only_views_of_one_buffer():
    mask = multi_discrete_mask([np.ones(2, bool), np.array([True, False, True])])
    assert [part.dtype for part in mask] == [np.int8, np.int8]
    assert concatenated(mask).tolist() == [1, 1, 1, 0, 1] and np.shares_memory(mask[0], mask[1].base)
    with pytest.raises(ValueError, match="read-only"):
        mask[1][1] = 1


def test_padded_parts_put_each_agents_values_first():
    od, mot = multi_discrete_mask([[1, 1], [1, 0, 1, 1]]), multi_discrete_mask([[0, 1], [1, 1, 1]])
    first, second = padded_parts([od, mot])  # widths: the widest of each sub-action
    assert first.tolist() == [[True, True], [False, True]]
    assert second.tolist() == [[True, False, True, True], [True, True, True, False]]
    assert [part.shape for part in padded_parts([od, mot], (3, 5))] == [(2, 3), (2, 5)]
    with pytest.raises(ValueError, match="do not fit the padded sizes"):
        padded_parts([od], (2, 3))
    with pytest.raises(ValueError, match="different numbers of sub-actions"):
        padded_parts([od, discrete_mask([1, 0])])


def test_entry_row_selects_a_row_of_either_layout():
    batched = (np.arange(6).reshape(3, 2), np.arange(9).reshape(3, 3))
    assert [part.tolist() for part in entry_row(batched, 1)] == [[2, 3], [3, 4, 5]]
    assert entry_row(np.arange(6).reshape(3, 2), 2).tolist() == [4, 5]
