"""Does the GW k-means objective (GWB-KM) favour the class partition? Lloyd's steps from it.

The two centers start as the GW barycenters of the true classes (each of its class's median size,
a 1-cluster ``GWBarycenterKMeans``); each line is one more assignment / barycenter step, with the
clustering accuracy and the inertia of the assignment against the inertia of the true classes
for the same centers. Accuracy falling while the inertia falls means the objective's minima are
not the classes, whatever the seeding.

    python benchmarks/gwbkm_objective.py --dataset AIDS --features none
"""

import numpy as np
from _common import load, parser

from skgw import GWBarycenterKMeans, pairwise_gw_distances
from skgw.metrics import clustering_accuracy


def main():
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--dataset", default="AIDS")
    args.add_argument("--features", default="none", choices=["raw", "standardized", "none"])
    args.add_argument("--steps", type=int, default=6)
    args.add_argument("--n-jobs", type=int, default=2)
    args = args.parse_args()

    graphs, y = load(args.dataset, args.data_home, args.features)
    classes = np.searchsorted(np.unique(y), y)
    common = dict(backend="torch", n_jobs=args.n_jobs)
    centers = []
    for label in range(classes.max() + 1):
        members = [g for g, c in zip(graphs, classes, strict=True) if c == label]
        size = int(np.median([g.n_nodes for g in members]))
        model = GWBarycenterKMeans(1, barycenter_size=size, max_iter=1, random_state=0, **common)
        centers.append(model.fit(members).cluster_centers_[0])
    print(f"{args.dataset}: centers of {[c.n_nodes for c in centers]} nodes")
    for step in range(args.steps + 1):
        distances = pairwise_gw_distances(graphs, centers, **common)
        labels = distances.argmin(1)
        print(
            f"step {step}: accuracy {100 * clustering_accuracy(classes, labels):5.1f} %, "
            f"inertia {distances.min(1).sum():.1f} "
            f"(true classes: {distances[np.arange(len(y)), classes].sum():.1f})",
            flush=True,
        )
        if step < args.steps:
            model = GWBarycenterKMeans(len(centers), init=centers, max_iter=1, **common)
            centers = model.fit(graphs).cluster_centers_


if __name__ == "__main__":
    main()
