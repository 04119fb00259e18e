r"""Pairwise (fused) Gromov-Wasserstein discrepancies between collections of graphs.

For graphs :math:`G_i = (C_i, p_i, F_i)` the discrepancy is the optimal value of the fused GW
problem in POT's convention (Vayer et al. 2019),

.. math:: d(G_1, G_2) = \min_{T \in \Pi(p_1, p_2)} (1 - \alpha) \sum_{ij} \|F_{1,i} - F_{2,j}\|^2
          T_{ij} + \alpha \sum_{ijkl} (C_{1,ik} - C_{2,jl})^2 T_{ij} T_{kl},

plain GW (:math:`\alpha = 1`) when the graphs carry no node features. The problem is
non-convex: each solver returns the value at the local optimum it reaches.

The :math:`O(n^2)` pairs are cut into tiles (blocks of rows times blocks of columns) and each
tile is one :mod:`joblib` task, so the computation scales out on any joblib backend, a
``dask.distributed`` cluster included (``with joblib.parallel_backend("dask"): ...``), and
one task solves many pairs.
"""

import math
import numbers

import numpy as np
import ot
from joblib import Parallel, delayed

from ._batching import group_by_size, pad_graphs, resolve_device, resolve_dtype
from ._graphs import Graph, as_graphs
from ._progress import progress
from .ot.barycenter import _absolute, check_solver_params
from .ot.gw import _feature_cost, _fgw_loss, _fgw_plan_ppa

__all__ = ["distances_with_settings_of", "pairwise_gw_distances"]

BACKENDS = ("pot", "torch")
DEFAULT_TILE_SIZE = {"pot": 1024, "torch": 16384}
# Pairs per solver call: as many as fit in this many plan entries (padded n x m each).
TORCH_BATCH_ENTRIES = 2**20
TORCH_MAX_PADDING = 0.1
# PPA settings of the torch backend; the proximal weight is relative to each pair's cost scale
# (skgw.ot.solve_plans).
TORCH_SOLVER_PARAMS = {"relative_epsilon": 0.2, "max_iter": 9, "sinkhorn_max_iter": 3}


def _uses_features(graph, alpha):
    return graph.F is not None and alpha < 1.0


def _pot_discrepancy(g1, g2, alpha):
    """Value of POT's exact conditional-gradient solver for one pair."""
    if not _uses_features(g1, alpha):
        return float(ot.gromov.gromov_wasserstein2(g1.C, g2.C, g1.p, g2.p, "square_loss"))
    M = ot.dist(g1.F, g2.F)
    return float(
        ot.gromov.fused_gromov_wasserstein2(M, g1.C, g2.C, g1.p, g2.p, "square_loss", alpha=alpha)
    )


