import numpy as np
import pytest

from skgw.datasets import CLUSTER_SETS, make_sbm_graphs, make_sbm_pairs


def test_sbm_structure():
    graphs, y, clusters = make_sbm_graphs(30, return_node_clusters=True, random_state=0)
    assert set(y) == {0, 1, 2}
    for g, kind, node_clusters in zip(graphs, y, clusters, strict=True):
        assert 30 <= g.n_nodes <= 58
        assert set(node_clusters) == set(CLUSTER_SETS[kind])
        far = np.abs(node_clusters[:, None] - node_clusters[None, :]) == 2
        assert not g.C[far].any()  # clusters 1 and 3 are never connected
        np.testing.assert_array_equal(g.F.argmax(1), node_clusters)  # noise is small


def test_sbm_reproducible_and_pairs():
    a, _ = make_sbm_graphs(4, random_state=1)
    b, _ = make_sbm_graphs(4, random_state=1)
    assert a == b
    pairs, types = make_sbm_pairs(3, random_state=0)
    assert len(pairs) == 3 and types.shape == (3, 2)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_graphs": -3}, "n_graphs must be a nonnegative integer"),
        ({"n_nodes": (10, 5)}, r"3 <= low <= high .*got \(10, 5\)"),
        ({"n_nodes": 2}, r"3 <= low <= high"),
        ({"p_out": 1.5}, r"p_out must be a probability"),
        ({"noise": -1.0}, "noise must be nonnegative"),
        ({"cluster_sets": []}, "cluster_sets must be a nonempty sequence"),
        ({"cluster_sets": [3]}, "cluster_sets must be a nonempty sequence"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        make_sbm_graphs(**params)


def test_two_node_graphs_of_two_cluster_types():
    graphs, y = make_sbm_graphs(5, n_nodes=2, cluster_sets=[1, 2], random_state=0)
    assert [g.n_nodes for g in graphs] == [2] * 5 and set(y) <= {1, 2}
