"""Accepted graph inputs -> one canonical :class:`Graph`.

Every estimator goes through :func:`validate_graphs`, which accepts

- a list or tuple of graphs (or a 1-D object array or pandas Series of them), each a dense 2-D
  array or a scipy sparse matrix (the structure ``C``), a networkx graph, a ``(C, F)`` /
  ``(C, F, p)`` tuple, a mapping with keys ``"C"``, ``"F"``, ``"p"``, a :class:`Graph`, a GraKeL
  ``Graph`` or a GraKeL-style ``[A, node_labels]`` list (``A`` a 2-D adjacency matrix,
  ``node_labels`` a dict from node index to label);
- a 3-D array ``(n_graphs, n, n)`` of same-size structures;
- a 2-D numeric array or DataFrame, each row one graph: a 1-D point cloud ``x`` whose structure is
  ``C_ij = |x_i - x_j|`` and whose node features are ``F_i = x_i``.

Node labels of GraKeL graphs become node features: vectors as they are, scalar labels (numbers
or strings) one-hot over the sorted labels of the whole collection, so that the training and test
graphs of an estimator should be converted together (or given features of their own) for the
columns to mean the same thing.

A single square 2-D array is a table of point clouds, as any 2-D table; one that looks like an
adjacency matrix (symmetric, nonnegative, zero diagonal) warns that ``[A]`` is one graph.

Errors name the offending graph by its index. User arrays are never modified: every component is
copied into a fresh float64 array.
"""

import numbers
import warnings
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import shortest_path
from sklearn.utils.validation import validate_data

__all__ = ["Graph", "as_graphs", "validate_graphs"]

STRUCTURES = ("adjacency", "shortest_path")
NODE_WEIGHTS = ("uniform", "degree")


class Graph:
    """A graph as the OT kernels see it: structure, node weights and optional node features.

    Parameters
    ----------
    C : ndarray of shape (n, n)
        Structure matrix (adjacency, or shortest-path distances), nonnegative.
    p : ndarray of shape (n,)
        Node weights, nonnegative, summing to 1.
    F : ndarray of shape (n, d) or None
        Node features.

    Notes
    -----
    Instances are built by :func:`as_graphs`, which validates and copies. The graph holds
    read-only views of the arrays it is given (their own flags are left as they are), so that no
    estimator can change a graph it was given.
    """

    __slots__ = ("C", "p", "F")

    def __init__(self, C, p, F=None):
        self.C, self.p, self.F = (None if a is None else _read_only_view(a) for a in (C, p, F))

    @property
    def n_nodes(self):
        """Number of nodes ``n``."""
        return self.C.shape[0]

    @property
    def n_node_features(self):
        """Feature dimension ``d``, 0 for a graph without features."""
        return 0 if self.F is None else self.F.shape[1]

    def __repr__(self):
        return f"Graph(n_nodes={self.n_nodes}, n_node_features={self.n_node_features})"

    def __eq__(self, other):
        if not isinstance(other, Graph):
            return NotImplemented
        same_features = (self.F is None and other.F is None) or (
            self.F is not None and other.F is not None and np.array_equal(self.F, other.F)
        )
        return np.array_equal(self.C, other.C) and np.array_equal(self.p, other.p) and same_features

    __hash__ = None

    def __reduce__(self):
        return (Graph, (self.C.copy(), self.p.copy(), None if self.F is None else self.F.copy()))