def _torch_discrepancies(graphs_a, graphs_b, pairs, alpha, device, dtype, solver_params):
    """Values of the batched PPA solver for the given pairs, batched by size.

    Each pair is put larger graph first (the discrepancy is symmetric); pairs whose graphs fall
    in the same two size groups are solved together, each side padded to its group's width
    (padding carries no mass and does not change a value). The proximal weight is relative by
    default (``relative_epsilon``, :func:`skgw.ot.solve_plans`).
    """
    device, dtype = resolve_device(device), resolve_dtype(dtype)
    params = torch_solver_params(solver_params)
    graphs, unit = _unit_scaled(list(graphs_a) + list(graphs_b), alpha)
    sizes = np.array([g.n_nodes for g in graphs])
    groups = group_by_size(list(sizes), max_padding=TORCH_MAX_PADDING)
    # Each size group padded once; a batch takes its graphs from there.
    padded = [
        pad_graphs([graphs[i] for i in group], device=device, dtype=dtype) for group in groups
    ]
    group_ids, positions = np.empty(len(graphs), dtype=int), np.empty(len(graphs), dtype=int)
    for group_id, group in enumerate(groups):
        group_ids[group], positions[group] = group_id, np.arange(len(group))
    first, second = pairs[:, 0], pairs[:, 1] + len(graphs_a)
    swap = sizes[first] < sizes[second]
    first, second = np.where(swap, second, first), np.where(swap, first, second)
    keys = group_ids[first] * len(groups) + group_ids[second]
    order = np.argsort(keys, kind="stable")
    runs = np.split(order, np.flatnonzero(np.diff(keys[order])) + 1)
    values = np.empty(len(pairs))
    for run in runs:
        batches = [padded[group_ids[side[run[0]]]] for side in (first, second)]
        batch_size = max(1, TORCH_BATCH_ENTRIES // (batches[0].C.shape[1] * batches[1].C.shape[1]))
        for start in range(0, len(run), batch_size):
            chosen = run[start : start + batch_size]
            G1, G2 = (
                batch.take(positions[side[chosen]])
                for batch, side in zip(batches, (first, second), strict=True)
            )
            values[chosen] = _ppa_values(G1, G2, alpha, params)
    return values * unit**2


def _unit_scaled(graphs, alpha):
    r"""The graphs with structures (and features, where they count) divided by the power of two
    :math:`c` at or below their largest entry, and :math:`c`.

    Every FGW value scales by :math:`c^2` and the plans do not change, so the solver works on
    entries of order 1: structures of ``1e30`` no longer overflow float32 and those of ``1e-8``
    no longer fall below the floor of the relative proximal weight. A power of two keeps the
    scaling exact.
    """
    largest = max(float(np.abs(g.C).max()) for g in graphs)
    if any(_uses_features(g, alpha) for g in graphs):
        largest = max(largest, max(float(np.abs(g.F).max(initial=0.0)) for g in graphs))
    unit = float(np.ldexp(1.0, np.frexp(largest)[1] - 1)) if largest > 0 else 1.0
    if unit == 1.0:  # entries in [1, 2), 0/1 adjacency matrices among them: nothing to scale
        return graphs, 1.0
    scaled = [Graph(g.C / unit, g.p, None if g.F is None else g.F / unit) for g in graphs]
    return scaled, unit


def _ppa_values(G1, G2, alpha, params):
    """FGW values of the PPA plans between two padded batches."""
    fused = G1.F is not None and alpha < 1.0
    F1, F2 = (G1.F, G2.F) if fused else (None, None)
    D = _feature_cost(F1, F2) if fused else None
    settings = _absolute(G1.C, G2.C, G1.p, G2.p, F1, F2, alpha if fused else 1.0, D, params)
    T, _ = _fgw_plan_ppa(G1.C, G2.C, G1.p, G2.p, D=D, alpha=alpha, **settings)
    return _fgw_loss(G1.C, G2.C, T, D, alpha).double().cpu().numpy()


def torch_solver_params(solver_params):
    """The torch backend's PPA settings: :data:`TORCH_SOLVER_PARAMS` updated by
    ``solver_params`` (an absolute ``epsilon`` replaces the default ``relative_epsilon``),
    checked."""
    params = dict(TORCH_SOLVER_PARAMS)
    if solver_params and "epsilon" in solver_params:
        del params["relative_epsilon"]
    params.update(solver_params or {})
    check_solver_params("ppa", params)
    return params


def _solve_tile(graphs_a, graphs_b, pairs, backend, alpha, device, dtype, solver_params):
    """One joblib task: the discrepancies of ``pairs`` (indices into the two lists)."""
    if backend == "pot":
        return np.array([_pot_discrepancy(graphs_a[i], graphs_b[j], alpha) for i, j in pairs])
    return _torch_discrepancies(graphs_a, graphs_b, pairs, alpha, device, dtype, solver_params)


def _tiles(n_rows, n_cols, symmetric, tile_size):
    """Blocks of the pair grid: ``(rows, cols, local pairs)``; upper triangle when symmetric."""
    side = max(1, math.isqrt(tile_size))
    row_blocks = [np.arange(s, min(s + side, n_rows)) for s in range(0, n_rows, side)]
    col_blocks = [np.arange(s, min(s + side, n_cols)) for s in range(0, n_cols, side)]
    for a, rows in enumerate(row_blocks):
        for b, cols in enumerate(col_blocks):
            if symmetric and b < a:
                continue
            local = np.stack(np.meshgrid(np.arange(len(rows)), np.arange(len(cols)), indexing="ij"))
            local = local.reshape(2, -1).T
            if symmetric and a == b:
                local = local[local[:, 0] < local[:, 1]]
            if len(local):
                yield rows, cols, local


def _tile_cost(sizes_a, sizes_b, rows, cols, local):
    """Work of a tile's pairs, :math:`\\sum n_i n_j (n_i + n_j)` (the cost of a GW gradient)."""
    n_a, n_b = sizes_a[rows[local[:, 0]]], sizes_b[cols[local[:, 1]]]
    return float(np.sum(n_a * n_b * (n_a + n_b)))


def _check_parameters(alpha, backend, tile_size, device, dtype, solver_params):
    if not isinstance(alpha, numbers.Real) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}.")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    if tile_size is not None and (not isinstance(tile_size, numbers.Integral) or tile_size < 1):
        raise ValueError(f"tile_size must be a positive integer, got {tile_size!r}.")
    resolve_dtype(dtype)
    if solver_params is not None and not isinstance(solver_params, dict):
        raise TypeError(f"solver_params must be a dict or None, got {type(solver_params)}.")
    if solver_params and backend != "torch":
        raise ValueError(
            f"solver_params sets the 'torch' backend, but backend={backend!r}; POT's solver takes "
            "no settings here."
        )
    if backend == "torch":  # before the workers start, which would each raise it
        resolve_device(device)
        torch_solver_params(solver_params)


