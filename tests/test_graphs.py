import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skgw import Graph, as_graphs


def _path_graph():
    C = np.array([[0, 1, 0], [1, 0, 2], [0, 2, 0]], dtype=float)
    F = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    return C, F


def test_formats_convert_to_the_same_graph():
    C, F = _path_graph()
    G = nx.Graph()
    for i, f in enumerate(F):
        G.add_node(i, x=f)
    G.add_edge(0, 1, weight=1.0)
    G.add_edge(1, 2, weight=2.0)
    p = np.full(3, 1 / 3)
    forms = [(C, F), (sp.csr_matrix(C), F), G, (C, F, p), {"C": C, "F": F}, Graph(C, p, F)]
    graphs = as_graphs(forms)
    for g in graphs[1:]:
        assert g == graphs[0]
    np.testing.assert_allclose(graphs[0].p, p)


def test_structure_only_and_3d_array():
    C, _ = _path_graph()
    dense, sparse, stacked = as_graphs([C, sp.coo_matrix(C)]) + as_graphs(np.stack([C]))
    assert dense == sparse == stacked
    assert dense.F is None


def test_object_vectors_are_collections_of_graphs():
    import pandas as pd

    C, F = _path_graph()
    graphs = [(C, F), (np.ones((2, 2)), np.zeros((2, 2)))]
    vector = np.empty(2, dtype=object)
    vector[:] = [as_graphs([g])[0] for g in graphs]
    expected = as_graphs(graphs)
    assert as_graphs(vector) == expected
    assert as_graphs(pd.Series(list(vector))) == expected