def _as_array(x):
    """``np.asarray``, reading torch tensors on any device, with gradient or in bfloat16 too
    (graphs are NumPy data: the tensor is detached and copied to the CPU)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return (x.to(torch.float64) if x.is_floating_point() else x).numpy()
    return np.asarray(x)


def _read_only_view(array):
    view = _as_array(array).view()
    view.setflags(write=False)
    return view


def _check_finite_real(array, what, index):
    """Copy ``array`` into float64, rejecting ragged, complex, object, NaN and inf values."""
    try:
        array = _as_array(array)
    except ValueError as exc:  # numpy's "inhomogeneous shape" of nested lists
        raise ValueError(
            f"Graph {index}: ragged {what}: rows of different lengths, expected a rectangular "
            "array."
        ) from exc
    if np.iscomplexobj(array):
        raise ValueError(f"Graph {index}: {what} is complex; complex data not supported.")
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Graph {index}: {what} has dtype {array.dtype}, expected numbers."
            ) from exc
    array = np.array(array, dtype=np.float64, copy=True)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Graph {index}: {what} contains NaN or infinity.")
    return array


def _check_structure(C, index):
    if sp.issparse(C):
        C = C.toarray()
    C = _check_finite_real(C, "structure", index)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValueError(f"Graph {index}: structure must be a square matrix, got shape {C.shape}.")
    if C.shape[0] == 0:
        raise ValueError(f"Graph {index}: empty graph (0 nodes).")
    if np.any(C < 0):
        raise ValueError(f"Graph {index}: structure has negative entries.")
    return C


def _check_features(F, n, index):
    if F is None:
        return None
    if sp.issparse(F):
        F = F.toarray()
    F = _check_finite_real(F, "features", index)
    if F.ndim == 1:
        F = F[:, None]
    if F.ndim != 2 or F.shape[0] != n:
        hint = ""
        if F.ndim == 2 and F.shape[0] == F.shape[1]:
            hint = (
                " A tuple of two square arrays is read as one graph (C, F); to pass a pair of"
                " graphs, convert them with skgw.as_graphs first."
            )
        raise ValueError(
            f"Graph {index}: features have shape {F.shape}, expected ({n}, n_node_features)." + hint
        )
    return F


def _check_weights(p, n, index):
    p = _check_finite_real(p, "node weights", index).ravel()
    if p.shape[0] != n:
        raise ValueError(f"Graph {index}: {p.shape[0]} node weights for {n} nodes.")
    if np.any(p < 0):
        raise ValueError(f"Graph {index}: node weights are negative.")
    largest = p.max()
    if largest <= 0:
        raise ValueError(f"Graph {index}: node weights do not sum to a positive value.")
    # Divided by the largest first: the sum of finite weights near the float64 maximum is inf.
    p = p / largest
    return p / p.sum()


def _to_shortest_path(C):
    """Shortest-path distances on the weighted graph ``C``; unreachable pairs get diameter + 1."""
    D = shortest_path(sp.csr_matrix(C), directed=not np.array_equal(C, C.T))
    finite = np.isfinite(D)
    D[~finite] = (D[finite].max() if finite.any() else 0.0) + 1.0
    return D


def _default_weights(C, node_weights):
    n = C.shape[0]
    if node_weights == "degree":
        degree = C.sum(axis=1) + C.sum(axis=0)
        if degree.sum() > 0:
            return degree / degree.sum()
    return np.full(n, 1.0 / n)


def _unpack(item, index, feature_attr, weight_attr):
    """Split one accepted graph into raw ``(C, F, p)`` components; ``F`` is a
    :class:`_NodeLabels` for GraKeL input."""
    if isinstance(item, Graph):
        return item.C, item.F, item.p
    if hasattr(item, "get_adjacency_matrix") and hasattr(item, "get_labels"):  # grakel.Graph
        labels = item.get_labels(purpose="adjacency", label_type="vertex", return_none=True)
        return item.get_adjacency_matrix(), _NodeLabels.of(labels, index), None
    if _is_grakel_list(item):
        return item[0], _NodeLabels.of(item[1], index), None
    if sp.issparse(item):  # before the mapping test: a DOK matrix is a dict
        return item, None, None
    if isinstance(item, Mapping):
        unknown = set(item) - {"C", "F", "p"}
        if unknown or "C" not in item:
            raise ValueError(
                f"Graph {index}: a mapping needs key 'C' and optional 'F', 'p'; "
                f"got keys {sorted(map(str, item))}."
            )
        return item["C"], item.get("F"), item.get("p")
    if isinstance(item, tuple):
        if len(item) not in (2, 3):
            raise ValueError(f"Graph {index}: a tuple must be (C, F) or (C, F, p).")
        return (*item, None) if len(item) == 2 else item
    if type(item).__module__.startswith("networkx"):
        return _unpack_networkx(item, index, feature_attr, weight_attr)
    if hasattr(item, "__array__") or isinstance(item, list):
        return item, None, None
    raise TypeError(f"Graph {index}: cannot read a graph from {type(item).__name__}.")


def _is_grakel_list(item):
    """``[A, node_labels]`` or ``[A, node_labels, edge_labels]``: GraKeL's iterable input."""
    return (
        isinstance(item, list)
        and len(item) in (2, 3)
        and (item[1] is None or isinstance(item[1], Mapping))
        and np.ndim(item[0]) == 2
    )


class _NodeLabels:
    """The node labels of a GraKeL graph, in node order (``None``: no labels)."""

    def __init__(self, labels):
        self.labels = labels

    @classmethod
    def of(cls, labels, index):
        if labels is None:
            return None
        nodes = sorted(labels)
        if nodes != list(range(len(nodes))):
            raise ValueError(
                f"Graph {index}: node labels must be keyed by the node indices 0..n-1 of the "
                "adjacency matrix."
            )
        return cls([labels[v] for v in nodes])


