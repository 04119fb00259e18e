"""Helpers shared by the benchmark scripts: where the TU data is, timing."""

import argparse
import time
from contextlib import contextmanager
from pathlib import Path

DEFAULT_DATA_HOME = Path(__file__).resolve().parents[2] / "shared" / "data" / "TU"


def parser(description):
    """An argument parser with ``--data-home`` defaulting to ``../shared/data/TU``."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--data-home", default=str(DEFAULT_DATA_HOME))
    return result


@contextmanager
def timer(record, key):
    """Store the wall time of the block in ``record[key]`` (seconds)."""
    start = time.perf_counter()
    yield
    record[key] = time.perf_counter() - start


def standardize_node_features(graphs, unit_total_variance=False):
    """Graphs whose node features are centred and scaled by the dataset's node statistics.

    With ``unit_total_variance`` the standardised columns are further divided by the square root
    of the number of non-constant columns, so that the squared Euclidean feature cost between two
    random nodes has mean 2 whatever the dimension (as one standardised column), instead of
    growing with it.
    """
    import numpy as np

    from skgw import Graph

    if graphs[0].F is None:
        return graphs
    stacked = np.vstack([g.F for g in graphs])
    mean, std = stacked.mean(0), stacked.std(0)
    varying = std > 0
    std[~varying] = 1.0
    if unit_total_variance:
        std = std * np.sqrt(max(varying.sum(), 1))
    return [Graph(g.C.copy(), g.p.copy(), (g.F - mean) / std) for g in graphs]


def centred_log(W):
    """The logits ``z`` of barycenter weights: ``log w - mean(log w)`` per row (softmax(z) = w)."""
    import numpy as np

    logits = np.log(W)
    return logits - logits.mean(axis=1, keepdims=True)


def load(name, data_home, features):
    """A TU dataset with node features raw, standardised (``"scaled"``: to unit total
    variance, see :func:`standardize_node_features`), or dropped."""
    from skgw import Graph
    from skgw.datasets import load_tudataset

    graphs, y = load_tudataset(name, data_home=data_home, return_X_y=True)
    if features == "none":
        graphs = [Graph(g.C.copy(), g.p.copy()) for g in graphs]
    elif features in ("standardized", "scaled"):
        graphs = standardize_node_features(graphs, unit_total_variance=features == "scaled")
    return graphs, y
