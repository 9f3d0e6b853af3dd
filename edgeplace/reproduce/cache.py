"""What produced a reproduction's cached artefact, as a digest stored beside it.

Each cached file ``X.csv`` has ``X.digest.json`` beside it: the SHA-256 of a canonical JSON of its
:class:`Provenance` (the artefact's kind and name and the inputs that matter) and those inputs in
readable form. A reader reuses the file only while the stored digest is the one its inputs give now;
:meth:`Provenance.stale_reason` says why not (a missing or unreadable digest file counts as stale).

The canonical JSON is stable across processes and spellings of the same value: mapping keys are sorted,
tuples are lists, paths are strings, numpy scalars are Python numbers, and a float with an integral
value is that integer (``30.0`` and ``30`` give one digest).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from edgeplace.atomic_io import write_text_atomic

DIGEST_SUFFIX = ".digest.json"
#: Differing fields named in a stale message; the rest are counted.
SHOWN_DIFFERENCES = 4
#: Characters of one value in a stale message.
SHOWN_VALUE_CHARS = 40


def package_version() -> str:
    """The installed edgeplace distribution's version ("unknown" when it is not installed)."""
    try:
        return version("edgeplace")
    except PackageNotFoundError:
        return "unknown"


def canonical(value: Any) -> Any:
    """``value`` as plain JSON types (see the module docstring); other types raise TypeError, so a
    producer that cannot be described is never digested by its ``repr``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise TypeError(f"cannot digest a {type(value).__name__}: {value!r}")


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value``: sorted keys, no whitespace."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"))


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (a checkpoint's metadata, a network's weights)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digest_path(artefact: Path) -> Path:
    """Where the digest of ``artefact`` lives: ``X.csv`` -> ``X.digest.json``."""
    return artefact.with_name(artefact.stem + DIGEST_SUFFIX)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A canonical value's leaves by dotted key (``budget.model.d_model``); lists are leaves."""
    if not isinstance(value, dict):
        return {prefix: value}
    leaves: dict[str, Any] = {}
    for key, item in value.items():
        leaves |= flatten(item, f"{prefix}.{key}" if prefix else key)
    return leaves


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """The fields of two canonical mappings that differ, as ``key: old -> new`` ("absent" where one
    lacks the key), names first, at most :data:`SHOWN_DIFFERENCES` of them."""
    before, after = flatten(dict(old)), flatten(dict(new))
    keys = sorted(
        (key for key in before.keys() | after.keys() if before.get(key, ...) != after.get(key, ...)),
        key=lambda key: (key.rsplit(".", 1)[-1] != "name", key),
    )

    def shown(leaves: dict[str, Any], key: str) -> str:
        text = json.dumps(leaves[key]) if key in leaves else "absent"
        return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 3] + "..."

    parts = [f"{key}: {shown(before, key)} -> {shown(after, key)}" for key in keys[:SHOWN_DIFFERENCES]]
    if len(keys) > SHOWN_DIFFERENCES:
        parts.append(f"{len(keys) - SHOWN_DIFFERENCES} more")
    return "; ".join(parts)


def read_record(path: Path) -> dict[str, Any] | None:
    """The digest record at ``path``, or None when it is missing or unreadable."""
    try:
        record = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) and "digest" in record else None


@dataclass(frozen=True)
class Provenance:
    """What produced one artefact: its kind ("eval", "table", "run"), its name, and the inputs that
    matter (canonicalised; see :func:`canonical`)."""

    kind: str
    name: str
    inputs: Mapping[str, Any]

    @property
    def label(self) -> str:
        """``kind/name``, as messages name the artefact."""
        return f"{self.kind}/{self.name}"

    def record(self) -> dict[str, Any]:
        """The digest file's contents: the digest, then what it digests in readable form."""
        body = {"kind": self.kind, "name": self.name, "inputs": canonical(self.inputs)}
        return {"digest": hashlib.sha256(canonical_json(body).encode()).hexdigest(), **body}

    def stale_reason(self, path: Path) -> str | None:
        """None when the record at ``path`` holds this provenance's digest; else why it does not
        ("no digest" for a file an older edgeplace wrote, else the differing inputs)."""
        stored, now = read_record(path), self.record()
        if stored is None:
            return f"no digest in {path.name}"
        if stored["digest"] == now["digest"]:
            return None
        return differences(stored.get("inputs", {}), now["inputs"]) or "another digest"

    def save(self, path: Path) -> None:
        """Write the record to ``path`` atomically."""
        write_text_atomic(path, json.dumps(self.record(), indent=2, sort_keys=True) + "\n")
