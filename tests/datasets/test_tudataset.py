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


@pytest.mark.parametrize("home", ["tu_data_home", "mutag_tu_home"])
def test_embedded_mutag_matches_the_files(home, request):
    embedded, y = load_mutag(return_X_y=True)
    home = request.getfixturevalue(home)
    files, y_files = load_tudataset("MUTAG", data_home=home, return_X_y=True)
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


TINY = {
    "A": "1, 2\n2, 1\n3, 4\n4, 3\n",
    "graph_indicator": "1\n1\n2\n2\n",
    "graph_labels": "0\n1\n",
}


def _write_dataset(home, files, name="TINY"):
    (home / name).mkdir(parents=True)
    for suffix, text in files.items():
        (home / name / f"{name}_{suffix}.txt").write_text(text)


def test_a_well_formed_tiny_dataset(tmp_path):
    _write_dataset(tmp_path, {**TINY, "node_attributes": "1, 2\n3, 4\n\n5, 6\n7, 8\n"})
    graphs, y = load_tudataset("TINY", data_home=tmp_path, return_X_y=True)
    assert [g.n_nodes for g in graphs] == [2, 2] and y.tolist() == [0, 1]
    np.testing.assert_array_equal(graphs[1].F, [[5.0, 6.0], [7.0, 8.0]])  # blank line skipped
    np.testing.assert_array_equal(graphs[0].C, [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize(
    "case, files, message",
    [
        ("F16 index out of range", {"A": "1, 2\n2, 9\n"}, r"TINY_A.txt, line 2: node id 9, but"),
        ("F16 0-based", {"A": "0, 1\n1, 0\n"}, r"TINY_A.txt, line 1: node id 0 \(node ids are 1"),
        ("F16 3 columns", {"A": "1, 2, 3\n"}, r"TINY_A.txt, line 1: 3 values, expected two"),
        ("F16 ragged", {"A": "1, 2\n2\n"}, r"TINY_A.txt, line 2: 1 values, where line 1 has 2"),
        (
            "F16 text",
            {"A": "1, 2\n2, x\n"},
            r"TINY_A.txt, line 2: '2, x' is not a list of integers",
        ),
        (
            "F16 across graphs",
            {"A": "1, 2\n\n2, 3\n"},
            r"TINY_A.txt, line 3: the edge joins node 2",
        ),
        (
            "F17 unsorted indicator",
            {"graph_indicator": "1\n2\n1\n2\n"},
            r"graph_indicator.txt, line 3: graph id 1 after 2; the nodes of each graph",
        ),
        (
            "F17 skipped graph id",
            {"graph_indicator": "1\n1\n3\n3\n", "graph_labels": "0\n1\n0\n"},
            r"graph_indicator.txt, line 3: graph id jumps from 1 to 3; graph 2 has no node",
        ),
        (
            "F17 first id",
            {"graph_indicator": "0\n0\n1\n1\n"},
            r"line 1: the first graph id is 0, expected 1",
        ),
        (
            "F17 too many labels",
            {"graph_labels": "0\n1\n1\n"},
            r"TINY_graph_labels.txt: 3 graph labels, but TINY_graph_indicator.txt lists 2 graphs",
        ),
        ("F17 too few labels", {"graph_labels": "0\n"}, r"1 graph labels, but .* lists 2 graphs"),
        (
            "F17 too few attributes",
            {"node_attributes": "1, 2\n3, 4\n5, 6\n"},
            r"TINY_node_attributes.txt: 3 attribute rows, but .* lists 4 nodes",
        ),
        (
            "F17 NaN attribute",
            {"node_attributes": "1, 2\n3, nan\n5, 6\n7, 8\n"},
            r"TINY_node_attributes.txt, line 2: NaN or infinite value",
        ),
        (
            "F17 node labels",
            {"node_labels": "1\n2\n"},
            r"TINY_node_labels.txt: 2 node labels, but .* lists 4 nodes",
        ),
    ],
)
def test_f16_f17_malformed_files_name_the_file_and_line(tmp_path, case, files, message):
    _write_dataset(tmp_path, {**TINY, **files})
    with pytest.raises(ValueError, match=message):
        load_tudataset("TINY", data_home=tmp_path, download_if_missing=False)


def _zip(entries):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _serve(monkeypatch, payload):
    import io
    import urllib.request

    class Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *args):
            self.close()

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Response(payload))


def _tiny_zip(**changes):
    return _zip({f"TINY/TINY_{suffix}.txt": text for suffix, text in {**TINY, **changes}.items()})


def test_download_checks_the_known_checksums(monkeypatch, tmp_path):
    import hashlib

    from skgw.datasets import _tudataset

    digests = {
        f"TINY_{suffix}.txt": hashlib.sha256(text.encode()).hexdigest()
        for suffix, text in TINY.items()
    }
    monkeypatch.setattr(_tudataset, "_known_checksums", lambda: {"TINY": digests})
    _serve(monkeypatch, _tiny_zip(graph_labels="1\n1\n"))
    with pytest.raises(OSError, match="TINY_graph_labels.txt of TINY has SHA-256 .*, expected"):
        load_tudataset("TINY", data_home=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing installed, no temporary folder left
    _serve(monkeypatch, _tiny_zip())
    graphs, y = load_tudataset("TINY", data_home=tmp_path, return_X_y=True)
    assert len(graphs) == 2 and y.tolist() == [0, 1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["TINY"]


def test_download_of_an_unknown_dataset_warns(monkeypatch, tmp_path):
    _serve(monkeypatch, _tiny_zip())
    with pytest.warns(UserWarning, match="No checksum is known for TINY"):
        graphs, _ = load_tudataset("TINY", data_home=tmp_path, return_X_y=True)
    assert len(graphs) == 2


@pytest.mark.parametrize("unsafe", ["../evil.txt", "/tmp/evil.txt", "TINY/../../evil.txt"])
def test_download_refuses_paths_outside_the_folder(monkeypatch, tmp_path, unsafe):
    home = tmp_path / "home"
    payload = _zip({**{f"TINY/TINY_{s}.txt": t for s, t in TINY.items()}, unsafe: "x"})
    _serve(monkeypatch, payload)
    with pytest.raises(ValueError, match="unsafe path"):
        load_tudataset("TINY", data_home=home)
    assert not (tmp_path / "evil.txt").exists() and not (home / "TINY").exists()


def test_the_known_checksums_match_the_shared_files(tu_data_home):
    import hashlib

    from skgw.datasets._tudataset import _known_checksums

    checksums = _known_checksums()
    assert {"AIDS", "MUTAG", "PROTEINS", "DHFR", "NCI109"} <= checksums.keys()
    for name, files in checksums.items():
        for filename, digest in files.items():
            assert (
                hashlib.sha256((tu_data_home / name / filename).read_bytes()).hexdigest() == digest
            )
