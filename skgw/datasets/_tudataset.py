"""Reader of the TU Dortmund graph benchmark collection (raw text format)."""

import io
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._graphs import Graph

__all__ = ["get_data_home", "load_mutag", "load_tudataset"]

TU_URL = "https://www.chrsmrrs.com/graphkerneldatasets/{name}.zip"
NODE_FEATURES = ("auto", "attributes", "labels", "both", None)


def get_data_home(data_home=None):
    """Folder of the TU datasets: ``data_home``, else ``$SKGW_DATA``, else ``~/skgw_data``."""
    if data_home is None:
        data_home = os.environ.get("SKGW_DATA", Path("~") / "skgw_data")
    return Path(data_home).expanduser()


def _download(name, data_home):
    """Fetch ``name.zip`` from the TU Dortmund site and unpack it under ``data_home``."""
    url = TU_URL.format(name=name)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
    except (urllib.error.URLError, TimeoutError) as error:
        raise OSError(
            f"Could not download {name} from {url} ({error}). Check the dataset name, or put its "
            f"raw files ({name}_A.txt, ...) in {data_home / name}."
        ) from error
    data_home.mkdir(parents=True, exist_ok=True)
    tmp = data_home / f".{name}.partial"
    archive.extractall(tmp)
    shutil.move(str(tmp / name), str(data_home / name))
    shutil.rmtree(tmp, ignore_errors=True)


def _read(folder, name, suffix, dtype):
    path = folder / f"{name}_{suffix}.txt"
    if not path.exists():
        return None
    return np.loadtxt(path, delimiter=",", dtype=dtype, ndmin=1)


def _raw_arrays(folder, name):
    """The raw TU arrays of one dataset, 0-based."""
    raw = {
        "edges": _read(folder, name, "A", np.int64),
        "graph_indicator": _read(folder, name, "graph_indicator", np.int64),
        "graph_labels": _read(folder, name, "graph_labels", np.int64),
        "node_labels": _read(folder, name, "node_labels", np.int64),
        "node_attributes": _read(folder, name, "node_attributes", np.float64),
    }
    if raw["edges"] is None or raw["graph_indicator"] is None:
        raise FileNotFoundError(f"{folder} does not hold the TU files of {name}.")
    return raw


def _build(raw, node_features):
    """Raw TU arrays -> graphs with de-duplicated symmetric adjacency, features and labels."""
    indicator = raw["graph_indicator"] - 1
    n_graphs = int(indicator.max()) + 1
    n_nodes_total = indicator.shape[0]
    graph_start = np.searchsorted(indicator, np.arange(n_graphs + 1))
    edges = raw["edges"].reshape(-1, 2) - 1

    attributes = raw["node_attributes"]
    if attributes is not None and attributes.ndim == 1:
        attributes = attributes[:, None]
    labels = raw["node_labels"]
    if labels is not None:
        labels = labels.reshape(n_nodes_total, -1)[:, 0]
        values, labels = np.unique(labels, return_inverse=True)
        labels = np.eye(len(values))[labels]
    if node_features == "auto":
        node_features = "attributes" if attributes is not None else "labels"
    parts = {
        "attributes": [attributes],
        "labels": [labels],
        "both": [attributes, labels],
        None: [],
    }[node_features]
    parts = [part for part in parts if part is not None]
    features = np.hstack(parts) if parts else None

    edge_graph = indicator[edges[:, 0]]
    order = np.argsort(edge_graph, kind="stable")
    edge_start = np.searchsorted(edge_graph[order], np.arange(n_graphs + 1))
    graphs = []
    for g in range(n_graphs):
        start, stop = graph_start[g], graph_start[g + 1]
        n = stop - start
        local = edges[order[edge_start[g] : edge_start[g + 1]]] - start
        C = np.zeros((n, n))
        C[local[:, 0], local[:, 1]] = 1.0
        C = np.maximum(C, C.T)  # every edge once, both directions (IMDB lists each twice)
        F = None if features is None else features[start:stop].copy()
        graphs.append(Graph(C, np.full(n, 1.0 / n), F))
    y = raw["graph_labels"]
    return graphs, y


