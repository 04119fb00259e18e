import numpy as np
import pytest

from skgw.datasets import get_data_home, load_mutag, load_tudataset

# graphs, class counts, average nodes, average undirected edges, attribute dimension
PUBLISHED = {
    "AIDS": (2000, {0: 400, 1: 1600}, 15.69, 16.20, 4),
    "PROTEINS": (1113, {1: 663, 2: 450}, 39.06, 72.82, 1),
    "PROTEINS_full": (1113, {1: 663, 2: 450}, 39.06, 72.82, 29),
    "IMDB-BINARY": (1000, {0: 500, 1: 500}, 19.77, 96.53, 0),
    "MUTAG": (188, {-1: 63, 1: 125}, 17.93, 19.79, 0),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_statistics(name, tu_data_home):
    n_graphs, classes, nodes, edges, attributes = PUBLISHED[name]
    node_features = "attributes" if attributes else None
    data = load_tudataset(
        name, data_home=tu_data_home, node_features=node_features, download_if_missing=False
    )
    assert len(data.data) == n_graphs
    values, counts = np.unique(data.target, return_counts=True)
    assert dict(zip(values.tolist(), counts.tolist(), strict=True)) == classes
    assert round(np.mean([g.n_nodes for g in data.data]), 2) == nodes
    assert round(data.n_edges.mean(), 2) == edges
    assert data.data[0].n_node_features == attributes
    for g in data.data[:20]:
        np.testing.assert_array_equal(g.C, g.C.T)
        assert set(np.unique(g.C)) <= {0.0, 1.0}


def test_node_label_features(tu_data_home):
    graphs, _ = load_tudataset(
        "PROTEINS", data_home=tu_data_home, node_features="both", return_X_y=True
    )
    F = graphs[0].F
    assert F.shape[1] == 1 + 3
    np.testing.assert_array_equal(F[:, 1:].sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="no node attributes"):
        load_tudataset("IMDB-BINARY", data_home=tu_data_home, node_features="attributes")


def test_embedded_mutag_matches_the_files(tu_data_home):
    embedded, y = load_mutag(return_X_y=True)
    files, y_files = load_tudataset("MUTAG", data_home=tu_data_home, return_X_y=True)
    assert embedded == files
    np.testing.assert_array_equal(y, y_files)
    assert embedded[0].n_node_features == 7


def test_missing_dataset_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download is disabled"):
        load_tudataset("MUTAG", data_home=tmp_path, download_if_missing=False)


def test_a_name_spelled_otherwise_points_to_the_local_folder(tmp_path):
    (tmp_path / "MUTAG").mkdir()
    with pytest.raises(FileNotFoundError, match="mutag is not in .*, but MUTAG is"):
        load_tudataset("mutag", data_home=tmp_path)


def test_data_home_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SKGW_DATA", str(tmp_path))
    assert get_data_home() == tmp_path
    monkeypatch.delenv("SKGW_DATA")
    assert get_data_home().name == "skgw_data"


def test_failed_download_names_the_dataset_and_the_folder(monkeypatch, tmp_path):
    import urllib.error
    import urllib.request

    def unreachable(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    with pytest.raises(OSError, match=r"Could not download NOPE from https://.*NOPE_A\.txt"):
        load_tudataset("NOPE", data_home=tmp_path)


def test_embedded_mutag_node_features():
    plain = load_mutag(node_features=None).data
    assert all(g.F is None for g in plain) and len(plain) == 188
    for wrong in ("none", "attributes", "auto"):
        with pytest.raises(ValueError, match="node_features must be 'labels' or None"):
            load_mutag(node_features=wrong)
