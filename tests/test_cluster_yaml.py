"""cluster.yaml passes the schema `ray up` enforces (offline), and broken copies are rejected by key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edgeplace.tuning.cluster_config import ClusterConfigError, validate_cluster_config

CLUSTER_YAML = Path(__file__).resolve().parents[1] / "cluster.yaml"


def test_cluster_yaml_validates_offline():
    config = validate_cluster_config(CLUSTER_YAML)
    head, workers = config["available_node_types"]["head.cpu"], config["available_node_types"]["worker.gpu"]
    assert config["head_node_type"] == "head.cpu" and config["provider"]["type"] == "aws"
    assert head["resources"] == {"CPU": 0} and head["max_workers"] == 0
    assert workers["resources"]["GPU"] == 1 and workers["min_workers"] < workers["max_workers"]
    setup = config["setup_commands"]
    torch_at = next(i for i, cmd in enumerate(setup) if "torch" in cmd)
    package_at = next(i for i, cmd in enumerate(setup) if "-e ~/edgeplace" in cmd)
    assert torch_at < package_at, "torch is installed before the package"
    assert config["file_mounts"] == {"~/edgeplace": "."} and not config["docker"]


def broken_copy(tmp_path: Path, change) -> Path:
    config = yaml.safe_load(CLUSTER_YAML.read_text())
    change(config)
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(bogus_key=1), "Additional properties are not allowed ('bogus_key'"),
        (lambda c: c.update(max_workers="four"), "max_workers: 'four' is not of type 'integer'"),
        (
            lambda c: c["available_node_types"]["worker.gpu"].update(max_workers="four"),
            "available_node_types.worker.gpu.max_workers: 'four' is not of type 'integer'",
        ),
        (
            lambda c: c["available_node_types"]["worker.gpu"]["resources"].update(GPU=0.5),
            "available_node_types.worker.gpu.resources.GPU: 0.5 is not of type 'integer'",
        ),
        (
            lambda c: c["available_node_types"]["worker.gpu"].update(min_worker=1),
            "available_node_types.worker.gpu: Additional properties are not allowed ('min_worker'",
        ),
        (
            lambda c: c.update(setup_commands="pip install ."),
            "setup_commands: 'pip install .' is not of type",
        ),
    ],
)
def test_broken_copies_are_rejected_naming_the_key(tmp_path, change, message):
    with pytest.raises(ClusterConfigError) as err:
        validate_cluster_config(broken_copy(tmp_path, change))
    assert message in str(err.value)
