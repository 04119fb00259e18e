import pickle

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from skgw import Graph, GromovWassersteinFactorization
from skgw.datasets import make_sbm_graphs
from skgw.metrics import clustering_accuracy


def _small(**params):
    defaults = dict(
        n_components=3,
        max_iter=3,
        solver_params={"max_iter": 10},
        transform_max_iter=2,
        random_state=0,
        dtype="float64",
    )
    return GromovWassersteinFactorization(**{**defaults, **params})


@pytest.fixture(scope="module")
def sbm():
    return make_sbm_graphs(24, n_nodes=(8, 16), random_state=0)


@pytest.fixture(scope="module")
def fitted(sbm):
    graphs, _ = sbm
    return _small().fit(graphs)


def test_fit_transform_shapes_and_attributes(sbm, fitted):
    graphs, _ = sbm
    W = fitted.transform(graphs)
    assert W.shape == (24, 3)
    np.testing.assert_allclose(W.sum(1), 1.0)
    assert len(fitted.components_) == 3 and isinstance(fitted.components_[0], Graph)
    assert fitted.components_[0].n_node_features == 3
    assert all(np.all(atom.C >= 0) for atom in fitted.components_)
    assert fitted.n_iter_ == 3 and len(fitted.loss_curve_) == 3
    assert fitted.reconstruction_err_ == fitted.loss_curve_[-1]
    assert not hasattr(fitted, "n_features_in_")
    assert list(fitted.get_feature_names_out()) == [
        f"gromovwassersteinfactorization{k}" for k in range(3)
    ]


def test_training_decreases_loss(sbm):
    graphs, _ = sbm
    model = _small(max_iter=6).fit(graphs)
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_subset_and_order_invariance(sbm, fitted):
    graphs, _ = sbm
    W = fitted.transform(graphs)
    order = np.random.RandomState(0).permutation(24)
    np.testing.assert_allclose(fitted.transform([graphs[i] for i in order]), W[order], atol=1e-9)
    np.testing.assert_allclose(fitted.transform(graphs[5:9]), W[5:9], atol=1e-9)
    np.testing.assert_allclose(fitted.transform([graphs[3]]), W[3:4], atol=1e-9)


def test_node_permutation_invariance(sbm, fitted):
    graphs, _ = sbm
    rng = np.random.RandomState(1)
    permuted = []
    for g in graphs[:6]:
        perm = rng.permutation(g.n_nodes)
        permuted.append(Graph(g.C[np.ix_(perm, perm)].copy(), g.p[perm].copy(), g.F[perm].copy()))
    np.testing.assert_allclose(fitted.transform(permuted), fitted.transform(graphs[:6]), atol=1e-6)


def test_dense_sparse_networkx_give_the_same_embedding(fitted, sbm):
    graphs, _ = sbm
    dense = [(g.C, g.F) for g in graphs[:4]]
    sparse = [(sp.csr_matrix(g.C), g.F) for g in graphs[:4]]
    networkx = []
    for g in graphs[:4]:
        G = nx.from_numpy_array(g.C)
        nx.set_node_attributes(G, dict(enumerate(g.F)), "x")
        networkx.append(G)
    expected = fitted.transform(dense)
    np.testing.assert_allclose(fitted.transform(sparse), expected, atol=1e-12)
    np.testing.assert_allclose(fitted.transform(networkx), expected, atol=1e-12)


def test_idempotent_and_pickle(sbm, fitted):
    graphs, _ = sbm
    again = clone(fitted).fit(graphs)
    np.testing.assert_array_equal(again.components_[0].C, fitted.components_[0].C)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(graphs[:3]), fitted.transform(graphs[:3]))


def test_inputs_are_not_modified(sbm):
    graphs, _ = sbm
    arrays = [(g.C.copy(), g.F.copy()) for g in graphs[:6]]
    before = [(C.copy(), F.copy()) for C, F in arrays]
    _small(max_iter=1).fit(arrays).transform(arrays)
    for (C, F), (C0, F0) in zip(arrays, before, strict=True):
        np.testing.assert_array_equal(C, C0)
        np.testing.assert_array_equal(F, F0)