def _label_features(graphs_labels):
    """Node features of GraKeL node labels: ``{index: _NodeLabels}`` -> ``{index: F}``."""
    values = [v for labels in graphs_labels.values() for v in labels.labels]
    if all(np.ndim(v) == 0 for v in values):
        try:
            vocabulary = sorted(set(values))
        except TypeError:  # labels of mixed types
            vocabulary = sorted(set(values), key=repr)
        column = {label: k for k, label in enumerate(vocabulary)}
        eye = np.eye(len(vocabulary))
        return {
            index: eye[[column[v] for v in labels.labels]]
            for index, labels in graphs_labels.items()
        }
    return {
        index: np.array([np.ravel(v) for v in labels.labels], dtype=float)
        for index, labels in graphs_labels.items()
    }


def _warn_if_adjacency(table):
    """Warn when a 2-D table read as point clouds looks like one adjacency matrix."""
    n_rows, n_cols = table.shape
    if (
        n_rows == n_cols > 1
        and np.array_equal(table, table.T)
        and not np.diagonal(table).any()
        and (table >= 0).all()
    ):
        warnings.warn(
            f"X is a square {n_rows} x {n_cols} array that looks like an adjacency matrix; a 2-D "
            f"array is a table of {n_rows} point clouds (one per row). For one graph, pass [X].",
            UserWarning,
            stacklevel=3,
        )


def _unpack_networkx(G, index, feature_attr, weight_attr):
    import networkx as nx

    nodes = list(G.nodes)
    C = nx.to_numpy_array(G, nodelist=nodes, weight=weight_attr)
    has_features = [feature_attr in G.nodes[v] for v in nodes]
    if any(has_features) and not all(has_features):
        raise ValueError(f"Graph {index}: only some nodes have the attribute {feature_attr!r}.")
    F = None
    if nodes and all(has_features):
        F = np.array([np.atleast_1d(G.nodes[v][feature_attr]) for v in nodes])
    return C, F, None


def as_graphs(
    X,
    *,
    structure="adjacency",
    node_weights="uniform",
    feature_attr="x",
    weight_attr="weight",
):
    """Convert a collection of graphs into a list of validated :class:`Graph`.

    Parameters
    ----------
    X : list, tuple, 1-D object array, ndarray of shape (n_graphs, n, n) or (n_graphs, n_nodes)
        The graphs, in any format listed in the module docstring.
    structure : {"adjacency", "shortest_path"}, default="adjacency"
        Use the structure as given, or replace it by shortest-path distances (unreachable pairs
        get the largest finite distance plus one), :class:`Graph` objects included (shortest-path
        distances are left unchanged by a second conversion). Point-cloud rows are already
        distances.
    node_weights : {"uniform", "degree"}, default="uniform"
        Weights for graphs that do not give their own: ``1/n``, or proportional to the degree
        (uniform for a graph without edges). :class:`Graph` objects always carry their weights
        ``p``, which are kept.
    feature_attr : str, default="x"
        Node attribute holding the features of networkx graphs.
    weight_attr : str or None, default="weight"
        Edge attribute holding the weights of networkx graphs (None: all edges weigh 1).

    Returns
    -------
    graphs : list of Graph

    Examples
    --------
    >>> import numpy as np
    >>> from skgw import as_graphs
    >>> as_graphs([np.ones((3, 3)) - np.eye(3)])
    [Graph(n_nodes=3, n_node_features=0)]
    """
    if structure not in STRUCTURES:
        raise ValueError(f"structure must be one of {STRUCTURES}, got {structure!r}.")
    if node_weights not in NODE_WEIGHTS:
        raise ValueError(f"node_weights must be one of {NODE_WEIGHTS}, got {node_weights!r}.")
    if sp.issparse(X):
        raise TypeError(
            "A single sparse matrix is not a collection of graphs: sparse input X is not "
            "supported; pass a list of sparse matrices instead."
        )
    if _is_object_vector(X):
        X = list(X)
    if _is_table(X):
        table = _check_finite_real(X, "table", "table")
        if table.ndim != 2 or table.size == 0:
            raise ValueError(f"Expected a non-empty 2-D table of rows, got shape {table.shape}.")
        _warn_if_adjacency(table)
        return _point_clouds(table)
    if hasattr(X, "__array__"):
        X = _as_array(X)
    if isinstance(X, np.ndarray) and X.ndim == 3:
        items = list(X)
    elif isinstance(X, (list, tuple)):
        items = list(X)
    elif isinstance(X, np.ndarray):
        raise ValueError(f"Expected a 2-D or 3-D array of graphs, got an array of shape {X.shape}.")
    else:
        raise TypeError(f"Expected a list of graphs or an array, got {type(X).__name__}.")
    if not items:
        raise ValueError("Found 0 graphs; at least one is required.")
    unpacked = [_unpack(item, index, feature_attr, weight_attr) for index, item in enumerate(items)]
    labels = {i: F for i, (_, F, _) in enumerate(unpacked) if isinstance(F, _NodeLabels)}
    if labels:
        if len(labels) < len(unpacked):
            missing = next(i for i in range(len(unpacked)) if i not in labels)
            raise ValueError(
                f"Graph {missing}: has no node labels while graph {next(iter(labels))} has; "
                "node labels become node features and must be given for every graph."
            )
        features = _label_features(labels)
        unpacked = [(C, features[i], p) for i, (C, _, p) in enumerate(unpacked)]
    graphs = []
    for index, (C, F, p) in enumerate(unpacked):
        C = _check_structure(C, index)
        F = _check_features(F, C.shape[0], index)
        p = _default_weights(C, node_weights) if p is None else _check_weights(p, len(C), index)
        if structure == "shortest_path":
            C = _to_shortest_path(C)
        graphs.append(Graph(C, p, F))
    dims = {g.n_node_features for g in graphs}
    if len(dims) > 1:
        first = graphs[0].n_node_features
        bad = next(i for i, g in enumerate(graphs) if g.n_node_features != first)
        raise ValueError(
            f"Graph {bad}: has {graphs[bad].n_node_features} node features while graph 0 has "
            f"{first}; feature dimensions must agree."
        )
    return graphs


