import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import SpectralClustering
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from skgw import FGWKernel, pairwise_gw_distances
from skgw.datasets import make_sbm_graphs
from skgw.metrics import clustering_accuracy

from .graph_inputs import in_every_format


@pytest.fixture(scope="module")
def sbm():
    return make_sbm_graphs(30, n_nodes=(8, 14), random_state=0)


@pytest.mark.parametrize("backend", ["pot", "torch"])
def test_gram_matrix_is_symmetric_with_a_unit_diagonal_on_both_paths(sbm, backend):
    graphs, _ = sbm
    kernel = FGWKernel(bandwidth=0.1, backend=backend, device="cpu")
    gram = kernel.fit_transform(graphs[:12])
    np.testing.assert_array_equal(np.diag(gram), 1.0)
    np.testing.assert_array_equal(gram, gram.T)
    rows = kernel.transform(graphs[:12])
    np.testing.assert_array_equal(np.diag(rows), 1.0)
    np.testing.assert_allclose(rows, gram, atol=0.05)


def test_kernel_rows_are_exp_of_the_distances(sbm):
    graphs, _ = sbm
    kernel = FGWKernel(alpha=0.7, bandwidth=0.3).fit(graphs[:5])
    K = kernel.transform(graphs[5:9])
    D = pairwise_gw_distances(graphs[5:9], graphs[:5], alpha=0.7)
    np.testing.assert_allclose(K, np.exp(-D / 0.3))
    assert list(kernel.get_feature_names_out()) == [f"fgwkernel{j}" for j in range(5)]
    assert not hasattr(kernel, "n_features_in_")


def test_torch_solver_params_reach_the_discrepancies(sbm):
    graphs, _ = sbm
    params = {"init": "perturbed_product", "max_iter": 20}
    kernel = FGWKernel(bandwidth=0.3, backend="torch", device="cpu", solver_params=params)
    K = kernel.fit(graphs[:5]).transform(graphs[5:9])
    D = pairwise_gw_distances(graphs[5:9], graphs[:5], backend="torch", solver_params=params)
    np.testing.assert_allclose(K, np.exp(-D / 0.3))
    default = FGWKernel(bandwidth=0.3, backend="torch", device="cpu").fit(graphs[:5])
    assert np.abs(default.transform(graphs[5:9]) - K).max() > 1e-3


def test_subset_order_formats_pickle(sbm):
    graphs, _ = sbm
    kernel = FGWKernel(backend="torch", device="cpu", dtype="float64").fit(graphs[:6])
    K = kernel.transform(graphs[:10])
    order = np.random.RandomState(0).permutation(10)
    np.testing.assert_allclose(kernel.transform([graphs[i] for i in order]), K[order])
    np.testing.assert_allclose(kernel.transform(graphs[4:5]), K[4:5])
    for version in in_every_format(graphs[:10]):
        np.testing.assert_allclose(kernel.transform(version), K, rtol=1e-9)
    # Pickled and refitted kernels give the same values bitwise on the same call (a subset is
    # batched, so padded, differently: equal to rounding only, as above).
    first = kernel.transform(graphs[:3])
    restored = pickle.loads(pickle.dumps(kernel))
    np.testing.assert_array_equal(restored.transform(graphs[:3]), first)
    np.testing.assert_array_equal(clone(kernel).fit(graphs[:6]).transform(graphs[:3]), first)


def test_rejects_other_feature_dimensions(sbm):
    graphs, _ = sbm
    kernel = FGWKernel().fit(graphs[:3])
    with pytest.raises(ValueError, match="Graph 0: has 2 node features"):
        kernel.transform([(np.eye(3), np.ones((3, 2)))])


def test_svc_pipeline_grid_search_and_spectral_clustering(sbm):
    graphs, y = sbm
    pipeline = make_pipeline(FGWKernel(backend="torch", device="cpu"), SVC(kernel="precomputed"))
    search = GridSearchCV(pipeline, {"fgwkernel__bandwidth": [0.01, 0.3]}, cv=3).fit(graphs, y)
    assert search.best_params_ == {"fgwkernel__bandwidth": 0.3} and search.best_score_ > 0.8
    assert cross_val_score(pipeline, graphs, y, cv=3).mean() > 0.7
    affinity = FGWKernel(bandwidth=0.1).fit_transform(graphs)
    labels = SpectralClustering(3, affinity="precomputed", random_state=0).fit_predict(affinity)
    assert clustering_accuracy(y, labels) > 0.7  # chance: about 0.45