def test_transform_rejects_other_feature_dimensions(fitted):
    with pytest.raises(ValueError, match="Graph 1: has 0 node features while graph 0 has 3"):
        fitted.transform([(np.eye(3), np.ones((3, 3))), np.eye(3)])
    with pytest.raises(ValueError, match="Graph 0: has 2 node features"):
        fitted.transform([(np.eye(3), np.ones((3, 2)))])


def test_inverse_transform_and_score(sbm, fitted):
    graphs, _ = sbm
    rebuilt = fitted.inverse_transform(np.eye(3))
    assert len(rebuilt) == 3
    for atom, graph in zip(fitted.components_, rebuilt, strict=True):
        assert graph.n_nodes == atom.n_nodes
        assert np.all(np.isfinite(graph.C)) and np.all(graph.C >= -1e-12)
    with pytest.raises(ValueError, match="expected 3"):
        fitted.inverse_transform(np.ones((1, 2)))
    score = fitted.score(graphs)
    assert score < 0
    assert score == pytest.approx(-np.mean(fitted._embed(graphs)[1]))


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="badmm"),
        dict(variant_params={"reconstruction_plan": "identity"}),
        dict(init="random", variant_params={"atom_size": 6}),
        dict(dtype="float32", structure="shortest_path", node_weights="degree"),
        dict(barycenter_max_iter=1, alpha=1.0),
        dict(solver="badmm", solver_params={"init": "perturbed_product"}),
    ],
)
def test_variants_run_and_stay_finite(sbm, params):
    graphs, _ = sbm
    W = _small(max_iter=2, **params).fit_transform(graphs[:10])
    assert np.all(np.isfinite(W)) and W.dtype == np.float64
    np.testing.assert_allclose(W.sum(1), 1.0, atol=1e-5)


def test_sample_by_size_draws_one_atom_per_size_stratum():
    graphs = [np.ones((n, n)) - np.eye(n) for n in range(3, 15)]  # sizes 3..14
    model = _small(
        init="sample_by_size", n_components=4, max_iter=1, variant_params={"atom_learning_rate": 0}
    )
    sizes = sorted(atom.n_nodes for atom in model.fit(graphs).components_)
    for size, (low, high) in zip(sizes, [(3, 5), (6, 8), (9, 11), (12, 14)], strict=True):
        assert low <= size <= high
    again = _small(
        init="sample_by_size", n_components=4, max_iter=1, variant_params={"atom_learning_rate": 0}
    )
    assert sizes == sorted(atom.n_nodes for atom in again.fit(graphs).components_)
    plain = _small(init="sample", n_components=20, max_iter=1).fit(graphs)  # more atoms than
    by_size = _small(init="sample_by_size", n_components=20, max_iter=1).fit(graphs)  # graphs
    assert [a.n_nodes for a in plain.components_] == [a.n_nodes for a in by_size.components_]


def test_atom_size_without_random_atoms_warns(sbm):
    graphs, _ = sbm
    with pytest.warns(
        UserWarning, match=r"variant_params\['atom_size'\]=6 is ignored with init='sample'"
    ):
        model = _small(variant_params={"atom_size": 6}, max_iter=1).fit(graphs[:10])
    sizes = {atom.n_nodes for atom in model.components_}
    assert sizes <= {g.n_nodes for g in graphs[:10]}  # the sampled graphs, not size 6


def test_perturbed_plan_start_reconstructs_symmetric_graphs_better():
    # Paths, cycles and a star, each also an atom: from the product plan their automorphic nodes
    # keep the same row of every plan, and the reconstructions stay blurred.
    def cycle(n):
        shift = np.roll(np.eye(n), 1, axis=1)
        return shift + shift.T

    def path(n):
        return np.eye(n, k=1) + np.eye(n, k=-1)

    star = np.zeros((6, 6))
    star[0, 1:] = 1
    graphs = [path(5), cycle(6), path(7), cycle(8), star + star.T, path(6)]
    scores = {}
    for start in ["product", "perturbed_product"]:
        model = GromovWassersteinFactorization(
            n_components=6,
            max_iter=1,
            solver_params={"init": start},
            random_state=0,
            variant_params={"atom_learning_rate": 0},
        )
        scores[start] = model.fit(graphs).score(graphs)
    assert scores["perturbed_product"] > 0.75 * scores["product"]  # scores are negative


