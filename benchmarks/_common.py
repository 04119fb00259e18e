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


def add_feature_arguments(args, features=True):
    """``--features`` (how the TU loader's node features reach the estimator; with ``features``)
    and ``--feature-scaling`` (GWF's own); read the latter with :func:`feature_scaling`."""
    if features:
        args.add_argument(
            "--features",
            choices=["raw", "standardized", "scaled", "none"],
            default="raw",
            help="node features as loaded (raw), scaled before GWF, or dropped",
        )
    args.add_argument(
        "--feature-scaling",
        choices=["unit_total_variance", "standard", "none"],
        default="unit_total_variance",
        help="GWF's own feature_scaling ('none': the features as given, as in the paper)",
    )


def feature_scaling(args):
    """GWF's ``feature_scaling`` from the parsed ``--feature-scaling``."""
    return None if args.feature_scaling == "none" else args.feature_scaling


def centred_log(W):
    """The logits ``z`` of barycenter weights: ``log w - mean(log w)`` per row (softmax(z) = w)."""
    import numpy as np

    logits = np.log(W)
    return logits - logits.mean(axis=1, keepdims=True)


def load(name, data_home, features):
    """A TU dataset with node features raw, standardised per column (``"standardized"``), scaled
    to unit total variance (``"scaled"``; see :mod:`skgw._features`), or dropped.

    GWF scales its node features itself (``feature_scaling``); the other estimators take them as
    given, so their benchmarks scale them here."""
    from skgw import Graph
    from skgw._features import fit_feature_scaling, scale_graph_features
    from skgw.datasets import load_tudataset

    graphs, y = load_tudataset(name, data_home=data_home, return_X_y=True)
    if features == "none":
        graphs = [Graph(g.C.copy(), g.p.copy()) for g in graphs]
    elif features in ("standardized", "scaled"):
        scaling = "standard" if features == "standardized" else "unit_total_variance"
        graphs = scale_graph_features(graphs, *fit_feature_scaling(graphs, scaling))
    return graphs, y
