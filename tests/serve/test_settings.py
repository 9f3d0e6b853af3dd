"""Application arguments: the ``serve run`` string form and the YAML form, errors that name the
field, and checkpoints that cannot be served failing before anything starts."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from edgeplace.algos.checkpoints import METADATA_FILE, CheckpointError
from edgeplace.serve.app import build_app
from edgeplace.serve.server import (
    HAPROXY_ENV,
    HAPROXY_PORT_ENVS,
    THROUGHPUT_OPTIMIZED_ENV,
    run_server,
    serve_switches,
)
from edgeplace.serve.settings import CheckpointSpec, ServeArgs


def test_arguments_parse_from_serve_run_strings_and_yaml_mappings():
    args = ServeArgs.model_validate({"checkpoints": "mappo=runs/a, runs/b", "top_k": "3"})
    assert args.checkpoints == [CheckpointSpec(path="runs/a", name="mappo"), CheckpointSpec(path="runs/b")]
    assert args.top_k == 3
    mapping = {"path": "runs/a", "name": "zero-shot", "topology": "synthetic:genai-medium"}
    assert ServeArgs.model_validate({"checkpoints": [mapping]}).checkpoints[0].topology == mapping["topology"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"checkpoints": []}, "checkpoints"),
        ({"checkpoints": ["runs/a"], "top_k": 0}, "top_k"),
        ({"checkpoints": ["runs/a"], "max_batch_requests": 5000}, "max_batch_requests"),
        ({"checkpoints": ["runs/a"], "bogus": 1}, "bogus"),
        ({"checkpoints": [{"path": "runs/a", "nmae": "typo"}]}, "nmae"),
    ],
)
def test_bad_arguments_name_the_field(args, field):
    with pytest.raises(ValidationError, match=field):
        ServeArgs.model_validate(args)


def test_unservable_checkpoints_fail_before_anything_starts(tmp_path, tiny_checkpoint):
    with pytest.raises(CheckpointError, match="not an edgeplace checkpoint"):
        run_server([str(tmp_path)], port=1, address=None, blocking=False, throughput_optimized=False)
    with pytest.raises(ValueError, match="used twice"):
        build_app({"checkpoints": [str(tiny_checkpoint), str(tiny_checkpoint)]})
    other = tmp_path / "other"
    other.mkdir()
    (other / METADATA_FILE).write_text(json.dumps({"scenario": "vne", "name": "x"}))
    with pytest.raises(ValueError, match="no Serve placer"):
        build_app({"checkpoints": [str(other)]})


def test_serve_switches_of_each_ingress():
    assert serve_switches(throughput_optimized=False, haproxy=False) == {}
    assert serve_switches(throughput_optimized=True, haproxy=False) == {THROUGHPUT_OPTIMIZED_ENV: "1"}
    haproxy = serve_switches(throughput_optimized=False, haproxy=True)
    assert haproxy[THROUGHPUT_OPTIMIZED_ENV] == haproxy[HAPROXY_ENV] == "1"
    side_ports = [int(haproxy[name]) for name in HAPROXY_PORT_ENVS]
    assert len(set(side_ports)) == 2 and all(1024 <= port < 65536 for port in side_ports)
