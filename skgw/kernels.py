r"""The fused Gromov-Wasserstein kernel (FGWK, Vayer et al. 2019) as a transformer.

.. math:: k(G, G_j) = \exp(-d(G, G_j) / \sigma)

with :math:`d` the (fused) GW discrepancy of :func:`~skgw.pairwise_gw_distances` and
:math:`G_j` the training graphs. The rows go straight into ``SVC(kernel="precomputed")`` or
``SpectralClustering(affinity="precomputed")``. The kernel is not positive definite in general
(GW is not a Hilbertian distance); SVC and spectral clustering work with it regardless, as in the
paper's experiments.
"""

import numbers

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import GraphEstimatorMixin, shared_constraints
from ._fit_state import keeps_fitted_state_on_error
from .pairwise import BACKENDS, distances_with_settings_of

__all__ = ["FGWKernel"]


class FGWKernel(
    GraphEstimatorMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    r"""Kernel rows :math:`\exp(-d(G, G_j) / \sigma)` against the training graphs.

    Parameters
    ----------
    alpha : float in [0, 1], default=0.5
        Weight of the structure term of the fused GW discrepancy (plain GW for graphs without
        node features).
    bandwidth : float > 0, default=1.0
        Bandwidth :math:`\sigma` of the kernel.
    backend : {"pot", "torch"}, default="pot"
        POT's exact conditional gradient, or the batched torch proximal point solver
        (:func:`~skgw.pairwise_gw_distances`).
    structure : {"adjacency", "shortest_path"}, default="adjacency"
    node_weights : {"uniform", "degree"}, default="uniform"
        See :func:`~skgw.as_graphs`.
    n_jobs : int, default=None
        joblib workers for the pairwise computation; it also runs on any joblib backend
        (``dask`` included) chosen with :func:`joblib.parallel_backend`.
    device : str or torch.device, default="auto"
        Torch device of the ``"torch"`` backend.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the ``"torch"`` backend.
    solver_params : dict, default=None
        Settings of the ``"torch"`` backend's solver (see :func:`~skgw.pairwise_gw_distances`).
    verbose : int, default=0
        When positive, a progress bar over the pairs of each ``transform``.

    Attributes
    ----------
    fit_graphs_ : list of Graph
        The training graphs (the kernel's columns).
    n_features_in_ : int
        Number of columns of 2-D input (point-cloud rows) seen at fit; absent for graph lists.

    See Also
    --------
    skgw.pairwise_gw_distances : The discrepancy matrix itself.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> from skgw import FGWKernel
    >>> from skgw.datasets import make_sbm_graphs
    >>> graphs, y = make_sbm_graphs(20, random_state=0)
    >>> model = make_pipeline(FGWKernel(bandwidth=0.1), SVC(kernel="precomputed")).fit(graphs, y)
    >>> model.predict(graphs[:4]).shape
    (4,)
    """

    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0, 1, closed="both")],
        "bandwidth": [Interval(numbers.Real, 0, None, closed="neither")],
        "backend": [StrOptions(set(BACKENDS))],
        "n_jobs": [numbers.Integral, None],
        **shared_constraints(
            "structure", "node_weights", "device", "dtype", "solver_params", "verbose"
        ),
    }

    def __init__(
        self,
        *,
        alpha=0.5,
        bandwidth=1.0,
        backend="pot",
        structure="adjacency",
        node_weights="uniform",
        n_jobs=None,
        device="auto",
        dtype="float32",
        solver_params=None,
        verbose=0,
    ):
        self.alpha = alpha
        self.bandwidth = bandwidth
        self.backend = backend
        self.structure = structure
        self.node_weights = node_weights
        self.n_jobs = n_jobs
        self.device = device
        self.dtype = dtype
        self.solver_params = solver_params
        self.verbose = verbose

    def _n_node_features(self):
        return self.fit_graphs_[0].n_node_features

    @keeps_fitted_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Keep the training graphs.

        Parameters
        ----------
        X : graphs
            Any input of :func:`~skgw.as_graphs`.
        y : ignored

        Returns
        -------
        self : FGWKernel
        """
        self.fit_graphs_ = self._validated(X, reset=True)
        self._n_features_out = len(self.fit_graphs_)
        return self

    def fit_transform(self, X, y=None):
        """Fit on ``X`` and return its Gram matrix, symmetric with a unit diagonal.

        Each pair ``i < j`` is solved once (:func:`~skgw.pairwise_gw_distances` of ``X`` alone).
        ``fit(X).transform(X)`` solves both orders of each pair, which a local solver need not
        score alike: the two agree up to that asymmetry, and on the diagonal.

        Parameters
        ----------
        X : graphs
        y : ignored

        Returns
        -------
        K : ndarray of shape (n_graphs, n_graphs)
        """
        self.fit(X)
        distances = distances_with_settings_of(self, self.fit_graphs_, None, self.verbose)
        return np.exp(-distances / self.bandwidth)

    def transform(self, X):
        """Kernel rows of ``X`` against the training graphs.

        Parameters
        ----------
        X : graphs

        Returns
        -------
        K : ndarray of shape (n_graphs, n_training_graphs)
            1 wherever a graph of ``X`` equals a training graph (:math:`d(G, G) = 0`).
        """
        check_is_fitted(self)
        graphs = self._validated(X, reset=False)
        distances = distances_with_settings_of(self, graphs, self.fit_graphs_, self.verbose)
        return np.exp(-distances / self.bandwidth)
