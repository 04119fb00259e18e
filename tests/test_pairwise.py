import joblib
import numpy as np
import ot
import pytest
import torch

from skgw import pairwise_gw_distances
from skgw._batching import pad_graphs
from skgw.datasets import make_sbm_graphs
from skgw.ot import feature_cost, fgw_loss
from skgw.ot.gw import _product_plan_loss

from .graph_inputs import in_every_format, permute_nodes


@pytest.fixture(scope="module")
def graphs():
    return make_sbm_graphs(10, n_nodes=(6, 14), random_state=0)[0]


def test_pot_solver_matches_pot_called_directly(graphs):
    D = pairwise_gw_distances(graphs[:4], graphs[4:7], alpha=0.3)
    g1, g2 = graphs[1], graphs[5]
    expected = ot.gromov.fused_gromov_wasserstein2(
        ot.dist(g1.F, g2.F), g1.C, g2.C, g1.p, g2.p, "square_loss", alpha=0.3
    )
    assert D.shape == (4, 3)
    np.testing.assert_allclose(D[1, 1], expected, rtol=1e-10)
    structure_only = pairwise_gw_distances(graphs[:2], graphs[4:5], alpha=1.0)
    np.testing.assert_allclose(
        structure_only[1, 0],
        ot.gromov.gromov_wasserstein2(g1.C, graphs[4].C, g1.p, graphs[4].p),
        rtol=1e-10,
    )


def test_symmetric_matrix_with_zero_diagonal(graphs):
    D = pairwise_gw_distances(graphs, tile_size=9)  # several tiles, diagonal ones included
    np.testing.assert_array_equal(D, D.T)
    np.testing.assert_array_equal(np.diag(D), 0.0)
    full = pairwise_gw_distances(graphs, graphs[:])
    iu = np.triu_indices(len(graphs), 1)
    np.testing.assert_allclose(D[iu], full[iu], rtol=1e-12)
    assert np.all(D[iu] > 0)


def test_torch_solver_close_to_pot(graphs):
    pot = pairwise_gw_distances(graphs)
    torch_values = pairwise_gw_distances(graphs, backend="torch", device="cpu")
    iu = np.triu_indices(len(graphs), 1)
    ratio = torch_values[iu] / pot[iu]
    assert 0.95 < np.median(ratio) < 1.05
    assert np.corrcoef(torch_values[iu], pot[iu])[0, 1] > 0.95


def test_perturbed_start_matches_symmetric_graphs_to_relabelled_copies():
    path = np.eye(5, k=1) + np.eye(5, k=-1)
    shift = np.roll(np.eye(6), 1, axis=1)
    graphs = [path, shift + shift.T]
    rng = np.random.RandomState(0)
    relabelled = [g[np.ix_(order, order)] for g in graphs for order in [rng.permutation(len(g))]]
    trapped = pairwise_gw_distances(graphs, relabelled, backend="torch", device="cpu")
    params = {"init": "perturbed_product", "max_iter": 20}
    matched = pairwise_gw_distances(graphs, relabelled, backend="torch", solver_params=params)
    assert np.diag(trapped).min() > 0.1
    np.testing.assert_allclose(np.diag(matched), 0.0, atol=1e-6)
    assert matched[0, 1] < trapped[0, 1]


@pytest.mark.parametrize("backend", ["pot", "torch"])
def test_equal_graphs_are_at_zero_whichever_path(backend):
    # The product start leaves a path and a cycle unmatched to themselves (see above); with Y
    # given, equal graphs still get d(G, G) = 0, as on the diagonal of the symmetric path.
    path = np.eye(5, k=1) + np.eye(5, k=-1)
    shift = np.roll(np.eye(6), 1, axis=1)
    graphs = [path, shift + shift.T, np.ones((4, 4)) - np.eye(4)]
    alone = pairwise_gw_distances(graphs, backend=backend)
    against = pairwise_gw_distances(graphs, [g.copy() for g in graphs[::-1]], backend=backend)
    np.testing.assert_array_equal(np.diag(alone), 0.0)
    np.testing.assert_array_equal(np.diag(against[:, ::-1]), 0.0)
    np.testing.assert_allclose(alone, alone.T)
    assert (against[:, ::-1][~np.eye(3, dtype=bool)] > 0).all()


def test_torch_solver_is_independent_of_the_other_pairs(graphs):
    full = pairwise_gw_distances(graphs, graphs[:5], backend="torch", device="cpu")
    part = pairwise_gw_distances(graphs[3:4], graphs[1:3], backend="torch", device="cpu")
    np.testing.assert_allclose(part, full[3:4, 1:3], rtol=1e-10)


def test_torch_solver_does_not_depend_on_the_order_of_the_graphs(graphs):
    # The graphs are tiled by size internally; the matrix must follow the caller's order.
    expected = pairwise_gw_distances(graphs, backend="torch", device="cpu", tile_size=9)
    order = np.random.RandomState(0).permutation(len(graphs))
    shuffled = pairwise_gw_distances(
        [graphs[i] for i in order], backend="torch", device="cpu", tile_size=9
    )
    np.testing.assert_allclose(shuffled, expected[np.ix_(order, order)], rtol=1e-10)
    rectangular = pairwise_gw_distances(graphs, graphs[::-1], backend="torch", device="cpu")
    shuffled = pairwise_gw_distances(
        [graphs[i] for i in order[:4]], graphs[::-1], backend="torch", device="cpu"
    )
    np.testing.assert_allclose(shuffled, rectangular[order[:4]], rtol=1e-10)


