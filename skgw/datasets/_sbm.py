"""Stochastic block model graphs of the ULOT paper (three linearly connected clusters)."""

import numpy as np
from sklearn.utils import check_random_state

from .._graphs import Graph

__all__ = ["CLUSTER_SETS", "make_sbm_graphs", "make_sbm_pairs"]

CLUSTER_SETS = ((0, 1, 2), (0, 1), (1, 2))
"""The three graph types: clusters {1, 2, 3}, {1, 2} and {2, 3} (0-based here)."""


def _sbm_graph(cluster_set, n_nodes, p_in, p_out, noise, rng):
    """One SBM graph: the nodes split evenly over the clusters of ``cluster_set``."""
    clusters = np.sort(rng.choice(cluster_set, size=n_nodes))
    clusters[: len(cluster_set)] = cluster_set  # every cluster of the set has a node
    clusters = np.sort(clusters)
    gap = np.abs(clusters[:, None] - clusters[None, :])
    # p_in inside a cluster, p_out between adjacent clusters, 0 between clusters 1 and 3.
    probability = np.where(gap == 0, p_in, np.where(gap == 1, p_out, 0.0))
    upper = np.triu(rng.random_sample((n_nodes, n_nodes)) < probability, k=1)
    C = (upper | upper.T).astype(np.float64)
    F = np.eye(3)[clusters] + noise * rng.standard_normal((n_nodes, 3))
    return Graph(C, np.full(n_nodes, 1.0 / n_nodes), F), clusters


def _check_sbm_parameters(n_graphs, low, high, p_in, p_out, noise, types):
    """ValueError naming the first parameter of :func:`make_sbm_graphs` out of its range."""
    if not (isinstance(n_graphs, (int, np.integer)) and n_graphs >= 0):
        raise ValueError(f"n_graphs must be a nonnegative integer, got {n_graphs!r}.")
    if types.ndim != 1 or not len(types) or not np.isin(types, range(len(CLUSTER_SETS))).all():
        raise ValueError(
            f"cluster_sets must be a nonempty sequence of indices in 0..2, got {types.tolist()!r}."
        )
    n_clusters = max(len(CLUSTER_SETS[kind]) for kind in types)
    if not (n_clusters <= low <= high):
        raise ValueError(
            f"n_nodes must be a size or a range (low, high) with {n_clusters} <= low <= high "
            f"(every cluster of a graph gets a node), got ({low}, {high})."
        )
    for name, value in (("p_in", p_in), ("p_out", p_out)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}.")
    if not noise >= 0:
        raise ValueError(f"noise must be nonnegative, got {noise!r}.")


def make_sbm_graphs(
    n_graphs=100,
    *,
    n_nodes=(30, 58),
    p_in=0.6,
    p_out=0.05,
    noise=0.2,
    cluster_sets=None,
    return_node_clusters=False,
    random_state=None,
):
    """Stochastic block model graphs with three linearly connected clusters (ULOT, section 4).

    Each graph picks a type uniformly among the cluster sets {1, 2, 3}, {1, 2} and {2, 3}, a size
    uniformly in ``n_nodes`` (inclusive), assigns each node a cluster of its set at random, and
    draws edges with probability ``p_in`` inside a cluster, ``p_out`` between clusters 1-2 and
    2-3, and 0 between clusters 1 and 3. Node features are the one-hot cluster plus Gaussian noise
    of standard deviation ``noise``.

    Parameters
    ----------
    n_graphs : int, default=100
    n_nodes : int or (int, int), default=(30, 58)
        Fixed size, or inclusive range of sizes.
    p_in, p_out : float, default=0.6, 0.05
    noise : float, default=0.2
    cluster_sets : sequence of int, default=None
        Types to draw from (indices into :data:`CLUSTER_SETS`); all three when None.
    return_node_clusters : bool, default=False
        Also return each graph's node clusters (0-based).
    random_state : int, RandomState instance or None, default=None
        Seeds the types, sizes, node clusters, edges and feature noise.

    Returns
    -------
    graphs : list of Graph
        Adjacency structure, uniform weights, 3 node features.
    y : ndarray of shape (n_graphs,)
        Type of each graph: index into :data:`CLUSTER_SETS`.
    node_clusters : list of ndarray
        Only when ``return_node_clusters``.

    Examples
    --------
    >>> from skgw.datasets import make_sbm_graphs
    >>> graphs, y = make_sbm_graphs(3, random_state=0)
    >>> [g.n_nodes for g in graphs], y.tolist()
    ([33, 57, 33], [0, 1, 0])
    """
    rng = check_random_state(random_state)
    low, high = (n_nodes, n_nodes) if np.isscalar(n_nodes) else n_nodes
    types = np.arange(len(CLUSTER_SETS)) if cluster_sets is None else np.asarray(cluster_sets)
    _check_sbm_parameters(n_graphs, low, high, p_in, p_out, noise, types)
    y = rng.choice(types, size=n_graphs)
    sizes = rng.randint(low, high + 1, size=n_graphs)
    graphs, node_clusters = [], []
    for kind, size in zip(y, sizes, strict=True):
        graph, clusters = _sbm_graph(CLUSTER_SETS[kind], size, p_in, p_out, noise, rng)
        graphs.append(graph)
        node_clusters.append(clusters)
    if return_node_clusters:
        return graphs, y, node_clusters
    return graphs, y


def make_sbm_pairs(n_pairs=100, *, random_state=None, **params):
    """Pairs of independent SBM graphs for plan prediction.

    Parameters
    ----------
    n_pairs : int, default=100
    random_state : int, RandomState instance or None, default=None
        Seeds the graphs, as in :func:`make_sbm_graphs`.
    **params
        Passed to :func:`make_sbm_graphs`.

    Returns
    -------
    pairs : list of (Graph, Graph)
    types : ndarray of shape (n_pairs, 2)
        Type of the source and target graphs.
    """
    graphs, y = make_sbm_graphs(2 * n_pairs, random_state=random_state, **params)
    pairs = list(zip(graphs[0::2], graphs[1::2], strict=True))
    return pairs, np.stack([y[0::2], y[1::2]], axis=1)