def test_graphs_without_features():
    graphs, _ = make_sbm_graphs(8, n_nodes=(6, 9), random_state=2)
    structures = [g.C for g in graphs]
    model = _small(max_iter=2).fit(structures)
    assert model.components_[0].F is None
    assert model.transform(structures).shape == (8, 3)


def test_semi_supervised_labels_shape_the_atoms(sbm):
    graphs, y = sbm
    partial = np.where(np.arange(24) % 3 == 0, -1, y)
    supervised = _small(label_weight=1.0).fit(graphs, partial)
    unsupervised = _small(label_weight=1.0).fit(graphs)
    assert not np.allclose(supervised.components_[0].C, unsupervised.components_[0].C)
    with pytest.raises(ValueError, match="y has 3 labels for 24 graphs"):
        _small(label_weight=1.0).fit(graphs, [0, 1, 0])
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        _small(label_weight=1.0).fit(graphs, np.linspace(0.0, 1.0, 24))
    with pytest.raises(ValueError, match="y should be a 1d array"):
        _small(label_weight=1.0).fit(graphs, np.zeros((24, 2)))
    with pytest.warns(DataConversionWarning):  # a column is read as a vector, with a warning
        column = _small(label_weight=1.0).fit(graphs, partial[:, None])
    np.testing.assert_allclose(column.components_[0].C, supervised.components_[0].C)


def test_training_embedding_follows_the_input_order(sbm):
    # With the atoms frozen, each graph's weights evolve on their own (summed loss, element-wise
    # Adam), so a graph listed twice gets the same training weights wherever its copies are batched.
    graphs, _ = sbm
    order = np.random.RandomState(1).permutation(2 * len(graphs))
    doubled = [graphs[i % len(graphs)] for i in order]
    model = _small(variant_params={"atom_learning_rate": 0.0}, batch_size=5).fit(doubled)
    W = model.embedding_
    assert W.shape == (2 * len(graphs), 3)
    np.testing.assert_allclose(W.sum(1), 1.0)
    first = {}
    for row, i in enumerate(order % len(graphs)):
        first.setdefault(i, row)
        np.testing.assert_allclose(W[row], W[first[i]], atol=1e-8)
    assert np.ptp(W, axis=0).max() > 1e-3


def test_atom_learning_rate(sbm, fitted):
    graphs, _ = sbm
    frozen = _small(variant_params={"atom_learning_rate": 0.0}).fit(graphs)
    sampled = {g.C.tobytes(): g.F for g in graphs}
    for atom in frozen.components_:  # the features went through the scaling and back
        np.testing.assert_allclose(atom.F, sampled[atom.C.tobytes()], rtol=1e-12, atol=1e-12)
    slower = _small(variant_params={"atom_learning_rate": 0.01}).fit(graphs)
    moved_slow = np.abs(slower.components_[0].C - frozen.components_[0].C).max()
    moved_default = np.abs(fitted.components_[0].C - frozen.components_[0].C).max()
    assert 0 < moved_slow < moved_default
    assert np.all(np.isfinite(frozen.transform(graphs)))


def test_verbose_progress_bar(sbm, capsys):
    graphs, _ = sbm
    _small(max_iter=1, verbose=1).fit(graphs[:4])
    assert "GWF" in capsys.readouterr().err


def test_clusters_sbm_types():
    graphs, y = make_sbm_graphs(30, n_nodes=(10, 16), cluster_sets=[0, 1], random_state=3)
    pipe = Pipeline(
        [("gwf", _small(n_components=4, max_iter=5)), ("km", KMeans(2, n_init=10, random_state=0))]
    )
    assert clustering_accuracy(y, pipe.fit_predict(graphs)) >= 0.8


