r"""K-means of graphs with (fused) Gromov-Wasserstein barycenters as centers (GWB-KM).

Lloyd's iterations in the space of graphs: each graph goes to the center with the smallest
discrepancy :math:`d` (:func:`~skgw.pairwise_gw_distances`), then each center becomes the
(F)GW barycenter of its members (Peyré et al. 2016; Vayer et al. 2019),

.. math:: \bar G_c = \arg\min_{G} \frac{1}{|c|} \sum_{i \in c} d(G, G_i),

a graph of ``barycenter_size`` nodes with uniform weights. The inertia is
:math:`\sum_i d(G_i, \bar G_{c(i)})`.
"""

import numbers
import warnings

import numpy as np
import ot
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import GraphEstimatorMixin, shared_constraints
from ._batching import check_dtype_range, pad_graphs
from ._fit_state import keeps_fitted_state_on_error
from ._graphs import Graph, as_graphs
from ._progress import progress
from .ot.barycenter import _fgw_barycenter
from .pairwise import BACKENDS, distances_with_settings_of, torch_solver_params

__all__ = ["GWBarycenterKMeans"]


def _resampled(graph, size, rng):
    """A start for a barycenter of ``size`` nodes: ``size`` nodes of ``graph`` drawn at random
    (with replacement when the graph is smaller; all of them, in order, at its own size),
    uniform weights."""
    nodes = np.sort(rng.choice(graph.n_nodes, size=size, replace=size > graph.n_nodes))
    C = graph.C[np.ix_(nodes, nodes)].copy()
    F = None if graph.F is None else graph.F[nodes].copy()
    return Graph(C, np.full(size, 1.0 / size), F)


