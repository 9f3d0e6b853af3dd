"""The GenAI edge dataset shipped as package data: short URIs, byte identity, packaging, errors."""

from __future__ import annotations

import hashlib
import re
import shutil
import tomllib
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from edgeplace.topology import (
    SHIPPED_GENAI_EDGE,
    TopologyError,
    load_genai_edge,
    load_topology,
    shipped_data,
    shipped_genai_edge_root,
)
from tests.conftest import REPO_ROOT

#: Files of the shipped copy that are not in the source folder, and the other way round.
OURS, THEIRS = {"PROVENANCE.md"}, {"README.md"}
BOTH_FORMS = ("genai-edge:S1 .. genai-edge:S4", "genai-edge:DIR")


def files_under(root: Path) -> set[str]:
    """Every file below ``root`` as a POSIX path relative to it (no caches)."""
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def git_blob_hash(data: bytes) -> str:
    """What ``git hash-object`` prints for a file holding ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@pytest.mark.filterwarnings("ignore:.*adjacency is not symmetric")  # S2, repaired by the loader
@pytest.mark.parametrize("name", list(SHIPPED_GENAI_EDGE))
def test_short_uri_loads_the_same_substrate_as_the_directory(name, genai_edge_root):
    directory = genai_edge_root / SHIPPED_GENAI_EDGE[name]
    short, long = load_topology(f"genai-edge:{name}"), load_topology(f"genai-edge:{directory}")
    assert short.name == long.name == f"genai-edge:{directory.name}"
    for attribute in ("capacity", "edge_index", "bandwidth_mb_s", "delay_s", "node_ids", "coords"):
        np.testing.assert_array_equal(getattr(short, attribute), getattr(long, attribute), err_msg=attribute)
    assert short.node_features.keys() == long.node_features.keys()
    for key, values in short.node_features.items():
        np.testing.assert_array_equal(values, long.node_features[key])


def test_short_name_loads_the_whole_dataset(genai_edge_root):
    short, long = load_genai_edge("S4"), load_genai_edge(genai_edge_root / "Server4")
    assert short.substrate.num_nodes == 30
    np.testing.assert_array_equal(short.deployment.node, long.deployment.node)
    assert short.deployment.model_name == long.deployment.model_name
    for split in ("train", "test"):
        np.testing.assert_array_equal(short.tasks[split].route, long.tasks[split].route)
        np.testing.assert_array_equal(short.tasks[split].size, long.tasks[split].size)


@pytest.mark.parametrize("uri", ["genai-edge:S5", "genai-edge:S0", "genai-edge:S01"])
def test_unknown_short_name_names_both_forms(uri):
    name = uri.removeprefix("genai-edge:")
    with pytest.raises(TopologyError, match=rf"unknown shipped topology '{name}'") as info:
        load_topology(uri)
    assert info.value.source == uri
    assert all(form in str(info.value) for form in BOTH_FORMS)


def test_missing_directory_names_both_forms(tmp_path):
    with pytest.raises(TopologyError, match="not a directory") as info:
        load_topology(f"genai-edge:{tmp_path / 'Server9'}")
    assert info.value.source == str(tmp_path / "Server9")
    assert all(form in str(info.value) for form in BOTH_FORMS)


def test_a_directory_named_like_a_short_name_is_a_path(tmp_path, monkeypatch, genai_edge_root):
    shutil.copytree(genai_edge_root / "Server4", tmp_path / "S1")
    monkeypatch.chdir(tmp_path)
    assert load_topology("genai-edge:./S1").num_nodes == 30  # the local copy of Server4
    assert load_genai_edge(Path("S1")).substrate.num_nodes == 30  # a Path is always a directory
    assert load_topology("genai-edge:S1").num_nodes == 25  # the shipped S1


def test_the_package_finds_its_data():
    root = resources.files("edgeplace") / "data" / "genai_edge"
    assert shipped_genai_edge_root() == root
    assert all((root / directory).is_dir() for directory in SHIPPED_GENAI_EDGE.values())
    assert "Copyright (c) 2025 Yan Gao" in (root / "LICENSE").read_text()
    provenance = (root / "PROVENANCE.md").read_text()
    assert (
        "github.com/gymorsiback/Value-Adaptive-Multi-Agent-PPO" in provenance and "`database/`" in provenance
    )


def test_a_zip_install_is_reported(tmp_path, monkeypatch):
    archive = tmp_path / "edgeplace.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("edgeplace/data/genai_edge/LICENSE", "MIT")
    monkeypatch.setattr(shipped_data.resources, "files", lambda package: zipfile.Path(archive, f"{package}/"))
    with pytest.raises(TopologyError, match="not on the file system") as info:
        load_topology("genai-edge:S1")
    assert all(form in str(info.value) for form in BOTH_FORMS)


def test_package_data_globs_match_every_shipped_file():
    """A wheel (non-editable install) holds what the globs select: that must be every data file."""
    package_data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    package = REPO_ROOT / "edgeplace"
    selected = {
        p.relative_to(package).as_posix()
        for pattern in package_data["edgeplace"]
        for p in package.glob(pattern)
    }
    shipped = {f"data/{name}" for name in files_under(package / "data")}
    assert shipped <= selected, sorted(shipped - selected)
    assert any(name.endswith(".csv") for name in shipped) and any(name.endswith(".CSV") for name in shipped)


def test_provenance_lists_every_shipped_file_with_its_git_blob_hash(genai_edge_root):
    table = re.findall(
        r"^\| `([^`]+)` \| (\d+) \| `([0-9a-f]{40})` \|$",
        (genai_edge_root / "PROVENANCE.md").read_text(),
        re.M,
    )
    assert {name for name, _, _ in table} == files_under(genai_edge_root) - OURS
    for name, size, blob in table:
        data = (genai_edge_root / name).read_bytes()
        assert (len(data), git_blob_hash(data)) == (int(size), blob), name


def test_shipped_files_are_byte_identical_to_the_source(genai_edge_root, shared_genai_edge):
    assert files_under(genai_edge_root) - OURS == files_under(shared_genai_edge) - THEIRS
    for name in sorted(files_under(genai_edge_root) - OURS):
        assert (genai_edge_root / name).read_bytes() == (shared_genai_edge / name).read_bytes(), name