def test_two_d_table_rows_are_point_clouds():
    X = np.array([[0.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    g = as_graphs(X)[0]
    np.testing.assert_allclose(g.C, [[0, 1, 3], [1, 0, 2], [3, 2, 0]])
    np.testing.assert_allclose(g.F[:, 0], X[0])


def test_shortest_path_and_degree_options():
    C, _ = _path_graph()
    g = as_graphs([C], structure="shortest_path", node_weights="degree")[0]
    np.testing.assert_allclose(g.C, [[0, 1, 3], [1, 0, 2], [3, 2, 0]])
    np.testing.assert_allclose(g.p, np.array([1, 3, 2]) / 6)
    disconnected = as_graphs([np.zeros((2, 2))], structure="shortest_path")[0]
    np.testing.assert_allclose(disconnected.C, [[0, 1], [1, 0]])


def test_structure_option_applies_to_graph_objects_and_keeps_their_weights():
    C, _ = _path_graph()
    weights = np.array([0.5, 0.25, 0.25])
    given = Graph(C, weights)  # as the dataset loaders return them
    g = as_graphs([given], structure="shortest_path", node_weights="degree")[0]
    np.testing.assert_allclose(g.C, [[0, 1, 3], [1, 0, 2], [3, 2, 0]])
    np.testing.assert_array_equal(g.p, weights)
    np.testing.assert_array_equal(given.C, C)
    # a disconnected graph's distances (diameter + 1 between components) convert to themselves
    disconnected = as_graphs([np.kron(np.eye(2), C)], structure="shortest_path")[0]
    again = as_graphs([disconnected], structure="shortest_path")[0]
    np.testing.assert_array_equal(again.C, disconnected.C)


def test_user_arrays_are_not_modified():
    C, F = _path_graph()
    C_before, F_before = C.copy(), F.copy()
    g = as_graphs([(C, F)], structure="shortest_path")[0]
    np.testing.assert_array_equal(C, C_before)
    np.testing.assert_array_equal(F, F_before)
    assert not g.C.flags.writeable


def test_graph_holds_read_only_views_and_leaves_the_given_arrays_writeable():
    C, F = _path_graph()
    p = np.full(3, 1.0 / 3)
    g = Graph(C, p, F)
    assert C.flags.writeable and p.flags.writeable and F.flags.writeable
    assert not (g.C.flags.writeable or g.p.flags.writeable or g.F.flags.writeable)
    with pytest.raises(ValueError, match="read-only"):
        g.C[0, 1] = 5.0
    listed = Graph(C.tolist(), p.tolist())  # array-likes are read as arrays
    np.testing.assert_array_equal(listed.C, C)
    assert listed.F is None and listed.n_nodes == 3


@pytest.mark.parametrize(
    "graphs, error, message",
    [
        ([np.eye(2), np.array([[0, np.nan], [1, 0]])], ValueError, "Graph 1: structure contains"),
        ([np.array([[0, np.inf], [1, 0]])], ValueError, "Graph 0: structure contains NaN or inf"),
        ([np.eye(2) * 1j], ValueError, "Graph 0: structure is complex"),
        ([np.array([["a", "b"], ["c", "d"]], dtype=object)], TypeError, "Graph 0: structure has"),
        ([np.ones((2, 3))], ValueError, "Graph 0: structure must be a square"),
        ([np.zeros((0, 0))], ValueError, "Graph 0: empty graph"),
        ([np.eye(2), -np.eye(2)], ValueError, "Graph 1: structure has negative"),
        ([(np.eye(2), None, [-1.0, 2.0])], ValueError, "Graph 0: node weights are negative"),
        ([(np.eye(2), None, [0.0, 0.0])], ValueError, "do not sum to a positive"),
        ([(np.eye(2), np.ones((3, 1)))], ValueError, r"Graph 0: features have shape \(3, 1\)"),
        ([(np.eye(2), np.eye(3))], ValueError, r"\(3, 3\).*a pair of graphs, convert them"),
        (
            [(np.eye(2), np.ones((2, 1))), (np.eye(2), np.ones((2, 2)))],
            ValueError,
            "Graph 1: has 2 node features while graph 0 has 1",
        ),
        ([(np.eye(2), np.ones((2, 1))), np.eye(2)], ValueError, "Graph 1: has 0 node features"),
        (sp.eye(3), TypeError, "sparse"),
        ([], ValueError, "0 graphs"),
        ([{"A": np.eye(2)}], ValueError, "Graph 0: a mapping needs key 'C'"),
        ([object()], TypeError, "Graph 0: cannot read a graph from object"),
    ],
)
def test_bad_input_messages(graphs, error, message):
    with pytest.raises(error, match=message):
        as_graphs(graphs)


def test_pickle_round_trip():
    import pickle

    g = as_graphs([_path_graph()])[0]
    assert pickle.loads(pickle.dumps(g)) == g


def test_torch_tensors_are_read_as_their_values():
    C, F = _path_graph()
    expected = as_graphs([(C, F)])[0]
    C_t = torch.tensor(C, requires_grad=True)  # with gradient: detached, not an error
    F_t = torch.tensor(F, dtype=torch.bfloat16)  # no NumPy equivalent: read as float64
    (g,) = as_graphs([(C_t, F_t)])
    np.testing.assert_array_equal(g.C, expected.C)
    np.testing.assert_allclose(g.F, expected.F, rtol=1e-2)
    assert g.C.dtype == g.F.dtype == np.float64
    stacked = as_graphs(torch.stack([C_t, C_t]))  # a 3-D tensor is a batch of structures
    assert len(stacked) == 2 and np.array_equal(stacked[1].C, C)
    assert as_graphs(torch.tensor(F, requires_grad=True))[0].n_nodes == F.shape[1]  # a table
    np.testing.assert_array_equal(Graph(C_t, torch.full((3,), 1 / 3)).C, C)


def test_f1_node_weights_near_the_float64_maximum_are_normalised():
    # Their sum is inf: p / p.sum() gave all zeros, which POT then rejected with an assertion.
    C = np.ones((5, 5)) - np.eye(5)
    (graph,) = as_graphs([{"C": C, "p": np.full(5, 1e308)}])
    np.testing.assert_allclose(graph.p, np.full(5, 0.2))
    (graph,) = as_graphs([{"C": C, "p": np.array([1e308, 1e308, 0.0, 0.0, 1e300])}])
    np.testing.assert_allclose(graph.p, [0.5, 0.5, 0.0, 0.0, 5e-9])


@pytest.mark.parametrize("kind", ["dok", "lil", "coo", "csr_array", "dok_array"])
def test_f2_every_scipy_sparse_format_is_a_structure(kind):
    # A DOK matrix is a dict subclass and used to take the mapping branch: "unhashable type".
    dense = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 2.0], [0.0, 2.0, 0.0]])
    matrix = {
        "dok": sp.dok_matrix,
        "lil": sp.lil_matrix,
        "coo": sp.coo_matrix,
        "csr_array": sp.csr_array,
        "dok_array": sp.dok_array,
    }[kind](dense)
    (graph,) = as_graphs([matrix])
    np.testing.assert_array_equal(graph.C, dense)
    (graph,) = as_graphs([(matrix, np.ones((3, 1)))])
    np.testing.assert_array_equal(graph.C, dense)


