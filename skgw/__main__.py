"""``python -m skgw``: cluster and classify graphs with GWF on the embedded MUTAG dataset.

Fits :class:`~skgw.GromovWassersteinFactorization`, clusters the embeddings with K-means and
cross-validates an SVC on them; ``--data-home`` and ``--dataset`` point it at a TU dataset.
"""

import argparse
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.svm import SVC

from . import GromovWassersteinFactorization
from .datasets import load_mutag, load_tudataset
from .metrics import clustering_accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m skgw", description=__doc__)
    parser.add_argument("--dataset", default="MUTAG", help="TU dataset name (default: MUTAG)")
    parser.add_argument("--data-home", default=None, help="folder of TU datasets")
    parser.add_argument("--n-components", type=int, default=30)
    parser.add_argument("--max-iter", type=int, default=10)
    parser.add_argument("--solver", choices=["ppa", "badmm"], default="ppa")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    if args.dataset == "MUTAG" and args.data_home is None:
        graphs, y = load_mutag(return_X_y=True)
    else:
        graphs, y = load_tudataset(args.dataset, data_home=args.data_home, return_X_y=True)
    print(f"{args.dataset}: {len(graphs)} graphs, classes {np.unique(y).tolist()}")

    start = time.perf_counter()
    gwf = GromovWassersteinFactorization(
        n_components=args.n_components,
        max_iter=args.max_iter,
        solver=args.solver,
        random_state=args.random_state,
        verbose=1,
    )
    embedding = gwf.fit_transform(graphs)
    print(
        f"GWF-{args.solver.upper()}: {time.perf_counter() - start:.1f} s, "
        f"reconstruction error {gwf.reconstruction_err_:.4f}"
    )

    labels = KMeans(
        2 if len(np.unique(y)) == 2 else len(np.unique(y)),
        n_init=10,
        random_state=args.random_state,
    ).fit_predict(embedding)
    majority = np.unique(y, return_counts=True)[1].max() / len(y)
    print(
        f"K-means clustering accuracy: {100 * clustering_accuracy(y, labels):.1f} % "
        f"(majority class {100 * majority:.1f} %)"
    )
    folds = StratifiedKFold(10, shuffle=True, random_state=args.random_state)
    scores = cross_val_score(SVC(C=10), embedding, y, cv=folds)
    print(
        f"SVC 10-fold accuracy on the embeddings: {100 * scores.mean():.1f} "
        f"+- {100 * scores.std():.1f} %"
    )


if __name__ == "__main__":
    main()