class GWBarycenterKMeans(
    GraphEstimatorMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin,
    BaseEstimator,
):  # fmt: skip
    """K-means clustering of graphs whose centers are (fused) GW barycenters.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    barycenter_size : int, "seed" or None, default=None
        Number of nodes of each center: the median size of the training graphs when None;
        ``"seed"``: each center keeps the size of the graph it starts from (the GWB-KM of Xu
        2020, whose centers start as observed graphs), so centers can differ in size.
    alpha : float in [0, 1], default=0.5
        Weight of the structure term of the fused GW discrepancy (plain GW for graphs without
        node features).
    init : {"k-means++", "random"} or list of graphs, default="k-means++"
        Seed graphs of the centers: drawn with probability proportional to their discrepancy to
        the seeds already chosen (k-means++), or uniformly; or the starting centers themselves,
        ``n_clusters`` graphs in any input of :func:`~skgw.as_graphs`, which keep their sizes
        (one run then, whatever ``n_init``).
    n_init : int, default=1
        Runs with different seeds; the run with the lowest inertia is kept.
    max_iter : int, default=10
        Most assignment / barycenter steps per run; a run stops early when the labels no longer
        change.
    barycenter_max_iter : int, default=5
        Barycenter iterations per center update, each warm-started from the previous center.
    backend : {"pot", "torch"}, default="pot"
        POT (exact conditional-gradient plans, ``ot.gromov.gromov_barycenters`` /
        ``fgw_barycenters``) or the batched torch kernels (:func:`skgw.ot.fgw_barycenter` with the
        PPA plans).
    structure : {"adjacency", "shortest_path"}, default="adjacency"
    node_weights : {"uniform", "degree"}, default="uniform"
        See :func:`~skgw.as_graphs`.
    n_jobs : int, default=None
        joblib workers for the graph-to-center discrepancies.
    device : str or torch.device, default="auto"
        Torch device of the ``"torch"`` backend.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the ``"torch"`` backend.
    solver_params : dict, default=None
        Settings of the ``"torch"`` backend's plans (:func:`skgw.ot.fgw_plan_ppa`), the same for
        the discrepancies and the barycenter updates: those of
        :func:`~skgw.pairwise_gw_distances` (``relative_epsilon=0.2, max_iter=9,
        sinkhorn_max_iter=3``) updated by these. ``{"init": "perturbed_product", "max_iter":
        30}`` lets copies of a symmetric graph cluster around that graph rather than a blurred
        one.
    random_state : int, RandomState instance or None, default=None
        Seeds of the centers and of POT's barycenters.
    verbose : int, default=0
        When positive, a progress bar over the steps of each run, with the inertia.

    Attributes
    ----------
    cluster_centers_ : list of Graph
        The barycenters.
    labels_ : ndarray of shape (n_graphs,)
    inertia_ : float
        Sum of the discrepancies of the graphs to their centers.
    n_iter_ : int
        Steps of the kept run.
    n_features_in_ : int
        Number of columns of 2-D input (point-cloud rows) seen at fit; absent for graph lists.

    Examples
    --------
    >>> from skgw import GWBarycenterKMeans
    >>> from skgw.datasets import make_sbm_graphs
    >>> graphs, y = make_sbm_graphs(12, random_state=0)
    >>> model = GWBarycenterKMeans(n_clusters=3, random_state=0).fit(graphs)
    >>> model.transform(graphs[:2]).shape
    (2, 3)
    """

    _parameter_constraints = {
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left")],
        "barycenter_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"seed"}),
            None,
        ],
        "alpha": [Interval(numbers.Real, 0, 1, closed="both")],
        "init": [StrOptions({"k-means++", "random"}), list],
        "n_init": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "barycenter_max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "backend": [StrOptions(set(BACKENDS))],
        "n_jobs": [numbers.Integral, None],
        **shared_constraints(),
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        barycenter_size=None,
        alpha=0.5,
        init="k-means++",
        n_init=1,
        max_iter=10,
        barycenter_max_iter=5,
        backend="pot",
        structure="adjacency",
        node_weights="uniform",
        n_jobs=None,
        device="auto",
        dtype="float32",
        solver_params=None,
        random_state=None,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.barycenter_size = barycenter_size
        self.alpha = alpha
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.barycenter_max_iter = barycenter_max_iter
        self.backend = backend
        self.structure = structure
        self.node_weights = node_weights
        self.n_jobs = n_jobs
        self.device = device
        self.dtype = dtype
        self.solver_params = solver_params
        self.random_state = random_state
        self.verbose = verbose

    def _distances(self, graphs, centers):
        return distances_with_settings_of(self, graphs, centers)

    def _n_node_features(self):
        return self.cluster_centers_[0].n_node_features

    def _seeds(self, graphs, rng):
        """Indices of the graphs that seed the centers."""
        first = rng.randint(len(graphs))
        if self.init == "random":
            return rng.choice(len(graphs), size=self.n_clusters, replace=False)
        seeds = [first]
        closest = self._distances(graphs, [graphs[first]])[:, 0]
        for _ in range(1, self.n_clusters):
            weights = closest.copy()
            weights[seeds] = 0.0
            if weights.sum() <= 0:  # every graph equals a seed: draw among the others
                weights = np.ones(len(graphs))
                weights[seeds] = 0.0
            seeds.append(rng.choice(len(graphs), p=weights / weights.sum()))
            closest = np.minimum(closest, self._distances(graphs, [graphs[seeds[-1]]])[:, 0])
        return np.array(seeds)

    def _barycenter(self, members, start, seed):
        """(F)GW barycenter of the member graphs, warm-started at ``start``."""
        fused = start.F is not None and self.alpha < 1.0
        size = start.n_nodes
        lambdas = [1.0 / len(members)] * len(members)
        if self.backend == "pot":
            Cs, ps = [g.C for g in members], [g.p for g in members]
            if not fused:
                C = ot.gromov.gromov_barycenters(
                    size, Cs, ps, start.p, lambdas, "square_loss",
                    max_iter=self.barycenter_max_iter, init_C=start.C, random_state=seed,
                )  # fmt: skip
                return Graph(
                    np.asarray(C), start.p.copy(), None if start.F is None else start.F.copy()
                )
            F, C = ot.gromov.fgw_barycenters(
                size, [g.F for g in members], Cs, ps, lambdas, self.alpha, p=start.p,
                max_iter=self.barycenter_max_iter, init_C=start.C, init_X=start.F,
                random_state=seed,
            )  # fmt: skip
            return Graph(np.asarray(C), start.p.copy(), np.asarray(F))
        device, dtype = self._device(), self._dtype()
        batch = pad_graphs(members, device=device, dtype=dtype)
        center = pad_graphs([start], device=device, dtype=dtype)
        weights = torch.full((1, len(members)), 1.0 / len(members), dtype=dtype, device=device)
        # The torch backend's fixed budget of steps (TORCH_SOLVER_PARAMS), as for its
        # discrepancies: no convergence is claimed, so none is warned about.
        with torch.no_grad():
            C, F, _, _ = _fgw_barycenter(
                weights,
                batch.C,
                batch.p,
                center.C,
                center.p,
                H=batch.F if fused else None,
                F0=center.F if fused else None,
                alpha=self.alpha,
                max_iter=self.barycenter_max_iter,
                solver_params=torch_solver_params(self.solver_params),
            )
        C = C[0].double().cpu().numpy()
        if not fused:
            return Graph(C, start.p.copy(), None if start.F is None else start.F.copy())
        return Graph(C, start.p.copy(), F[0].double().cpu().numpy())

    def _run(self, graphs, size, rng, initial_centers=None):
        """One k-means run: (inertia, labels, centers, n_iter)."""
        if initial_centers is not None:
            centers = list(initial_centers)
        else:
            centers = [
                _resampled(graphs[i], graphs[i].n_nodes if size == "seed" else size, rng)
                for i in self._seeds(graphs, rng)
            ]
        labels = None
        steps = progress(
            range(1, self.max_iter + 1), verbose=self.verbose, desc="GWBarycenterKMeans",
            unit="step",
        )  # fmt: skip
        n_steps = 0
        for _ in steps:
            n_steps += 1
            distances = self._distances(graphs, centers)
            new_labels = distances.argmin(axis=1)
            for cluster in range(self.n_clusters):
                if not np.any(new_labels == cluster):
                    # Empty cluster: take the graph farthest from its center, if it is not alone.
                    counts = np.bincount(new_labels, minlength=self.n_clusters)
                    own = distances[np.arange(len(graphs)), new_labels]
                    own[counts[new_labels] < 2] = -np.inf
                    new_labels[np.argmax(own)] = cluster
            steps.set_postfix(inertia=f"{distances[np.arange(len(graphs)), new_labels].sum():.6g}")
            if labels is not None and np.array_equal(labels, new_labels):
                break
            labels = new_labels
            centers = [
                self._barycenter(
                    [graphs[i] for i in np.flatnonzero(labels == cluster)],
                    centers[cluster],
                    rng.randint(np.iinfo(np.int32).max),
                )
                for cluster in range(self.n_clusters)
            ]
        steps.close()
        distances = self._distances(graphs, centers)
        labels = distances.argmin(axis=1)
        return distances.min(axis=1).sum(), labels, centers, n_steps

    def _initial_centers(self, graphs):
        """The centers given as ``init``, validated; None for a seeding strategy."""
        if isinstance(self.init, str):
            return None
        centers = as_graphs(self.init, structure=self.structure, node_weights=self.node_weights)
        if len(centers) != self.n_clusters:
            raise ValueError(f"init holds {len(centers)} centers but n_clusters={self.n_clusters}.")
        if centers[0].n_node_features != graphs[0].n_node_features:
            raise ValueError(
                f"The init centers have {centers[0].n_node_features} node features but the "
                f"graphs have {graphs[0].n_node_features}."
            )
        return centers

    @keeps_fitted_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Cluster the graphs.

        Parameters
        ----------
        X : graphs
            Any input of :func:`~skgw.as_graphs`.
        y : ignored

        Returns
        -------
        self : GWBarycenterKMeans
        """
        graphs = self._validated(X, reset=True)
        if len(graphs) < self.n_clusters:
            raise ValueError(f"n_samples={len(graphs)} should be >= n_clusters={self.n_clusters}.")
        if self.backend == "torch":
            check_dtype_range(graphs, self._dtype())
        rng = check_random_state(self.random_state)
        size = self.barycenter_size
        if size is None:
            size = int(round(np.median([g.n_nodes for g in graphs])))
        initial_centers = self._initial_centers(graphs)
        best = None
        for _ in range(1 if initial_centers is not None else self.n_init):
            run = self._run(graphs, size, rng, initial_centers)
            if best is None or run[0] < best[0]:
                best = run
        self.inertia_, self.labels_, self.cluster_centers_, self.n_iter_ = best
        self.inertia_ = float(self.inertia_)
        n_distinct = len(np.unique(self.labels_))
        if n_distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate graphs in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._n_features_out = self.n_clusters
        return self

    def transform(self, X):
        """Discrepancies of the graphs to the centers.

        Parameters
        ----------
        X : graphs

        Returns
        -------
        distances : ndarray of shape (n_graphs, n_clusters)
        """
        check_is_fitted(self)
        return self._distances(self._validated(X, reset=False), self.cluster_centers_)

    def predict(self, X):
        """Index of the closest center of each graph.

        Parameters
        ----------
        X : graphs

        Returns
        -------
        labels : ndarray of shape (n_graphs,)
        """
        return self.transform(X).argmin(axis=1)

    def score(self, X, y=None):
        """Opposite of the inertia of ``X``: minus the sum of each graph's discrepancy to its
        closest center (as :meth:`sklearn.cluster.KMeans.score`; higher is better).

        Parameters
        ----------
        X : graphs
        y : ignored

        Returns
        -------
        score : float
        """
        return -float(self.transform(X).min(axis=1).sum())
