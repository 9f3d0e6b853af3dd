"""Per-prompt times (spec c): the formulas reproduce the spec's table, sharing slows GPU prompts by
1 / (1 - theta), and configurations that cannot run take forever."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.envs.lm_inference.time_model import prompt_time_s
from tests.envs.lm_inference.conftest import CPU, GPU, LM1, LM2, LM3, LM4, OFF, PARAMS

#: The spec's per-prompt table (s): CPU on 4 / 12 / 22 cores, GPU on 1 / 2 / 4 vGPUs with 2 host cores.
SPEC_TABLE = {
    LM1: ((20.0, 13.3, 11.8), (1.13, 0.84, 0.70)),
    LM2: ((64.0, 42.7, 37.8), (3.38, 2.36, 1.86)),
    LM3: (None, (1.69, 1.18, 0.93)),
    LM4: (None, (28.1, 16.2, 10.2)),
}


@pytest.mark.parametrize("lm", sorted(SPEC_TABLE))
def test_times_match_the_spec_table_to_its_precision(lm):
    cpu_row, gpu_row = SPEC_TABLE[lm]
    gpu = prompt_time_s(lm, GPU, 2, np.array([1, 2, 4]), PARAMS)
    np.testing.assert_allclose(gpu, gpu_row, rtol=0.006)  # the table rounds to 3 significant figures
    cpu = prompt_time_s(lm, CPU, np.array([4, 12, 22]), 0, PARAMS)
    if cpu_row is None:
        assert np.isinf(cpu).all()
    else:
        np.testing.assert_allclose(cpu, cpu_row, rtol=0.006)


def test_sharing_a_gpu_divides_the_speed_by_one_minus_theta():
    alone, shared = prompt_time_s(LM4, GPU, 3, 1, PARAMS, np.array([False, True]))
    assert shared == pytest.approx(alone / (1 - PARAMS.sharing_slowdown))
    assert prompt_time_s(LM1, CPU, 4, 0, PARAMS, True) == prompt_time_s(LM1, CPU, 4, 0, PARAMS)


def test_more_resources_give_diminishing_returns():
    times = prompt_time_s(LM2, CPU, np.arange(1, 23), 0, PARAMS)
    gains = -np.diff(times)
    assert (gains > 0).all() and (np.diff(gains) < 0).all()


@pytest.mark.parametrize(("mode", "cores", "vgpus"), [(OFF, 0, 0), (GPU, 2, 0), (CPU, 0, 0)])
def test_a_pod_that_cannot_run_never_finishes(mode, cores, vgpus):
    assert np.isinf(prompt_time_s(LM1, mode, cores, vgpus, PARAMS))
