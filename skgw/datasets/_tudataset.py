"""Reader of the TU Dortmund graph benchmark collection (raw text format)."""

import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

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


# Archives are refused beyond these (a zip bomb or not a TU archive).
MAX_ARCHIVE_MEMBERS = 100
MAX_ARCHIVE_BYTES = 2**31


def _known_checksums():
    """SHA-256 of the raw files of the datasets whose content is known: name -> file -> digest."""
    with resources.files(__package__).joinpath("data/tu_checksums.json").open("rb") as f:
        return json.load(f)


def _safe_members(archive, name):
    """The archive's regular files under ``name/``; ``ValueError`` for a path that would leave
    the folder (absolute, ``..``), a link, or an archive too large to be a TU dataset."""
    members = archive.infolist()
    if len(members) > MAX_ARCHIVE_MEMBERS or sum(m.file_size for m in members) > MAX_ARCHIVE_BYTES:
        raise ValueError(f"The archive of {name} is too large to be a TU dataset; not extracted.")
    files = []
    for member in members:
        path = PurePosixPath(member.filename)
        if (
            path.is_absolute()
            or ".." in path.parts
            or "\\" in member.filename
            or ":" in member.filename
        ):
            raise ValueError(
                f"The archive of {name} holds the unsafe path {member.filename!r}; not extracted."
            )
        if stat.S_ISLNK(member.external_attr >> 16):
            raise ValueError(
                f"The archive of {name} holds a link, {member.filename!r}; not extracted."
            )
        if not member.is_dir() and path.parts[0] == name:
            files.append(member)
    return files


def _check_downloaded(folder, name):
    """``OSError`` unless the raw files of a dataset of known content have their SHA-256."""
    expected = _known_checksums().get(name)
    if expected is None:
        warnings.warn(
            f"No checksum is known for {name}; its downloaded files are used unverified.",
            UserWarning,
            stacklevel=4,
        )
        return
    for filename, digest in expected.items():
        path = folder / filename
        actual = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
        if actual != digest:
            raise OSError(
                f"The downloaded {filename} of {name} has SHA-256 {actual}, expected {digest}: "
                "the download is corrupted or the source changed. Nothing was installed; put "
                f"the raw files in the data folder by hand to use them."
            )


