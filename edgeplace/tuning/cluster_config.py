"""Offline validation of a Ray cluster-launcher config (``cluster.yaml``) against the schema ``ray up``
enforces. Ray exposes it only through private modules: this is the one place that touches them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

#: Ray's cluster-config JSON schema, shipped inside ``ray.autoscaler``.
RAY_SCHEMA_FILE = "ray-schema.json"


class ClusterConfigError(ValueError):
    """The cluster config breaks Ray's schema (the message names the offending key path)."""


def validate_cluster_config(path: str | Path) -> dict[str, Any]:
    """Check the file as written against Ray's schema, fill in the provider defaults and validate the
    result, as ``ray up`` does before touching the cloud (the first pass names a mistyped key that
    would otherwise crash the default-filling). Returns the prepared config. No cloud call is made:
    each node type declares its ``resources``."""
    import jsonschema
    import ray.autoscaler
    from ray.autoscaler._private.util import prepare_config, validate_config

    path = Path(path)
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict):
        raise ClusterConfigError(f"{path}: expected a mapping at the top level")
    schema = json.loads((Path(ray.autoscaler.__file__).parent / RAY_SCHEMA_FILE).read_text())
    try:
        jsonschema.validate(raw, schema)
        prepared = prepare_config(raw)
        validate_config(prepared)
    except jsonschema.ValidationError as err:
        where = ".".join(str(part) for part in err.absolute_path) or "(top level)"
        raise ClusterConfigError(f"{path}: {where}: {err.message}") from None
    except (KeyError, ValueError, AssertionError) as err:
        raise ClusterConfigError(f"{path}: {err}") from None
    return prepared
