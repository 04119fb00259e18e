"""Helpers of the graph-list suites: the same graphs in every accepted format, node permutations."""

import networkx as nx
import numpy as np
import scipy.sparse as sp

from skgw import Graph


def in_every_format(graphs):
    """The graphs as (dense, features) tuples, (sparse, features) tuples, networkx graphs and a
    1-D object array of :class:`Graph`."""
    dense = [(g.C, g.F) for g in graphs]
    sparse = [(sp.csr_matrix(g.C), g.F) for g in graphs]
    networkx = []
    for g in graphs:
        G = nx.from_numpy_array(g.C)
        nx.set_node_attributes(G, dict(enumerate(g.F)), "x")
        networkx.append(G)
    objects = np.empty(len(graphs), dtype=object)
    objects[:] = [Graph(g.C, g.p, g.F) for g in graphs]
    return dense, sparse, networkx, objects


def permute_nodes(graphs, seed=0):
    """The graphs with their nodes relabelled by random permutations."""
    rng = np.random.RandomState(seed)
    permuted = []
    for g in graphs:
        perm = rng.permutation(g.n_nodes)
        F = None if g.F is None else g.F[perm].copy()
        permuted.append(Graph(g.C[np.ix_(perm, perm)].copy(), g.p[perm].copy(), F))
    return permuted
