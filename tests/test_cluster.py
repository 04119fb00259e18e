import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skgw import Graph, GWBarycenterKMeans, as_graphs
from skgw.datasets import make_sbm_graphs
from skgw.metrics import clustering_accuracy

from .graph_inputs import in_every_format


@pytest.fixture(scope="module")
def sbm():
    return make_sbm_graphs(24, n_nodes=(8, 14), random_state=0)


@pytest.mark.parametrize("backend", ["pot", "torch"])
def test_recovers_sbm_types(sbm, backend):
    graphs, y = sbm
    model = GWBarycenterKMeans(3, backend=backend, device="cpu", random_state=0)
    labels = model.fit_predict(graphs)
    assert clustering_accuracy(y, labels) > 0.75  # chance: about 0.45
    assert len(model.cluster_centers_) == 3 and isinstance(model.cluster_centers_[0], Graph)
    median = int(np.median([g.n_nodes for g in graphs]))
    assert all(center.n_nodes == median for center in model.cluster_centers_)
    distances = model.transform(graphs)
    np.testing.assert_array_equal(model.labels_, distances.argmin(1))
    np.testing.assert_allclose(model.inertia_, distances.min(1).sum())
    np.testing.assert_allclose(model.score(graphs), -model.inertia_)
    assert 1 <= model.n_iter_ <= model.max_iter


def test_n_init_keeps_the_lowest_inertia(sbm):
    graphs, _ = sbm
    params = dict(n_clusters=3, backend="torch", device="cpu", max_iter=3, random_state=0)
    single = GWBarycenterKMeans(**params).fit(graphs)
    several = GWBarycenterKMeans(n_init=3, **params).fit(graphs)
    assert several.inertia_ <= single.inertia_


def test_seed_sized_centers_keep_the_sizes_of_their_seed_graphs():
    # Paths of two sizes: the classes differ in size, as in AIDS.
    graphs = as_graphs([np.eye(n, k=1) + np.eye(n, k=-1) for n in [5] * 6 + [15] * 6])
    model = GWBarycenterKMeans(
        2, barycenter_size="seed", init="random", backend="torch", device="cpu", random_state=3
    ).fit(graphs)
    seeds = GWBarycenterKMeans(2, init="random", random_state=3)._seeds(
        graphs, np.random.RandomState(3)
    )
    assert sorted(c.n_nodes for c in model.cluster_centers_) == [5, 15]
    assert sorted(graphs[i].n_nodes for i in seeds) == [5, 15]
    assert clustering_accuracy(np.repeat([0, 1], 6), model.labels_) == 1.0


def test_given_centers_start_the_run():
    paths = [np.eye(n, k=1) + np.eye(n, k=-1) for n in [5] * 6 + [15] * 6]
    init = [paths[0], paths[-1]]
    model = GWBarycenterKMeans(2, init=init, n_init=5, backend="torch", device="cpu").fit(paths)
    assert [c.n_nodes for c in model.cluster_centers_] == [5, 15]
    np.testing.assert_array_equal(model.labels_, np.repeat([0, 1], 6))
    assert model.get_params()["init"] is init  # not modified, kept as given
    with pytest.raises(ValueError, match="init holds 1 centers but n_clusters=2"):
        GWBarycenterKMeans(2, init=init[:1]).fit(paths)


def test_graph_list_suite(sbm):
    graphs, _ = sbm
    model = GWBarycenterKMeans(3, barycenter_size=6, max_iter=3, random_state=0).fit(graphs)
    assert all(center.n_nodes == 6 for center in model.cluster_centers_)
    D = model.transform(graphs)
    order = np.random.RandomState(0).permutation(len(graphs))
    np.testing.assert_allclose(model.transform([graphs[i] for i in order]), D[order])
    np.testing.assert_allclose(model.transform(graphs[2:3]), D[2:3])
    for version in in_every_format(graphs):
        np.testing.assert_allclose(model.transform(version), D, rtol=1e-9)
    again = clone(model).fit(graphs)
    np.testing.assert_array_equal(again.labels_, model.labels_)
    np.testing.assert_array_equal(again.cluster_centers_[1].C, model.cluster_centers_[1].C)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(graphs), model.predict(graphs))


def test_more_clusters_than_graphs_is_rejected(sbm):
    graphs, _ = sbm
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_clusters=3"):
        GWBarycenterKMeans(3).fit(graphs[:2])


def test_score_tunes_the_number_of_clusters_without_labels(sbm):
    graphs, _ = sbm
    search = GridSearchCV(
        GWBarycenterKMeans(max_iter=2, barycenter_max_iter=2, random_state=0),
        {"n_clusters": [1, 3]},
        cv=2,
    ).fit(graphs[:12])
    assert search.best_params_ == {"n_clusters": 3}  # more centers: lower held-out inertia


def test_structure_only_pot_barycenters_report_their_steps(capsys):
    paths = [np.eye(n, k=1) + np.eye(n, k=-1) for n in [5] * 6 + [15] * 6]
    model = GWBarycenterKMeans(2, init=[paths[0], paths[-1]], backend="pot", verbose=1).fit(paths)
    np.testing.assert_array_equal(model.labels_, np.repeat([0, 1], 6))
    assert all(center.F is None for center in model.cluster_centers_)
    bar = capsys.readouterr().err  # tqdm's progress bar, with the inertia
    assert "GWBarycenterKMeans" in bar and "inertia=" in bar and model.n_iter_ >= 1
    with pytest.raises(ValueError, match="init centers have 3 node features but the graphs"):
        GWBarycenterKMeans(2, init=[(paths[0], np.ones((5, 3)))] * 2).fit(paths)


def test_duplicate_graphs_seed_distinct_centers_and_warn():
    # Every graph equals the first seed: k-means++ draws the second among the others, and the
    # argmin labelling then leaves one cluster empty, as sklearn's KMeans does on duplicates.
    same = [np.eye(5, k=1) + np.eye(5, k=-1)] * 4
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(1\) found smaller"):
        model = GWBarycenterKMeans(2, backend="pot", random_state=0).fit(same)
    seeds = model._seeds(as_graphs(same), np.random.RandomState(0))
    assert len(set(seeds)) == 2
    np.testing.assert_allclose(model.inertia_, 0.0, atol=1e-12)


def test_torch_solver_params_reach_the_discrepancies_and_the_barycenters():
    # From the product plan the PPA steps keep automorphic nodes matched alike, so copies of a
    # path or a cycle are far from their own graph; the perturbed start lets both the
    # discrepancies and the barycenter updates find the identity matching.
    path = np.eye(5, k=1) + np.eye(5, k=-1)
    shift = np.roll(np.eye(6), 1, axis=1)
    graphs = [path] * 4 + [shift + shift.T] * 4
    common = dict(backend="torch", barycenter_size="seed", device="cpu", random_state=0)
    trapped = GWBarycenterKMeans(2, **common).fit(graphs)
    params = {"init": "perturbed_product", "max_iter": 30}
    model = GWBarycenterKMeans(2, solver_params=params, **common).fit(graphs)
    assert trapped.inertia_ > 1.0
    assert model.inertia_ < 1e-6
    assert clustering_accuracy(np.repeat([0, 1], 4), model.labels_) == 1.0
    with pytest.raises(ValueError, match="solver_params sets the 'torch' backend, but backend"):
        GWBarycenterKMeans(2, solver_params=params).fit(graphs)