def _bunch(graphs, y, name, return_X_y):
    if return_X_y:
        return graphs, y
    n_edges = np.array([np.count_nonzero(np.triu(g.C)) for g in graphs])
    return Bunch(
        data=graphs,
        target=y,
        name=name,
        n_edges=n_edges,
        DESCR=(
            f"{name} from the TU Dortmund graph benchmark collection (Morris et al. 2020): "
            f"{len(graphs)} graphs, classes {np.unique(y).tolist()}."
        ),
    )


def load_tudataset(
    name, *, data_home=None, node_features="auto", download_if_missing=True, return_X_y=False
):
    """Load a dataset of the TU Dortmund collection from its raw text files.

    Files are looked up in ``data_home/name/name_*.txt`` (``NAME_A.txt``,
    ``NAME_graph_indicator.txt``, ``NAME_graph_labels.txt`` and, where present,
    ``NAME_node_labels.txt`` and ``NAME_node_attributes.txt``) and downloaded from the TU Dortmund
    website when missing. Adjacency matrices are symmetric 0/1 with every edge counted once, even
    where the raw file lists it several times (IMDB-BINARY, IMDB-MULTI).

    Parameters
    ----------
    name : str
        Dataset name, e.g. ``"MUTAG"``, ``"PROTEINS"``, ``"IMDB-BINARY"``.
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    node_features : {"auto", "attributes", "labels", "both"} or None, default="auto"
        Continuous node attributes, one-hot node labels, both concatenated, or none.
        ``"auto"``: the attributes where the dataset has them, else the one-hot labels.
    download_if_missing : bool, default=True
    return_X_y : bool, default=False
        Return ``(graphs, y)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data`` (list of :class:`~skgw.Graph`), ``target`` (ndarray of graph labels, as in the
        files), ``n_edges`` (undirected edges per graph), ``name``, ``DESCR``.
    """
    if node_features not in NODE_FEATURES:
        raise ValueError(f"node_features must be one of {NODE_FEATURES}, got {node_features!r}.")
    data_home = get_data_home(data_home)
    folder = data_home / name
    if not (folder / f"{name}_A.txt").exists():
        local = data_home.iterdir() if data_home.is_dir() else ()
        spelled = [d.name for d in local if d.name.lower() == name.lower() and d.name != name]
        if spelled:
            raise FileNotFoundError(f"{name} is not in {data_home}, but {spelled[0]} is.")
        if not download_if_missing:
            raise FileNotFoundError(f"{name} not found in {data_home} and download is disabled.")
        _download(name, data_home)
    raw = _raw_arrays(folder, name)
    if node_features in ("attributes", "both") and raw["node_attributes"] is None:
        raise ValueError(f"{name} has no node attributes.")
    if node_features in ("labels", "both") and raw["node_labels"] is None:
        raise ValueError(f"{name} has no node labels.")
    graphs, y = _build(raw, node_features)
    return _bunch(graphs, y, name, return_X_y)


def load_mutag(*, node_features="labels", return_X_y=False):
    """Load MUTAG (188 molecules, 2 classes), shipped with skgw.

    Parameters
    ----------
    node_features : {"labels"} or None, default="labels"
        One-hot atom types (7) as node features, or none.
    return_X_y : bool, default=False

    Returns
    -------
    data : Bunch
        As :func:`load_tudataset`.

    Examples
    --------
    >>> from skgw.datasets import load_mutag
    >>> graphs, y = load_mutag(return_X_y=True)
    >>> len(graphs), graphs[0]
    (188, Graph(n_nodes=17, n_node_features=7))
    """
    if node_features not in ("labels", None):
        raise ValueError(
            "node_features must be 'labels' or None (MUTAG has node labels only), "
            f"got {node_features!r}."
        )
    with resources.files(__package__).joinpath("data/MUTAG.npz").open("rb") as f:
        stored = np.load(f)
        raw = {key: stored[key].astype(np.int64) for key in stored.files}
    raw["node_attributes"] = None
    graphs, y = _build(raw, node_features)
    return _bunch(graphs, y, "MUTAG", return_X_y)
