"""The full pairwise FGW matrix of a TU dataset (AIDS: 2000 graphs, ~2 million pairs).

Times ``pairwise_gw_distances`` with POT's exact solver on ``--n-jobs`` workers and with the
batched torch solver, and prints how far the two matrices are apart. ``--pot-graphs`` times POT
on the matrix of a random subset of the graphs only and extrapolates per pair (the torch matrix
is always complete).

    python benchmarks/bench_pairwise.py                       # AIDS, everything
    python benchmarks/bench_pairwise.py --n-graphs 300        # a quick look
"""

import numpy as np
from _common import load, parser, timer

from skgw import pairwise_gw_distances


def main():
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--dataset", default="AIDS")
    args.add_argument("--n-graphs", type=int, default=None, help="first N graphs (all if unset)")
    args.add_argument("--features", default="raw", choices=["raw", "standardized", "none"])
    args.add_argument("--alpha", type=float, default=0.5)
    args.add_argument("--n-jobs", type=int, default=2)
    args.add_argument(
        "--pot-graphs", type=int, default=None, help="time POT on the matrix of N random graphs"
    )
    args.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args.add_argument("--device", default="auto")
    args.add_argument("--seed", type=int, default=0)
    args = args.parse_args()

    graphs, _ = load(args.dataset, args.data_home, args.features)
    graphs = graphs[: args.n_graphs]
    n = len(graphs)
    n_pairs = n * (n - 1) // 2
    print(
        f"{args.dataset}: {n} graphs, {n_pairs} pairs, mean size "
        f"{np.mean([g.n_nodes for g in graphs]):.1f}, alpha={args.alpha}, n_jobs={args.n_jobs}"
    )

    seconds = {}
    common = dict(alpha=args.alpha, n_jobs=args.n_jobs)
    with timer(seconds, "torch"):
        torch_matrix = pairwise_gw_distances(
            graphs, backend="torch", device=args.device, dtype=args.dtype, **common
        )
    subset = np.arange(n)
    if args.pot_graphs is not None and args.pot_graphs < n:
        rng = np.random.default_rng(args.seed)
        subset = np.sort(rng.choice(n, args.pot_graphs, replace=False))
    with timer(seconds, "pot"):
        pot_matrix = pairwise_gw_distances([graphs[i] for i in subset], backend="pot", **common)
    rows, cols = np.triu_indices(len(subset), 1)
    pot_values = pot_matrix[rows, cols]
    torch_values = torch_matrix[subset[rows], subset[cols]]
    pot_seconds = seconds["pot"] / len(rows) * n_pairs
    note = ""
    if len(subset) < n:
        note = f" (extrapolated from the {len(rows)} pairs of {len(subset)} random graphs: "
        note += f"{seconds['pot']:.1f} s)"

    # Ratios only where POT's value is not ~0 (identical graphs); the mean gap is absolute.
    positive = pot_values > 1e-6 * pot_values.mean()
    ratio = torch_values[positive] / pot_values[positive]
    print(f"POT   (exact CG, n_jobs={args.n_jobs}): {pot_seconds:8.1f} s{note}")
    print(f"torch (batched PPA, {args.dtype}):       {seconds['torch']:8.1f} s")
    print(f"speed-up torch / POT: {pot_seconds / seconds['torch']:.1f}x")
    print(
        f"torch / POT discrepancy: median {np.median(ratio):.3f}, 90th percentile "
        f"{np.quantile(ratio, 0.9):.3f}; mean |torch - POT| / mean POT "
        f"{np.abs(torch_values - pot_values).mean() / pot_values.mean():.3f}; Pearson "
        f"{np.corrcoef(torch_values, pot_values)[0, 1]:.4f}; torch lower on "
        f"{np.mean(torch_values < pot_values - 1e-9):.1%} of pairs"
    )


if __name__ == "__main__":
    main()
