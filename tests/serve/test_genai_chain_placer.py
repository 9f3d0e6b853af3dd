"""The placer's top-k helper: allowed actions only, best first, softmax over the allowed ones."""

from __future__ import annotations

import numpy as np

from edgeplace.serve.genai_chain_placer import top_k_actions


def test_top_k_lists_allowed_actions_best_first_with_their_probabilities():
    logits = np.array([[1.0, 5.0, 3.0, 2.0], [0.0, 0.0, 4.0, -1.0]], dtype=np.float32)
    allowed = np.array([[True, False, True, True], [False, False, True, False]])
    top, probabilities, valid = top_k_actions(logits, allowed, k=3)
    assert top[0].tolist() == [2, 3, 0] and valid[0].all()
    expected = np.exp([3.0, 2.0, 1.0]) / np.exp([3.0, 2.0, 1.0]).sum()
    np.testing.assert_allclose(probabilities[0], expected)
    assert top[1, 0] == 2 and valid[1].tolist() == [True, False, False]
    assert probabilities[1, 0] == 1.0 and (probabilities[1, 1:] == 0.0).all()
    top, _, valid = top_k_actions(logits, allowed, k=10)
    assert top.shape == (2, 4) and valid.sum() == 4