def test_sklearn_pipelines_on_ragged_graph_lists(sbm):
    graphs, y = sbm
    spectral = Pipeline(
        [("gwf", _small(max_iter=1)), ("sc", SpectralClustering(2, random_state=0))]
    )
    assert spectral.fit_predict(graphs).shape == (24,)
    svc = Pipeline([("gwf", _small(max_iter=1)), ("svc", SVC())])
    scores = cross_val_score(svc, graphs, y, cv=3)
    assert scores.shape == (3,)
    search = GridSearchCV(_small(max_iter=1), {"n_components": [2, 3]}, cv=2)
    search.fit(graphs)
    assert search.best_params_["n_components"] in (2, 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(sbm):
    graphs, _ = sbm
    cpu = _small(device="cpu").fit(graphs)
    gpu = _small(device="cuda").fit(graphs)
    np.testing.assert_allclose(gpu.transform(graphs), cpu.transform(graphs), atol=1e-6)


def test_float32_overflow_names_the_graph(sbm):
    # Finite inputs whose squares overflow float32 used to surface as "C1 has non-finite entries".
    graphs = list(sbm[0][:4])
    graphs[2] = Graph(graphs[2].C * 1e30, graphs[2].p, graphs[2].F)
    with pytest.raises(ValueError, match="Graph 2: structure entries reach 1e\\+30.*float32"):
        _small(dtype="float32", max_iter=1).fit(graphs)
    fitted = _small(dtype="float32", max_iter=1).fit(sbm[0][:4])
    with pytest.raises(ValueError, match="Graph 2: structure entries reach"):
        fitted.transform(graphs)


def test_f11_an_interrupted_refit_keeps_the_previous_model(sbm, monkeypatch):
    graphs, _ = sbm
    model = _small(max_iter=2).fit(graphs)
    state = dict(vars(model))
    embedding = model.transform(graphs[:3])
    import skgw.factorization as factorization

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(factorization, "_fgw_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.set_params(max_iter=3).fit(graphs)
    monkeypatch.undo()
    assert vars(model).keys() == state.keys()
    assert model.loss_curve_ is state["loss_curve_"] and len(model.loss_curve_) == 2
    np.testing.assert_array_equal(model.transform(graphs[:3]), embedding)


def test_best_epoch_is_kept(sbm):
    graphs, _ = sbm
    # A large step makes the loss go up and down; the model kept is the best epoch's.
    model = _small(max_iter=8, learning_rate=0.3).fit(graphs)
    best = model.best_epoch_
    assert best == int(np.argmin(model.loss_curve_)) < len(model.loss_curve_) - 1
    assert model.reconstruction_err_ == min(model.loss_curve_)
    assert model.n_iter_ == 8
    stopped = _small(max_iter=best + 1, learning_rate=0.3).fit(graphs)
    assert stopped.loss_curve_ == model.loss_curve_[: best + 1]
    for kept, at_best in zip(model.components_, stopped.components_, strict=True):
        np.testing.assert_array_equal(kept.C, at_best.C)
        np.testing.assert_array_equal(kept.F, at_best.F)
    np.testing.assert_array_equal(model.embedding_, stopped.embedding_)


def test_feature_scaling_makes_the_model_independent_of_feature_units(sbm):
    graphs, _ = sbm
    units = np.array([1000.0, 0.01, 3.0])
    moved = [Graph(g.C, g.p, g.F * units + 7.0) for g in graphs]
    before = [g.F.copy() for g in moved]
    model, in_units = _small().fit(graphs), _small().fit(moved)
    assert all(np.array_equal(g.F, f) for g, f in zip(moved, before, strict=True))
    np.testing.assert_allclose(in_units.loss_curve_, model.loss_curve_, rtol=1e-8)
    np.testing.assert_allclose(in_units.transform(moved), model.transform(graphs), atol=1e-8)
    for atom, reference in zip(in_units.components_, model.components_, strict=True):
        np.testing.assert_allclose(atom.F, reference.F * units + 7.0, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(in_units.feature_scale_, model.feature_scale_ * units)
    back = in_units.inverse_transform(np.eye(3))
    reference = model.inverse_transform(np.eye(3))
    for graph, expected in zip(back, reference, strict=True):
        np.testing.assert_allclose(graph.F, expected.F * units + 7.0, rtol=1e-8, atol=1e-6)
    raw = _small(feature_scaling=None).fit(moved)
    assert raw.feature_mean_ is None and raw.feature_scale_ is None
    assert not np.allclose(raw.loss_curve_, in_units.loss_curve_, rtol=1e-3)