def _named_graphs(name, X, structure, node_weights):
    """:func:`as_graphs`, its errors prefixed by the argument's name (``X`` or ``Y``)."""
    try:
        return as_graphs(X, structure=structure, node_weights=node_weights)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name}: {error}") from error


def pairwise_gw_distances(
    X,
    Y=None,
    *,
    alpha=0.5,
    backend="pot",
    structure="adjacency",
    node_weights="uniform",
    n_jobs=None,
    tile_size=None,
    device="auto",
    dtype="float32",
    solver_params=None,
    verbose=0,
):
    r"""Matrix of (fused) GW discrepancies between the graphs of ``X`` and ``Y``.

    Parameters
    ----------
    X : graphs
        Any input of :func:`~skgw.as_graphs` (list of graphs, 3-D array, 2-D table of point
        clouds).
    Y : graphs, default=None
        Second collection; None means ``X`` itself, and then only the pairs ``i < j`` are solved:
        the matrix is made symmetric with a zero diagonal (:math:`d(G, G) = 0`). Pairs of equal
        graphs (structure, weights and features) get 0 with ``Y`` given too.
    alpha : float in [0, 1], default=0.5
        Weight of the structure term; ignored (taken as 1) for graphs without node features.
    backend : {"pot", "torch"}, default="pot"
        ``"pot"``: POT's exact conditional-gradient solver, one pair at a time. ``"torch"``: the
        batched proximal point solver of :func:`skgw.ot.fgw_plan_ppa` on ``device``.
    structure : {"adjacency", "shortest_path"}, default="adjacency"
    node_weights : {"uniform", "degree"}, default="uniform"
        See :func:`~skgw.as_graphs`.
    n_jobs : int, default=None
        Number of joblib workers (None: 1 unless in a :func:`joblib.parallel_backend` context).
    tile_size : int, default=None
        Pairs per joblib task (1024 for POT, 16384 for torch when None).
    device : str, default="auto"
        Torch device (str or :class:`torch.device`) of the ``"torch"`` backend ("auto": CUDA when
        available).
    dtype : {"float32", "float64"}, default="float32"
        Precision of the ``"torch"`` backend.
    solver_params : dict, default=None
        Settings of :func:`skgw.ot.fgw_plan_ppa` overriding the ``"torch"`` backend's
        (``relative_epsilon=0.2, max_iter=9, sinkhorn_max_iter=3``: each pair's ``epsilon`` is 0.2
        times the loss of its product plan, see :func:`skgw.ot.solve_plans`; an absolute
        ``epsilon`` replaces it); a ``ValueError`` with ``"pot"``. Its
        product start keeps automorphic nodes matched alike (a path against itself ends at 0.16):
        ``{"init": "perturbed_product", "max_iter": 20}`` breaks that tie.
    verbose : int, default=0
        When positive, a progress bar over the pairs solved.

    Returns
    -------
    distances : ndarray of shape (n_graphs_X, n_graphs_Y)

    Examples
    --------
    >>> import numpy as np
    >>> from skgw import pairwise_gw_distances
    >>> path = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    >>> triangle = np.ones((3, 3)) - np.eye(3)
    >>> pairwise_gw_distances([path, triangle]).round(3)
    array([[0.   , 0.222],
           [0.222, 0.   ]])
    """
    _check_parameters(alpha, backend, tile_size, device, dtype, solver_params)
    symmetric = Y is None
    graphs_x = _named_graphs("X", X, structure, node_weights)
    graphs_y = graphs_x if symmetric else _named_graphs("Y", Y, structure, node_weights)
    dims = (graphs_x[0].n_node_features, graphs_y[0].n_node_features)
    if dims[0] != dims[1]:
        raise ValueError(f"X has {dims[0]} node features per node but Y has {dims[1]}.")
    # Graphs sorted by size: a tile then holds graphs of similar sizes, so the torch solver pads
    # little and batches many pairs of the same shape. Costliest tiles first balances the workers.
    sizes_x, sizes_y = (np.array([g.n_nodes for g in graphs]) for graphs in (graphs_x, graphs_y))
    order_x = np.argsort(sizes_x, kind="stable")
    order_y = order_x if symmetric else np.argsort(sizes_y, kind="stable")
    graphs_x, graphs_y = [graphs_x[i] for i in order_x], [graphs_y[j] for j in order_y]
    sizes_x, sizes_y = sizes_x[order_x], sizes_y[order_y]
    tiles = list(
        _tiles(len(graphs_x), len(graphs_y), symmetric, tile_size or DEFAULT_TILE_SIZE[backend])
    )
    tiles.sort(key=lambda tile: -_tile_cost(sizes_x, sizes_y, *tile))
    tasks = (
        delayed(_solve_tile)(
            [graphs_x[i] for i in rows],
            [graphs_y[j] for j in cols],
            local,
            backend,
            float(alpha),
            device,
            dtype,
            solver_params,
        )
        for rows, cols, local in tiles
    )
    results = Parallel(n_jobs=n_jobs, return_as="generator" if verbose else "list")(tasks)
    bar = progress(
        total=sum(len(local) for *_, local in tiles),
        verbose=verbose,
        desc="pairwise_gw_distances",
        unit="pair",
    )
    collected = []
    for values in results:  # in the order of the tiles
        collected.append(values)
        bar.update(len(values))
    bar.close()
    sorted_distances = np.zeros((len(graphs_x), len(graphs_y)))
    for (rows, cols, local), values in zip(tiles, collected, strict=True):
        sorted_distances[rows[local[:, 0]], cols[local[:, 1]]] = values
    if symmetric:
        sorted_distances = np.triu(sorted_distances, k=1)
        sorted_distances = sorted_distances + sorted_distances.T
    distances = np.empty_like(sorted_distances)
    distances[np.ix_(order_x, order_y)] = sorted_distances
    if not symmetric:
        # d(G, G) = 0 exactly (the identity plan), which a solver started at the product plan
        # can miss on graphs with automorphisms: the same value as the symmetric path's diagonal.
        for i, j in _identical_pairs(graphs_x, graphs_y, order_x, order_y):
            distances[i, j] = 0.0
    if not np.isfinite(distances).all():
        i, j = np.argwhere(~np.isfinite(distances))[0]
        raise FloatingPointError(
            f"The {backend} backend returned a non-finite value for pair ({i}, {j})."
        )
    # A local optimum can be a hair below zero in floating point; a discrepancy is not.
    return np.maximum(distances, 0.0)


