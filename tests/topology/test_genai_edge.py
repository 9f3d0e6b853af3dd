import warnings
from pathlib import Path

import numpy as np
import pytest

from edgeplace.topology import TopologyError, load_genai_edge

INFO = """ServerID,Longitude,Latitude,LinkBandwidth,ComputationCapacity,StorageCapacity,TrafficRate
3,7.0,47.0,50,40,20,30
1,7.5,47.2,50,30,25,35
2,8.0,46.8,40,20,15,25
"""
TOPOLOGY = """,1,2,3
1,0,1,0
2,1,0,1
3,0,1,0"""
DEPLOYMENT = """ModelID,ModelType,ArenaScore,ServerID
1,1,1,3
2,2,0.5,1
3,3,0.25,2
"""
TASKS = """UserId,La,Lo,route,w1,w2,size
1,47.1,7.2,"[1, 2, 3, 1, 3]",0.2,0.3,0
2,46.9,7.9,"[1, 1, 1, 1, 2]",0.5,0.5,521
"""
FILES = {
    "info": "srv_information.csv",
    "topology": "srv_topology.csv",
    "deployment": "srv_RandomDeployment.CSV",
    "train": "train.CSV",
    "test": "test.csv",
}


def write_dataset(root: Path, *, encoding: str = "ascii", **texts: str) -> Path:
    """A tiny valid dataset (ServerIDs 3, 1, 2; links 1-2, 2-3) with some files replaced by ``texts``."""
    root.mkdir(exist_ok=True)
    defaults = {"info": INFO, "topology": TOPOLOGY, "deployment": DEPLOYMENT, "train": TASKS, "test": TASKS}
    for key, name in FILES.items():
        text = texts.get(key, defaults[key])
        (root / name).write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return root


def test_minimal_dataset(tmp_path):
    data = load_genai_edge(write_dataset(tmp_path / "Tiny"))
    s = data.substrate
    assert s.name == "genai-edge:Tiny" and s.resource_names == ("compute",)
    np.testing.assert_array_equal(s.node_ids, [1, 2, 3])
    np.testing.assert_array_equal(s.capacity[:, 0], [30, 20, 40])
    np.testing.assert_array_equal(s.node_features["storage"], [25, 15, 20])
    np.testing.assert_array_equal(s.node_features["traffic_rate"], [35, 25, 30])
    np.testing.assert_array_equal(s.coords[0], [7.5, 47.2])
    np.testing.assert_array_equal(s.edge_index, [[0, 1], [1, 2]])
    np.testing.assert_array_equal(s.bandwidth_mb_s, [40, 40])
    assert ((s.delay_s > 1e-4) & (s.delay_s < 1e-3)).all()  # tens of km of fibre
    np.testing.assert_array_equal(data.deployment.node, [2, 0, 1])
    np.testing.assert_array_equal(data.deployment.model_type, [1, 2, 3])
    assert data.deployment.name == "RandomDeployment" and data.deployment.model_name is None
    tasks = data.tasks["train"]
    np.testing.assert_array_equal(tasks.route, [[1, 2, 3, 1, 3], [1, 1, 1, 1, 2]])
    np.testing.assert_allclose(tasks.quality_preference, [0.4, 0.5])
    np.testing.assert_array_equal(tasks.size, [0, 521])
    np.testing.assert_array_equal(tasks.lat, [47.1, 46.9])
    assert set(data.tasks) == {"train", "test"}


def test_server_ids_need_not_be_one_to_n(tmp_path):
    info = INFO.replace("\n3,", "\n30,").replace("\n1,", "\n10,").replace("\n2,", "\n20,")
    topology = ",10,20,30\n10,0,1,0\n20,1,0,1\n30,0,1,0\n"
    deployment = DEPLOYMENT.replace(",3\n", ",30\n").replace(",1\n", ",10\n").replace(",2\n", ",20\n")
    data = load_genai_edge(write_dataset(tmp_path, info=info, topology=topology, deployment=deployment))
    np.testing.assert_array_equal(data.substrate.node_ids, [10, 20, 30])
    np.testing.assert_array_equal(data.deployment.node, [2, 0, 1])


def test_gbk_deployment_with_model_names(tmp_path):
    deployment = "ModelID,Model,ModelType,ArenaScore,ServerID\n1,DALL·E mini,2,0.5,1\n"
    data = load_genai_edge(write_dataset(tmp_path, deployment=deployment, encoding="gbk"))
    assert data.deployment.model_name == ("DALL·E mini",)


def test_asymmetric_adjacency_is_repaired_by_or(tmp_path):
    topology = ",1,2,3\n1,0,1,1\n2,1,0,1\n3,0,1,0\n"
    with pytest.warns(
        UserWarning, match=r"not symmetric \(1 one-way entries: 1->3\); repaired by logical OR"
    ):
        data = load_genai_edge(write_dataset(tmp_path, topology=topology))
    np.testing.assert_array_equal(data.substrate.edge_index, [[0, 0, 1], [1, 2, 2]])


def _replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


