r"""Node feature scaling: the affine map an estimator fits on its training nodes so that fused GW
weighs structure and features the same way whatever the units and the number of feature columns.

With :math:`m_j` and :math:`\sigma_j` the mean and standard deviation of feature column ``j``
over every node of the training graphs (:math:`\sigma_j = 1` for a constant column) and ``r``
the number of non-constant columns, a node's features become

.. math:: \tilde f_j = \frac{f_j - m_j}{s_j}, \qquad
          s_j = \sigma_j \ \text{(``"standard"``)}, \qquad
          s_j = \sigma_j \sqrt{r} \ \text{(``"unit_total_variance"``)}.

``"standard"`` gives every column unit variance (scikit-learn's
:class:`~sklearn.preprocessing.StandardScaler` over nodes), so the squared Euclidean feature cost
between two random training nodes averages :math:`2r`; ``"unit_total_variance"`` divides further
by :math:`\sqrt r`, so that the column variances sum to one and that mean cost is 2 whatever the
dimension: raw coordinates in any unit, one-hot labels and many attributes all meet a structure
term of the same size.
"""

import numpy as np

from ._graphs import Graph

__all__ = ["FEATURE_SCALINGS", "fit_feature_scaling", "scale_graph_features"]

FEATURE_SCALINGS = ("unit_total_variance", "standard")


def fit_feature_scaling(graphs, scaling):
    """The centre ``m`` and the divisor ``s`` of the node features of ``graphs``.

    Parameters
    ----------
    graphs : list of Graph
        The training graphs (all with features, or all without).
    scaling : {"unit_total_variance", "standard"} or None

    Returns
    -------
    mean, scale : ndarray of shape (d,), or None
        None when ``scaling`` is None or the graphs have no node features.
    """
    if scaling is None or graphs[0].F is None:
        return None, None
    if scaling not in FEATURE_SCALINGS:
        raise ValueError(f"feature_scaling must be one of {FEATURE_SCALINGS} or None.")
    nodes = np.vstack([g.F for g in graphs])
    mean, std = nodes.mean(axis=0), nodes.std(axis=0)
    varying = std > 0
    scale = np.where(varying, std, 1.0)
    if scaling == "unit_total_variance":
        scale = scale * np.sqrt(max(int(varying.sum()), 1))
    return mean, scale


def scale_graph_features(graphs, mean, scale, inverse=False):
    """Graphs whose features are mapped to ``(F - mean) / scale`` (``inverse``: back, ``F *
    scale + mean``); new :class:`Graph` objects sharing the structures and node weights, the
    graphs given left as they are. With ``mean`` None the graphs are returned unchanged."""
    if mean is None:
        return list(graphs)
    return [
        Graph(g.C, g.p, g.F * scale + mean if inverse else (g.F - mean) / scale) for g in graphs
    ]
