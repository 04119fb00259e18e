import numpy as np
import pytest

from skgw import Graph
from skgw._features import fit_feature_scaling, scale_graph_features


def _graphs(rng):
    graphs = []
    for n in (3, 5, 8):
        F = np.column_stack([rng.normal(50, 10, n), rng.integers(0, 2, n), np.full(n, 4.0)])
        graphs.append(Graph(np.ones((n, n)) - np.eye(n), np.full(n, 1 / n), F))
    return graphs


@pytest.mark.parametrize("scaling, total", [("standard", 2.0), ("unit_total_variance", 1.0)])
def test_scaled_training_nodes_are_centred_with_the_stated_variance(scaling, total):
    graphs = _graphs(np.random.default_rng(0))
    before = [g.F.copy() for g in graphs]
    mean, scale = fit_feature_scaling(graphs, scaling)
    scaled = scale_graph_features(graphs, mean, scale)
    nodes = np.vstack([g.F for g in scaled])
    np.testing.assert_allclose(nodes.mean(0), 0.0, atol=1e-12)
    # Two varying columns and a constant one, left at zero.
    np.testing.assert_allclose(nodes.var(0).sum(), total)
    np.testing.assert_array_equal(nodes[:, 2], 0.0)
    back = scale_graph_features(scaled, mean, scale, inverse=True)
    for graph, original, F in zip(back, graphs, before, strict=True):
        np.testing.assert_allclose(graph.F, F, atol=1e-12)
        np.testing.assert_array_equal(original.F, F)
        assert graph.C is original.C or np.array_equal(graph.C, original.C)


def test_no_scaling_without_features_or_when_disabled():
    graphs = _graphs(np.random.default_rng(1))
    assert fit_feature_scaling(graphs, None) == (None, None)
    plain = [Graph(g.C, g.p) for g in graphs]
    assert fit_feature_scaling(plain, "standard") == (None, None)
    assert scale_graph_features(plain, None, None) == plain
    with pytest.raises(ValueError, match="feature_scaling must be one of"):
        fit_feature_scaling(graphs, "minmax")
