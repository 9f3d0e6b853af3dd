"""Digests of what produced a cached artefact: stable across processes and spellings, and a stale or
missing digest says why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from edgeplace.reproduce.cache import Provenance, canonical_json, differences, digest_path

INPUTS = {
    "budget": {"name": "quick", "timesteps": 76_800, "model": {"d_model": 64, "layers": [1, 2]}},
    "env_config": {"topology": "synthetic:genai-small", "split": "test", "rate": 0.1},
    "seeds": (0, 1),
}
#: Prints the digest of INPUTS in a fresh interpreter (another hash seed, another dict history).
DIGEST_SCRIPT = (
    "import json, sys; from edgeplace.reproduce.cache import Provenance; "
    "print(Provenance('eval', 'x', json.loads(sys.argv[1])).record()['digest'])"
)


def _digest(inputs: dict) -> str:
    return Provenance("eval", "x", inputs).record()["digest"]


def test_the_digest_ignores_key_order_and_the_spelling_of_equal_values():
    reordered = {
        "seeds": [np.int64(0), 1],
        "env_config": {"rate": np.float32(0.1).item(), "split": "test", "topology": "synthetic:genai-small"},
        "budget": {"model": {"layers": (1.0, 2), "d_model": 64}, "timesteps": 76_800.0, "name": "quick"},
    }
    assert list(reordered) != list(INPUTS)
    assert _digest(reordered) != _digest(INPUTS)  # float32(0.1) is not 0.1: a different input
    reordered["env_config"]["rate"] = 0.1
    assert _digest(reordered) == _digest(INPUTS)
    assert canonical_json({"b": 1, "a": Path("/x")}) == '{"a":"/x","b":1}'


def test_the_digest_is_the_same_in_another_process():
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    text = json.dumps(INPUTS)
    result = subprocess.run(
        [sys.executable, "-c", DIGEST_SCRIPT, text], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.strip() == _digest(INPUTS)


@dataclass(frozen=True)
class _Budget:
    name: str
    timesteps: int
    model: dict = field(default_factory=dict)


def test_a_dataclass_is_digested_by_its_fields_and_an_opaque_object_is_refused():
    assert canonical_json(_Budget("quick", 10)) == '{"model":{},"name":"quick","timesteps":10}'
    with pytest.raises(TypeError, match="cannot digest a function"):
        canonical_json({"make": lambda: None})


def test_a_stale_digest_names_the_differing_inputs_and_a_missing_one_says_so(tmp_path):
    path = digest_path(tmp_path / "episodes.csv")
    assert path.name == "episodes.digest.json"
    quick = Provenance("eval", "s4-M1", {"budget": _Budget("quick", 10), "episodes": 100})
    assert quick.stale_reason(path) == "no digest in episodes.digest.json"
    quick.save(path)
    assert quick.stale_reason(path) is None
    assert json.loads(path.read_text())["inputs"]["budget"]["name"] == "quick"  # readable
    paper = Provenance("eval", "s4-M1", {"budget": _Budget("paper", 20, {"d": 1}), "episodes": 100})
    assert paper.stale_reason(path) == (
        'budget.name: "quick" -> "paper"; budget.model.d: absent -> 1; budget.timesteps: 10 -> 20'
    )
    path.write_text("{not json")
    assert quick.stale_reason(path) == "no digest in episodes.digest.json"


def test_differences_are_capped_and_long_values_shortened():
    old = {f"k{i}": i for i in range(1, 5)} | {"a_long": "a" * 100, "same": 1}
    new = {f"k{i}": -i for i in range(1, 5)} | {"a_long": "b", "same": 1.0}
    text = differences(old, new)
    assert text.startswith(f'a_long: "{"a" * 36}... -> "b"; k1: 1 -> -1;') and "a" * 40 not in text
    assert text.endswith("; 1 more") and text.count("->") == 4 and "same" not in text