def check_n_node_features(graphs, expected):
    """Raise a ValueError naming the first graph whose feature dimension is not ``expected``."""
    for index, graph in enumerate(graphs):
        if graph.n_node_features != expected:
            raise ValueError(
                f"Graph {index}: has {graph.n_node_features} node features, the model was "
                f"fitted on graphs with {expected} per node. Node features are the F of a "
                "Graph, of a (C, F) tuple or of a mapping's 'F', or the node attribute 'x' of "
                "networkx graphs (an array of that length per node; skgw.as_graphs' "
                "feature_attr names another attribute)."
            )


def _is_object_vector(X):
    """Whether X is a 1-D array or pandas Series of objects, one graph per entry."""
    return getattr(X, "ndim", None) == 1 and getattr(X, "dtype", None) == np.dtype(object)


def _is_table(X):
    """Whether X is a 2-D numeric table (rows are point clouds) rather than a list of graphs."""
    if _is_object_vector(X):
        return False
    if hasattr(X, "iloc"):
        return True
    if hasattr(X, "__array__") and not sp.issparse(X):
        return _as_array(X).ndim <= 2
    if isinstance(X, (list, tuple)) and X:
        return all(
            isinstance(row, (list, tuple, np.ndarray))
            and len(row) > 0
            and all(isinstance(v, numbers.Number) for v in row)
            for row in X
        )
    return False


def _point_clouds(X):
    """Rows of a 2-D table as graphs: structure ``|x_i - x_j|``, features ``x_i``."""
    n_nodes = X.shape[1]
    p = np.full(n_nodes, 1.0 / n_nodes)
    return [Graph(np.abs(x[:, None] - x[None, :]), p.copy(), x[:, None].copy()) for x in X]


def validate_graphs(
    estimator, X, *, reset, structure="adjacency", node_weights="uniform", n_node_features=None
):
    """The one validation path of every estimator: returns a list of :class:`Graph`.

    2-D tables go through :func:`sklearn.utils.validation.validate_data` first (so that
    ``n_features_in_`` and ``feature_names_in_`` are set at fit and checked afterwards); other
    inputs are converted by :func:`as_graphs`.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator being fitted or used.
    X : graphs
        See :func:`as_graphs`.
    reset : bool
        True in ``fit``, False in ``transform`` / ``predict``.
    structure, node_weights : str
        Passed to :func:`as_graphs`.
    n_node_features : int, default=None
        Feature dimension the graphs must have (the fitted one), checked by
        :func:`check_n_node_features`; not checked when None.

    Returns
    -------
    graphs : list of Graph
    """
    if sp.issparse(X):
        # validate_data gives sklearn's own message, which names sparse input.
        validate_data(estimator, X, reset=reset, accept_sparse=False)
    if _is_table(X):
        table = validate_data(estimator, X, reset=reset, dtype=np.float64)
        _warn_if_adjacency(table)
        graphs = _point_clouds(table)
    else:
        if reset:
            for attribute in ("n_features_in_", "feature_names_in_"):
                if hasattr(estimator, attribute):
                    delattr(estimator, attribute)
        graphs = as_graphs(X, structure=structure, node_weights=node_weights)
    if n_node_features is not None:
        check_n_node_features(graphs, n_node_features)
    return graphs
