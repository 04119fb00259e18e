"""GWF's training loss per epoch with its defaults on raw node attributes, and the epoch it keeps.

The graphs go in as loaded (DHFR's node attributes are raw 3-D coordinates, PROTEINS_full's 29
attributes of mixed units); only ``--feature-scaling`` changes how GWF scales them (``none``: as
given, as in the paper). Prints the loss curve, the kept epoch (``best_epoch_``) and whether its
loss is no higher than any earlier epoch's.

Run: ``python benchmarks/gwf_loss_curve.py [--datasets DHFR ...] [--feature-scaling none]``
"""

import time

import numpy as np
from _common import add_feature_arguments, feature_scaling, load, parser

from skgw import GromovWassersteinFactorization


def main():
    args = parser(__doc__)
    args.add_argument("--datasets", nargs="+", default=["DHFR", "PROTEINS_full"])
    add_feature_arguments(args, features=False)
    args.add_argument("--max-iter", type=int, default=10, help="epochs")
    args.add_argument("--n-components", type=int, default=30)
    args.add_argument("--subsample", type=int, default=None, help="use this many graphs")
    args.add_argument("--seed", type=int, default=0)
    args = args.parse_args()
    for dataset in args.datasets:
        graphs, _ = load(dataset, args.data_home, "raw")
        if args.subsample:
            keep = np.random.RandomState(0).choice(len(graphs), args.subsample, replace=False)
            graphs = [graphs[i] for i in keep]
        start = time.perf_counter()
        gwf = GromovWassersteinFactorization(
            n_components=args.n_components,
            max_iter=args.max_iter,
            feature_scaling=feature_scaling(args),
            random_state=args.seed,
        ).fit(graphs)
        curve, best = gwf.loss_curve_, gwf.best_epoch_
        print(f"{dataset} ({len(graphs)} graphs, feature_scaling={args.feature_scaling}):")
        print("  loss per epoch: " + ", ".join(f"{loss:.4g}" for loss in curve))
        print(
            f"  kept epoch {best} (loss {curve[best]:.4g}), no higher than every earlier epoch: "
            f"{all(curve[best] <= loss for loss in curve[:best])}; "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