@pytest.mark.parametrize(
    "item, message",
    [
        ((np.eye(2), [[1.0, 2.0], [3.0]]), "Graph 0: ragged features"),
        ([[0.0, 1.0], [1.0]], "Graph 0: ragged structure"),
        ({"C": np.eye(2), "p": [[0.5], [0.5, 0.1]]}, "Graph 0: ragged node weights"),
    ],
)
def test_ragged_components_name_the_graph(item, message):
    with pytest.raises(ValueError, match=message):
        as_graphs([item])


class _GraKeLLikeGraph:
    """The two methods of ``grakel.Graph`` that skgw reads."""

    def __init__(self, adjacency, labels):
        self.adjacency, self.labels = np.asarray(adjacency), labels

    def get_adjacency_matrix(self):
        return self.adjacency

    def get_labels(self, purpose="adjacency", label_type="vertex", return_none=False):
        assert (purpose, label_type) == ("adjacency", "vertex")
        return self.labels


def test_grakel_graphs_and_lists_become_one_hot_features():
    path = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    as_lists = [[path, {0: "C", 1: "O", 2: "C"}], [path, {0: "N", 1: "O", 2: "C"}]]
    as_objects = [_GraKeLLikeGraph(A, labels) for A, labels in as_lists]
    for graphs in (as_graphs(as_lists), as_graphs(as_objects)):
        np.testing.assert_array_equal(graphs[0].C, path)
        # Columns follow the sorted labels of the whole collection: C, N, O.
        np.testing.assert_array_equal(graphs[0].F, [[1, 0, 0], [0, 0, 1], [1, 0, 0]])
        np.testing.assert_array_equal(graphs[1].F, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    vectors = as_graphs([[path, {0: [0.5, 1.0], 1: [2.0, 0.0], 2: [1.0, 1.0]}]])
    np.testing.assert_array_equal(vectors[0].F, [[0.5, 1.0], [2.0, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="Graph 1: has no node labels while graph 0 has"):
        as_graphs([as_lists[0], [path, None]])
    with pytest.raises(ValueError, match="Graph 0: node labels must be keyed by the node"):
        as_graphs([[path, {1: "C", 2: "O", 3: "C"}]])


def test_grakel_graph_objects_are_read():
    grakel = pytest.importorskip("grakel")
    path = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    graphs = as_graphs([grakel.Graph(path, node_labels={0: "C", 1: "O", 2: "C"})])
    np.testing.assert_array_equal(graphs[0].C, path)
    np.testing.assert_array_equal(graphs[0].F, [[1, 0], [0, 1], [1, 0]])


def test_a_square_array_that_looks_like_one_adjacency_matrix_warns():
    triangle = np.ones((3, 3)) - np.eye(3)
    for X in (triangle, [[0, 1], [1, 0]]):
        with pytest.warns(UserWarning, match="looks like an adjacency matrix.*pass \\[X\\]"):
            graphs = as_graphs(X)
        assert len(graphs) == len(X) and graphs[0].n_nodes == len(X)  # rows as point clouds
    assert len(as_graphs([triangle])) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_graphs(np.arange(9.0).reshape(3, 3))  # a table of point clouds says nothing