@pytest.mark.parametrize("alpha", [0.3, 1.0])
def test_product_plan_scale_is_the_loss_of_the_product_plan(graphs, alpha):
    first, second = pad_graphs(graphs[:5]), pad_graphs(graphs[5:])
    product = first.p[:, :, None] * second.p[:, None, :]
    D = feature_cost(first.F, second.F)
    torch.testing.assert_close(
        _product_plan_loss(first.C, second.C, first.p, second.p, first.F, second.F, alpha),
        fgw_loss(first.C, second.C, product, D, alpha),
        rtol=1e-12,
        atol=0,
    )


@pytest.mark.parametrize("backend", ["pot", "torch"])
def test_formats_and_node_permutations_give_the_same_values(graphs, backend):
    expected = pairwise_gw_distances(graphs[:3], graphs[3:5], backend=backend, device="cpu")
    for version in in_every_format(graphs[:3]):
        np.testing.assert_allclose(
            pairwise_gw_distances(version, graphs[3:5], backend=backend, device="cpu"),
            expected,
            rtol=1e-9,
        )
    # Identical graphs up to relabelling: the solvers find the matching plan from their starts.
    permuted = pairwise_gw_distances(
        permute_nodes(graphs[:3]), graphs[3:5], backend=backend, device="cpu"
    )
    np.testing.assert_allclose(permuted, expected, rtol=0.05)


def test_joblib_workers_give_the_serial_matrix(graphs):
    serial = pairwise_gw_distances(graphs, tile_size=4)
    with joblib.parallel_backend("threading"):
        threaded = pairwise_gw_distances(graphs, tile_size=4, n_jobs=2)
    np.testing.assert_array_equal(threaded, serial)


def test_dask_local_cluster_gives_the_serial_matrix(graphs):
    distributed = pytest.importorskip("distributed")
    from skgw import FGWKernel

    serial = FGWKernel(bandwidth=0.5).fit(graphs[:6]).transform(graphs)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as tasks,
        joblib.parallel_backend("dask"),
    ):
        on_dask = FGWKernel(bandwidth=0.5, n_jobs=2).fit(graphs[:6]).transform(graphs)
    assert len(tasks.data) > 0  # the tiles ran on the cluster
    np.testing.assert_array_equal(on_dask, serial)


def test_bad_input_is_rejected(graphs):
    with pytest.raises(ValueError, match="alpha must be a number in"):
        pairwise_gw_distances(graphs, alpha=2.0)
    with pytest.raises(ValueError, match="backend must be one of"):
        pairwise_gw_distances(graphs, backend="cg")
    with pytest.raises(TypeError, match="unexpected keyword argument 'solver'"):
        pairwise_gw_distances(graphs, solver="pot")
    with pytest.raises(ValueError, match="X has 3 node features per node but Y has 0"):
        pairwise_gw_distances(graphs[:2], [np.eye(3)])
    with pytest.raises(ValueError, match="^X: Graph 1"):
        pairwise_gw_distances([np.eye(3), np.full((2, 2), np.nan)])
    with pytest.raises(ValueError, match="^Y: Graph 0: structure must be a square matrix"):
        pairwise_gw_distances(graphs[:2], [np.ones((2, 3))])
    with pytest.raises(ValueError, match="^X: Graph 1"):
        pairwise_gw_distances([np.eye(3), np.full((2, 2), np.nan)], graphs[:2])
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64', got 'float16'"):
        pairwise_gw_distances(graphs[:2], dtype="float16")
    with pytest.raises(ValueError, match="solver_params sets the 'torch' backend, but backend"):
        pairwise_gw_distances(graphs[:2], solver_params={"max_iter": 20})
    with pytest.raises(TypeError, match="solver_params must be a dict or None"):
        pairwise_gw_distances(graphs[:2], backend="torch", solver_params=[("max_iter", 20)])
    with pytest.raises(ValueError, match="is not a torch device"):
        pairwise_gw_distances(graphs[:2], backend="torch", device="gpu0", n_jobs=2)


@pytest.mark.parametrize("scale", [2.0**-30, 1e-8, 3e-5, 7.5, 1e30])
def test_f9_torch_solver_is_scale_invariant(graphs, scale):
    # d(sA, sB) = s^2 d(A, B), in float32 too: structures of 1e30 used to overflow ("epsilon must
    # be positive and finite, got nan") and those below 1e-6 met the floor of the relative epsilon.
    structures = [g.C for g in graphs[:4]]
    for dtype in ("float64", "float32"):
        reference = pairwise_gw_distances(structures, backend="torch", device="cpu", dtype=dtype)
        scaled = pairwise_gw_distances(
            [scale * C for C in structures], backend="torch", device="cpu", dtype=dtype
        )
        np.testing.assert_allclose(
            scaled / scale**2, reference, rtol=1e-5 if dtype == "float32" else 1e-9
        )


def test_torch_solver_scales_features_and_structures_together(graphs):
    scale = 1e12
    scaled = [(scale * g.C, scale * g.F) for g in graphs[:3]]
    options = dict(backend="torch", device="cpu", dtype="float64")
    reference = pairwise_gw_distances(graphs[:3], **options)
    np.testing.assert_allclose(
        pairwise_gw_distances(scaled, **options) / scale**2,
        reference,
        rtol=1e-9,
    )


def test_torch_solver_on_equal_constant_graphs_is_zero():
    # The product plan's loss is 0 there: the relative epsilon must not become 0.
    empty = np.zeros((4, 4))
    D = pairwise_gw_distances([empty, empty, empty], backend="torch", device="cpu")
    np.testing.assert_array_equal(D, np.zeros((3, 3)))
