r"""The FUGW problems ULOT solves: normalised inputs and padded, batched pairs.

For a pair of graphs ULOT (and so :class:`~skgw.FUGWPlanPredictor`) minimises the FUGW loss
(:func:`skgw.ot.fugw_loss`) on normalised inputs:

- structures :math:`C = S / (10\, \bar S)`, with :math:`S` the shortest-path distances of the
  graph (or the structure as given) and :math:`\bar S` its mean entry;
- feature cost :math:`D = M / (10\, \bar M)`, with :math:`M_{ij} = \|F_{s,i} - F_{t,j}\|^2` and
  :math:`\bar M` its mean over the pair's nodes (no feature term for graphs without features);
- node weights :math:`w_s, w_t` the graphs' own (uniform by default).
"""

from dataclasses import dataclass

import numpy as np
import torch

from .._batching import pad_stack
from .._graphs import STRUCTURES, _to_shortest_path, as_graphs
from ..ot import feature_cost
from ._network import normalized_adjacency

__all__ = [
    "PairSide",
    "PreparedGraph",
    "normalized_fugw_inputs",
    "pad_side",
    "pair_feature_cost",
    "prepare_graph",
]


@dataclass(frozen=True)
class PreparedGraph:
    """One graph as the predictor uses it: adjacency ``A`` for the network, normalised loss
    structure ``S``, node features ``F`` (a constant column for graphs without features),
    node weights ``p`` and whether the features are real."""

    A: np.ndarray
    S: np.ndarray
    F: np.ndarray
    p: np.ndarray
    has_features: bool


def prepare_graph(graph, structure="shortest_path"):
    """:class:`PreparedGraph` of a :class:`~skgw.Graph` (module docstring)."""
    S = _to_shortest_path(graph.C) if structure == "shortest_path" else np.array(graph.C)
    mean = S.mean()
    S = S / (10.0 * mean) if mean > 0 else S
    has_features = graph.F is not None
    F = graph.F if has_features else np.ones((graph.n_nodes, 1))
    return PreparedGraph(np.asarray(graph.C), S, np.asarray(F), np.asarray(graph.p), has_features)


@dataclass
class PairSide:
    """One side (sources or targets) of a batch of pairs, padded to ``n`` nodes.

    Attributes
    ----------
    F : Tensor of shape (B, n, d)
    A_hat : Tensor of shape (B, n, n)
        Normalised adjacency of the GCN (:func:`._network.normalized_adjacency`).
    S : Tensor of shape (B, n, n)
        Normalised loss structure.
    p : Tensor of shape (B, n)
    mask : Tensor of shape (B, n), bool
    sizes : ndarray of shape (B,)
    """

    F: torch.Tensor
    A_hat: torch.Tensor
    S: torch.Tensor
    p: torch.Tensor
    mask: torch.Tensor
    sizes: np.ndarray


def pad_side(graphs, device, dtype):
    """Stack :class:`PreparedGraph` objects into a :class:`PairSide`."""
    sizes = np.array([g.p.shape[0] for g in graphs])
    n = int(sizes.max())
    mask = torch.as_tensor(np.arange(n)[None, :] < sizes[:, None], device=device)
    options = {"device": device, "dtype": dtype}
    A = pad_stack([g.A for g in graphs], n, node_dims=2, **options)
    return PairSide(
        pad_stack([g.F for g in graphs], n, **options),
        normalized_adjacency(A, mask),
        pad_stack([g.S for g in graphs], n, node_dims=2, **options),
        pad_stack([g.p for g in graphs], n, **options),
        mask,
        sizes,
    )


def pair_feature_cost(source, target, has_features):
    """Normalised feature cost :math:`M / (10 \\bar M)` of a batch (None without features)."""
    if not has_features:
        return None
    M = feature_cost(source.F, target.F)
    pair_mask = (source.mask[:, :, None] & target.mask[:, None, :]).to(M.dtype)
    M = M * pair_mask
    mean = M.sum(dim=(1, 2)) / pair_mask.sum(dim=(1, 2))
    return M / torch.where(mean > 0, 10.0 * mean, 1.0)[:, None, None]


def normalized_fugw_inputs(source, target, structure="shortest_path"):
    """The normalised FUGW problem of one pair, as NumPy arrays (to give to any solver).

    Parameters
    ----------
    source, target : Graph or any single graph :func:`skgw.as_graphs` accepts
    structure : {"shortest_path", "adjacency"}, default="shortest_path"

    Returns
    -------
    inputs : dict
        ``Cs`` (n, n), ``Ct`` (m, m), ``ws`` (n,), ``wt`` (m,), ``D`` (n, m) or None.
    """
    if structure not in STRUCTURES:
        raise ValueError(f"structure must be one of {STRUCTURES}, got {structure!r}.")
    graphs = as_graphs([source, target])  # graph 0 is the source, graph 1 the target
    prepared = [prepare_graph(g, structure) for g in graphs]
    sides = [pad_side([g], "cpu", torch.float64) for g in prepared]
    D = pair_feature_cost(*sides, prepared[0].has_features)
    return {
        "Cs": prepared[0].S,
        "Ct": prepared[1].S,
        "ws": prepared[0].p.copy(),
        "wt": prepared[1].p.copy(),
        "D": None if D is None else D[0].numpy(),
    }
