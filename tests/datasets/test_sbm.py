import numpy as np

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
