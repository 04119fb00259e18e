"""Lists of graphs -> padded, masked tensors on a device, and back.

Padding convention used by every kernel in :mod:`skgw.ot`: a graph of ``n`` nodes in a batch of
width ``n_max`` has zero structure, zero features and **zero weight** on its ``n_max - n`` padded
nodes. Kernels treat zero-weight nodes as absent, so a problem solved inside a padded batch gives
the same plan as solved alone.
"""

from dataclasses import dataclass

import numpy as np
import torch

from ._graphs import Graph

__all__ = [
    "GraphBatch",
    "check_dtype_range",
    "group_by_size",
    "pad_graphs",
    "pad_stack",
    "pair_buckets",
    "size_buckets",
    "resolve_device",
    "resolve_dtype",
]


def resolve_device(device):
    """``"auto"`` -> CUDA when available, else CPU; anything else -> ``torch.device(device)``.

    Raises ``ValueError`` for a string torch does not read as a device, and for a CUDA device
    this machine does not have (torch itself would fail later, deep in a kernel).
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device={device!r} is not a torch device: {error}") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r}, but CUDA is not available to this torch "
                f"({torch.__version__}); use device='auto' or 'cpu'."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}, but this machine has {torch.cuda.device_count()} CUDA "
                "device(s)."
            )
    return resolved


DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_dtype(dtype):
    """``"float32"`` / ``"float64"`` (or the torch dtype itself) -> torch dtype."""
    if dtype in DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}.")


def check_dtype_range(graphs, dtype):
    r"""``ValueError`` naming the first graph whose entries are too large for the kernels in
    ``dtype``.

    The (fused) GW losses sum squared entries over pairs of nodes, so a graph of ``n`` nodes
    needs :math:`n \max |C_{ij}|` and :math:`n \max |F_{ik}|` below :math:`\sqrt{x_{\max}}`
    (``1.8e19`` in float32, ``1.3e154`` in float64); beyond that the losses overflow to inf and
    the solvers' checks would fail far from the cause.

    Parameters
    ----------
    graphs : list of Graph
        Named by their position in the list.
    dtype : torch.dtype
    """
    limit = float(np.sqrt(torch.finfo(dtype).max))
    name = str(dtype).removeprefix("torch.")
    for index, graph in enumerate(graphs):
        for what, values in (("structure", graph.C), ("features", graph.F)):
            if values is None or values.size == 0:
                continue
            largest = float(np.abs(values).max())
            if largest * graph.n_nodes > limit:
                raise ValueError(
                    f"Graph {index}: {what} entries reach {largest:.3g}; their squares summed "
                    f"over {graph.n_nodes} nodes overflow {name}. Rescale the graphs (one factor "
                    "on every structure and feature scales the losses and leaves the plans "
                    "as they are) or use dtype='float64'."
                )


@dataclass
class GraphBatch:
    """Padded graphs.

    Attributes
    ----------
    C : Tensor of shape (B, n_max, n_max)
        Structures, zero on padding.
    p : Tensor of shape (B, n_max)
        Node weights, zero on padding.
    F : Tensor of shape (B, n_max, d) or None
        Node features, zero on padding.
    mask : Tensor of shape (B, n_max), bool
        True on real nodes.
    sizes : ndarray of shape (B,)
        Number of real nodes of each graph.
    """

    C: torch.Tensor
    p: torch.Tensor
    F: torch.Tensor | None
    mask: torch.Tensor
    sizes: np.ndarray

    def take(self, index):
        """The batch of the graphs at ``index`` (array of int), same padded width."""
        rows = torch.as_tensor(index, device=self.C.device)
        return GraphBatch(
            C=self.C[rows],
            p=self.p[rows],
            F=None if self.F is None else self.F[rows],
            mask=self.mask[rows],
            sizes=self.sizes[np.asarray(index)],
        )

    def unpad(self):
        """The graphs back as a list of :class:`~skgw.Graph` (float64 NumPy arrays)."""
        graphs = []
        for b, n in enumerate(self.sizes):
            C = self.C[b, :n, :n].detach().cpu().double().numpy().copy()
            p = self.p[b, :n].detach().cpu().double().numpy().copy()
            F = None if self.F is None else self.F[b, :n].detach().cpu().double().numpy().copy()
            graphs.append(Graph(C, p, F))
        return graphs


def pad_graphs(graphs, *, n_max=None, device="cpu", dtype=torch.float64):
    """Stack graphs of different sizes into one :class:`GraphBatch`.

    Parameters
    ----------
    graphs : list of Graph
    n_max : int, default=None
        Padded width; the largest graph's size when None.
    device : str or torch.device, default="cpu"
    dtype : torch.dtype, default=torch.float64

    Returns
    -------
    batch : GraphBatch
    """
    sizes = np.array([g.n_nodes for g in graphs])
    n_max = int(sizes.max()) if n_max is None else int(n_max)
    if n_max < sizes.max():
        raise ValueError(f"n_max={n_max} is smaller than the largest graph ({sizes.max()}).")
    options = {"device": device, "dtype": dtype}
    return GraphBatch(
        C=pad_stack([g.C for g in graphs], n_max, node_dims=2, **options),
        p=pad_stack([g.p for g in graphs], n_max, **options),
        F=None
        if not graphs[0].n_node_features
        else pad_stack([g.F for g in graphs], n_max, **options),
        mask=torch.as_tensor(np.arange(n_max)[None, :] < sizes[:, None]).to(device),
        sizes=sizes,
    )


def pad_stack(arrays, n_max, *, node_dims=1, device="cpu", dtype=torch.float64):
    """Arrays of per-node values of graphs of different sizes, zero-padded into one tensor.

    Parameters
    ----------
    arrays : list of ndarray
        One per graph, its first ``node_dims`` dimensions of the graph's size ``n``: node weights
        ``(n,)`` or features ``(n, d)`` with ``node_dims=1``, structures ``(n, n)`` with
        ``node_dims=2``.
    n_max : int
        Padded size, at least the largest ``n``.
    node_dims : {1, 2}, default=1
    device : str or torch.device, default="cpu"
    dtype : torch.dtype, default=torch.float64

    Returns
    -------
    padded : Tensor of shape (len(arrays), n_max, ...)
    """
    tail = np.shape(arrays[0])[node_dims:]
    padded = np.zeros((len(arrays),) + (n_max,) * node_dims + tail)
    for b, array in enumerate(arrays):
        n = np.shape(array)[0]
        padded[(b,) + (slice(0, n),) * node_dims] = array
    return torch.as_tensor(padded, dtype=dtype).to(device)


def size_buckets(sizes, *, max_batch_size, max_padding=0.25):
    """Group graph indices into batches of similar sizes.

    Graphs are sorted by size and cut into consecutive runs of at most ``max_batch_size`` graphs in
    which the largest graph has at most ``(1 + max_padding)`` times the nodes of the smallest (plus
    one), so that one 95-node graph does not pad a batch of 15-node ones.

    Parameters
    ----------
    sizes : array-like of int
    max_batch_size : int
    max_padding : float, default=0.25

    Returns
    -------
    buckets : list of ndarray of int
        Indices into ``sizes``; every index appears once.
    """
    groups = group_by_size(
        list(np.asarray(sizes)), max_padding=max_padding, max_group_size=max_batch_size
    )
    return [np.array(group) for group in groups]


def pair_buckets(source_sizes, target_sizes, *, max_batch_size, max_padding=1.0, min_entries=2**22):
    r"""Group pairs of graphs into batches whose padded tensors stay close to the pairs' own.

    A batch of :math:`B` pairs padded to :math:`N` source and :math:`M` target nodes holds
    tensors of :math:`B (N^2 + M^2 + N M)` entries (structures and plans), against
    :math:`\sum_b (n_b^2 + m_b^2 + n_b m_b)` for the pairs alone. Pairs are sorted by that cost
    and cut into consecutive runs of at most ``max_batch_size`` pairs whose padded cost is at
    most ``(1 + max_padding)`` times their own, or at most ``min_entries`` (small batches, where
    padding costs nothing worth a separate call). So one large graph among small ones gets a
    batch of its own instead of padding every other pair to its size.

    Parameters
    ----------
    source_sizes, target_sizes : array-like of int, of one length
    max_batch_size : int
    max_padding : float, default=1.0
    min_entries : int, default=2**22

    Returns
    -------
    buckets : list of ndarray of int
        Every index appears once; a list of pairs that fits in one batch is returned as it is,
        in its order.
    """
    n, m = np.asarray(source_sizes, dtype=np.int64), np.asarray(target_sizes, dtype=np.int64)
    own = n * n + m * m + n * m

    def fits(count, N, M, own_sum):
        padded = count * (N * N + M * M + N * M)
        return count <= max_batch_size and (
            padded <= min_entries or padded <= (1 + max_padding) * own_sum
        )

    if len(n) and fits(len(n), n.max(), m.max(), own.sum()):
        return [np.arange(len(n))]
    buckets, current, N, M, own_sum = [], [], 0, 0, 0
    for index in np.argsort(own, kind="stable"):
        grown = (max(N, n[index]), max(M, m[index]), own_sum + own[index])
        if current and not fits(len(current) + 1, *grown):
            buckets.append(np.array(current))
            current, grown = [], (n[index], m[index], own[index])
        current.append(index)
        N, M, own_sum = grown
    buckets.append(np.array(current))
    return buckets


def group_by_size(sizes, *, max_padding=0.25, max_group_size=None):
    """Indices grouped into runs of similar sizes, so that small items are not padded to big ones.

    Items are sorted by size (stable) and cut into consecutive runs of at most
    ``max_group_size`` items in which the largest has at most ``(1 + max_padding)`` times the
    size of the smallest, plus one.

    Parameters
    ----------
    sizes : sequence of int
    max_padding : float, default=0.25
    max_group_size : int, default=None
        No limit when None.

    Returns
    -------
    groups : list of list of int
        Every index appears once.
    """
    order = sorted(range(len(sizes)), key=lambda index: sizes[index])
    groups, current = [], []
    for index in order:
        if current and (
            (max_group_size is not None and len(current) >= max_group_size)
            or sizes[index] > (1 + max_padding) * sizes[current[0]] + 1
        ):
            groups.append(current)
            current = []
        current.append(index)
    groups.append(current)
    return groups