def _download(name, data_home):
    """Fetch ``name.zip`` from the TU Dortmund site, check it and unpack it under ``data_home``.

    Only the regular files under ``name/`` are extracted, into a temporary folder that is moved
    into place once the raw files match their known SHA-256 (``data/tu_checksums.json``; a
    ``UserWarning`` for a dataset not listed there).
    """
    url = TU_URL.format(name=name)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
    except (urllib.error.URLError, TimeoutError) as error:
        raise OSError(
            f"Could not download {name} from {url} ({error}). Check the dataset name, or put its "
            f"raw files ({name}_A.txt, ...) in {data_home / name}."
        ) from error
    except zipfile.BadZipFile as error:
        raise OSError(f"The download of {name} from {url} is not a zip archive.") from error
    members = _safe_members(archive, name)
    data_home.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=data_home))
    try:
        for member in members:
            archive.extract(member, tmp)
        _check_downloaded(tmp / name, name)
        shutil.move(str(tmp / name), str(data_home / name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class _Table:
    """The rows of one raw TU file, with where each came from (for the error messages).

    Attributes
    ----------
    values : ndarray of shape (n_rows, n_columns)
    source : str
        The file.
    lines : ndarray of shape (n_rows,)
        The line of each row in the file (1-based; blank lines are skipped).
    """

    values: np.ndarray
    source: str
    lines: np.ndarray

    def at(self, row):
        """``"file, line k"`` of a row."""
        return f"{self.source}, line {self.lines[row]}"


def _read(folder, name, suffix, dtype):
    """The :class:`_Table` of ``folder/name_suffix.txt``, None when the file is absent.

    ``ValueError`` naming the file and line for a row with another number of values than the
    first, or a value that is not a number of ``dtype``.
    """
    path = folder / f"{name}_{suffix}.txt"
    if not path.exists():
        return None
    rows = path.read_text().splitlines()
    lines = np.array([k + 1 for k, row in enumerate(rows) if row.strip()], dtype=np.int64)
    kept = [rows[k - 1] for k in lines]
    widths = np.array([row.count(",") + 1 for row in kept], dtype=np.int64)
    if len(kept) and (widths != widths[0]).any():
        k = int(np.flatnonzero(widths != widths[0])[0])
        raise ValueError(
            f"{path}, line {lines[k]}: {widths[k]} values, where line {lines[0]} has {widths[0]}."
        )
    if not kept:
        return _Table(np.empty((0, 1), dtype=dtype), str(path), lines)
    try:
        values = np.loadtxt(kept, delimiter=",", dtype=dtype, ndmin=2)
    except ValueError:
        for line, row in zip(lines, kept, strict=True):
            try:
                np.array([float(v) if dtype == np.float64 else int(v) for v in row.split(",")])
            except ValueError:
                kind = "numbers" if dtype == np.float64 else "integers"
                raise ValueError(
                    f"{path}, line {line}: {row.strip()!r} is not a list of {kind}."
                ) from None
        raise
    if dtype == np.float64 and not np.isfinite(values).all():
        k = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise ValueError(f"{path}, line {lines[k]}: NaN or infinite value.")
    return _Table(values, str(path), lines)


def _raw_tables(folder, name):
    """The raw TU tables of one dataset."""
    raw = {
        "edges": _read(folder, name, "A", np.int64),
        "graph_indicator": _read(folder, name, "graph_indicator", np.int64),
        "graph_labels": _read(folder, name, "graph_labels", np.int64),
        "node_labels": _read(folder, name, "node_labels", np.int64),
        "node_attributes": _read(folder, name, "node_attributes", np.float64),
    }
    if raw["edges"] is None or raw["graph_indicator"] is None:
        raise FileNotFoundError(f"{folder} does not hold the TU files of {name}.")
    if raw["graph_labels"] is None:
        raise FileNotFoundError(f"{folder} has no {name}_graph_labels.txt.")
    return raw


def _graph_of_each_node(table):
    """0-based graph index of each node, checked: one id per line, 1-based, non-decreasing
    (the nodes of a graph are consecutive) and without a skipped id (a graph with no node)."""
    if table.values.shape[1] != 1:
        raise ValueError(f"{table.at(0)}: {table.values.shape[1]} values, expected one graph id.")
    ids = table.values[:, 0]
    if not len(ids):
        raise ValueError(f"{table.source}: no node.")
    if ids[0] != 1:
        raise ValueError(f"{table.at(0)}: the first graph id is {ids[0]}, expected 1 (1-based).")
    step = np.diff(ids)
    if (step < 0).any():
        k = int(np.flatnonzero(step < 0)[0]) + 1
        raise ValueError(
            f"{table.at(k)}: graph id {ids[k]} after {ids[k - 1]}; the nodes of each graph must "
            "be consecutive (ids non-decreasing)."
        )
    if (step > 1).any():
        k = int(np.flatnonzero(step > 1)[0]) + 1
        raise ValueError(
            f"{table.at(k)}: graph id jumps from {ids[k - 1]} to {ids[k]}; graph {ids[k - 1] + 1} "
            "has no node."
        )
    return ids - 1


def _checked_edges(table, graph_of_node, indicator):
    """0-based ``(u, v)`` rows, checked: two ids per line, within the nodes, inside one graph."""
    edges = table.values
    if len(edges) == 0:
        return np.empty((0, 2), dtype=np.int64)
    if edges.shape[1] != 2:
        raise ValueError(f"{table.at(0)}: {edges.shape[1]} values, expected two node ids.")
    n_nodes = len(graph_of_node)
    outside = (edges < 1) | (edges > n_nodes)
    if outside.any():
        k, side = (int(i) for i in np.argwhere(outside)[0])
        hint = " (node ids are 1-based)" if edges[k, side] < 1 else ""
        raise ValueError(
            f"{table.at(k)}: node id {edges[k, side]}{hint}, but "
            f"{Path(indicator.source).name} lists {n_nodes} nodes."
        )
    edges = edges - 1
    graph_u, graph_v = graph_of_node[edges[:, 0]], graph_of_node[edges[:, 1]]
    if (graph_u != graph_v).any():
        k = int(np.flatnonzero(graph_u != graph_v)[0])
        raise ValueError(
            f"{table.at(k)}: the edge joins node {edges[k, 0] + 1} of graph {graph_u[k] + 1} and "
            f"node {edges[k, 1] + 1} of graph {graph_v[k] + 1}."
        )
    return edges


def _check_rows(table, n_rows, what, unit, indicator):
    """``ValueError`` unless ``table`` (if any) has one row per graph or node (``n_rows``)."""
    if table is not None and len(table.values) != n_rows:
        raise ValueError(
            f"{table.source}: {len(table.values)} {what}, but {Path(indicator.source).name} lists "
            f"{n_rows} {unit}."
        )


def _build(raw, node_features):
    """Raw TU tables -> graphs with de-duplicated symmetric adjacency, features and labels.

    Every consistency check of the format is made, with a ``ValueError`` naming the file and
    line.
    """
    indicator_table = raw["graph_indicator"]
    indicator = _graph_of_each_node(indicator_table)
    n_graphs = int(indicator[-1]) + 1
    n_nodes_total = indicator.shape[0]
    _check_rows(raw["graph_labels"], n_graphs, "graph labels", "graphs", indicator_table)
    _check_rows(raw["node_labels"], n_nodes_total, "node labels", "nodes", indicator_table)
    _check_rows(raw["node_attributes"], n_nodes_total, "attribute rows", "nodes", indicator_table)
    edges = _checked_edges(raw["edges"], indicator, indicator_table)
    graph_start = np.searchsorted(indicator, np.arange(n_graphs + 1))

    attributes = None if raw["node_attributes"] is None else raw["node_attributes"].values
    labels = None
    if raw["node_labels"] is not None:
        values, labels = np.unique(raw["node_labels"].values[:, 0], return_inverse=True)
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
    y = raw["graph_labels"].values[:, 0]
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

    The files are checked against the format: one graph id per node, 1-based, non-decreasing and
    without gaps; edges as pairs of 1-based node ids within one graph; one label per graph, one
    node label and one attribute row per node, finite attributes. A file that breaks a rule
    raises a ``ValueError`` naming the file and line. Downloads extract only the dataset's
    regular files (no path outside its folder, no link) and, for the datasets whose content is
    known (AIDS, DHFR, IMDB-BINARY, Letter-med, MSRC_9, MUTAG, NCI109, PROTEINS, PROTEINS_full,
    PTC_FM, SYNTHETIC), check the SHA-256 of each raw file before anything is installed.

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
    raw = _raw_tables(folder, name)
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
        raw = {
            key: _Table(
                stored[key].astype(np.int64).reshape(len(stored[key]), -1),
                f"MUTAG.npz[{key}]",
                np.arange(1, len(stored[key]) + 1),
            )
            for key in stored.files
        }
    raw["node_attributes"] = None
    graphs, y = _build(raw, node_features)
    return _bunch(graphs, y, "MUTAG", return_X_y)
