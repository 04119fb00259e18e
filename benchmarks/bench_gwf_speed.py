"""Seconds per GWF training epoch on AIDS with the paper's settings (K = 30, M = 50, L = 2).

Also times ``transform`` of the same graphs; ``--dataset`` times another TU dataset. For scale:
the authors' code, on the 2-core CPU this project runs on, takes about 12 minutes per AIDS epoch
with lighter settings (K = 36, 30 PPA steps, one barycenter step).

Run: ``python benchmarks/bench_gwf_speed.py [--device cuda] [--solver ppa] [--dataset AIDS]``
"""

import time

from _common import load, parser

from skgw import GromovWassersteinFactorization


def main():
    args = parser(__doc__)
    args.add_argument("--dataset", default="AIDS")
    args.add_argument("--features", choices=["raw", "standardized", "none"], default="raw")
    args.add_argument("--device", default="auto")
    args.add_argument("--solver", default="ppa", choices=["ppa", "badmm"])
    args.add_argument("--epochs", type=int, default=2)
    args.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = args.parse_args()
    graphs, _ = load(args.dataset, args.data_home, args.features)
    gwf = GromovWassersteinFactorization(
        n_components=30,
        solver_params={"max_iter": 50},
        barycenter_max_iter=2,
        solver=args.solver,
        max_iter=args.epochs,
        device=args.device,
        dtype=args.dtype,
        random_state=0,
    )
    start = time.perf_counter()
    gwf.fit(graphs)
    per_epoch = (time.perf_counter() - start) / args.epochs
    start = time.perf_counter()
    gwf.transform(graphs)
    transform = time.perf_counter() - start
    print(
        f"{args.dataset}, {len(graphs)} graphs, K=30 M=50 L=2, {args.solver}, {args.dtype}, "
        f"device {args.device}: {per_epoch:.1f} s per epoch (target <= 60 s), "
        f"transform {transform:.1f} s"
    )


if __name__ == "__main__":
    main()