BAD_INPUTS = {
    "non-numeric cell": (
        "info",
        _replace(INFO, "7.5,47.2,50,30", "7.5,47.2,50,abc"),
        3,
        "ComputationCapacity",
        "not a number: 'abc'",
    ),
    "missing column": (
        "info",
        _replace(INFO, "TrafficRate", "Traffic"),
        None,
        "TrafficRate",
        "missing column",
    ),
    "duplicate ServerID": (
        "info",
        _replace(INFO, "\n2,8.0", "\n1,8.0"),
        4,
        "ServerID",
        "duplicate ServerID 1",
    ),
    "negative capacity": ("info", _replace(INFO, "40,20,15", "40,-20,15"), 4, "ComputationCapacity", ">= 0"),
    "ragged row": ("info", _replace(INFO, "50,40,20,30", "50,40,20"), 2, None, "expected 7 cells"),
    "unknown label": (
        "topology",
        ",1,2,4\n1,0,1,0\n2,1,0,1\n4,0,1,0\n",
        1,
        "column labels",
        "unknown server ID 4",
    ),
    "non-square": ("topology", ",1,2,3\n1,0,1,0\n2,1,0,1\n", None, None, "not square"),
    "row labels differ": ("topology", ",1,2,3\n2,1,0,1\n1,0,1,0\n3,0,1,0\n", 2, None, "row label 2 differs"),
    "not 0/1": ("topology", ",1,2,3\n1,0,2,0\n2,1,0,1\n3,0,1,0\n", 2, "adjacency", "must be <= 1"),
    "self loop": ("topology", ",1,2,3\n1,0,1,0\n2,1,1,1\n3,0,1,0\n", 3, "2", "self loop"),
    "disconnected": (
        "topology",
        ",1,2,3\n1,0,1,0\n2,1,0,0\n3,0,0,0\n",
        None,
        None,
        r"sizes \[2, 1\]; e.g. node id 3",
    ),
    "unknown deployment server": (
        "deployment",
        _replace(DEPLOYMENT, "0.5,1", "0.5,9"),
        3,
        "ServerID",
        "unknown server ID 9",
    ),
    "model type": ("deployment", _replace(DEPLOYMENT, "2,2,0.5", "2,5,0.5"), 3, "ModelType", "must be <= 3"),
    "malformed route": (
        "train",
        _replace(TASKS, '"[1, 1, 1, 1, 2]"', '"[1, 1,"'),
        3,
        "route",
        "expected a list",
    ),
    "route type": ("train", _replace(TASKS, "[1, 2, 3, 1, 3]", "[1, 2, 4, 1, 3]"), 2, "route", "model types"),
    "route length": ("test", _replace(TASKS, "[1, 1, 1, 1, 2]", "[1, 1, 1, 2]"), 3, "route", "4 stages"),
    "zero weights": ("train", _replace(TASKS, "0.2,0.3", "0,0"), 2, "w1", "both 0"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_names_file_row_and_field(tmp_path, case):
    key, text, row, field, message = BAD_INPUTS[case]
    root = write_dataset(tmp_path, **{key: text})
    with pytest.raises(TopologyError, match=message) as info:
        load_genai_edge(root)
    err = info.value
    assert err.source == str(root / FILES[key])
    assert (err.row, err.field) == (row, field)
    assert str(err).startswith(str(root / FILES[key]))


def test_missing_directory_and_files(tmp_path):
    with pytest.raises(TopologyError, match="not a directory"):
        load_genai_edge(tmp_path / "nope")
    root = write_dataset(tmp_path)
    with pytest.raises(TopologyError, match="SingleDeployment deployment file"):
        load_genai_edge(root, deployment="SingleDeployment")
    (root / FILES["topology"]).unlink()
    with pytest.raises(TopologyError, match="exactly one topology file") as info:
        load_genai_edge(root)
    assert info.value.source == str(root)


# ---- the real data set -------------------------------------------------------------------------

REAL = {"Server1": (25, 49), "Server2": (50, 51), "Server3": (100, 150), "Server4": (30, 35)}


@pytest.fixture(scope="module")
def real(genai_edge_root):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = {name: load_genai_edge(genai_edge_root / name) for name in REAL}
    return loaded, [str(w.message) for w in caught]


@pytest.mark.parametrize("name", list(REAL))
def test_real_directories(real, name):
    data = real[0][name]
    nodes, edges = REAL[name]
    s = data.substrate
    assert (s.num_nodes, s.num_edges) == (nodes, edges)
    np.testing.assert_array_equal(s.node_ids, np.arange(1, nodes + 1))
    assert data.deployment.model_id.size == 227
    np.testing.assert_array_equal(np.bincount(data.deployment.model_type), [0, 191, 30, 6])
    assert {k: v.num_tasks for k, v in data.tasks.items()} == {"train": 1000, "test": 200}
    assert data.tasks["train"].route.shape == (1000, 5)
    pref = data.tasks["train"].quality_preference
    assert ((pref >= 0) & (pref <= 1)).all()
    assert (s.bandwidth_mb_s == 50).all()


def test_real_quirks(real, genai_edge_root):
    data, messages = real
    assert len(messages) == 1 and "server2_topology.csv" in messages[0] and "1->15, 1->35" in messages[0]
    np.testing.assert_array_equal(
        np.sort(np.setdiff1d(np.arange(100), data["Server3"].deployment.node)), [68, 79]
    )
    assert "DALL·E mini" in data["Server4"].deployment.model_name
    assert data["Server1"].tasks["train"].size.max() == 521
    assert (data["Server4"].tasks["train"].size == 0).sum() == 2
    assert data["Server1"].deployment.node[0] == 12  # ModelID 1 sits on ServerID 13
    assert data["Server2"].substrate.paths.hops.max() == 24
    single = load_genai_edge(genai_edge_root / "Server4", deployment="SingleDeployment")
    assert single.deployment.name == "SingleDeployment"
    assert np.unique(single.deployment.node[single.deployment.model_type == 1]).size == 18