def _identical_pairs(graphs_x, graphs_y, order_x, order_y):
    """The index pairs ``(i, j)`` of the unsorted inputs whose graphs are equal (structure,
    weights and features): ``graphs_x[k]`` is input ``order_x[k]``."""

    def key(graph):
        F = b"" if graph.F is None else graph.F.tobytes()
        return graph.C.shape, graph.C.tobytes(), graph.p.tobytes(), F

    by_key = {}
    for k, graph in enumerate(graphs_y):
        by_key.setdefault(key(graph), []).append(k)
    for k, graph in enumerate(graphs_x):
        for l in by_key.get(key(graph), ()):
            if graph == graphs_y[l]:
                yield order_x[k], order_y[l]


def distances_with_settings_of(estimator, X, Y, verbose=0):
    """:func:`pairwise_gw_distances` of validated graphs with an estimator's settings (its
    ``alpha``, ``backend``, ``n_jobs``, ``device``, ``dtype`` and ``solver_params``)."""
    return pairwise_gw_distances(
        X,
        Y,
        alpha=estimator.alpha,
        backend=estimator.backend,
        n_jobs=estimator.n_jobs,
        device=estimator.device,
        dtype=estimator.dtype,
        solver_params=estimator.solver_params,
        verbose=verbose,
    )
