"""ULOT training recipes compared: the paper's against skgw's defaults, same data, same epochs.

Both train :class:`skgw.FUGWPlanPredictor` on the same SBM graphs for the same epochs; each is
then scored on held-out SBM pairs, (alpha, rho) from ULOT's law, against our batched FUGW solver:
training time, Pearson correlation of the losses, median and 90th percentile relative excess.

Paper's recipe: ``sinkhorn_max_iter=0, objective="loss", batch_size=256, learning_rate=1e-3``,
constant rate. Ours (the defaults): 10 Sinkhorn updates of the plan head, log loss, batches of
32, rate 2e-3 with cosine decay.

Run: ``python benchmarks/ulot_recipes.py [--epochs 30] [--pairs-per-epoch 1024]``
"""

import time

import numpy as np
from _common import parser
from bench_ulot import solve_ours

from skgw import FUGWPlanPredictor
from skgw.datasets import make_sbm_graphs, make_sbm_pairs
from skgw.plan_prediction import sample_trade_offs

RECIPES = {
    "paper": dict(
        sinkhorn_max_iter=0,
        objective="loss",
        batch_size=256,
        learning_rate=1e-3,
        learning_rate_schedule="constant",
    ),
    "skgw defaults": {},
}


def main():
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--graphs", type=int, default=1000)
    args.add_argument("--epochs", type=int, default=30)
    args.add_argument("--pairs-per-epoch", type=int, default=1024)
    args.add_argument("--test-pairs", type=int, default=200)
    args.add_argument("--seed", type=int, default=0)
    args = args.parse_args()

    graphs, _ = make_sbm_graphs(args.graphs, random_state=args.seed)
    pairs, _ = make_sbm_pairs(args.test_pairs, random_state=args.seed + 2025)
    alphas, rhos = sample_trade_offs(args.test_pairs, np.random.RandomState(args.seed + 2025))
    solver, _, _ = solve_ours(pairs, alphas, rhos)
    print(f"{args.epochs} epochs of {args.pairs_per_epoch} pairs from {args.graphs} SBM graphs; "
          f"{args.test_pairs} held-out pairs against our solver")  # fmt: skip
    for name, recipe in RECIPES.items():
        start = time.perf_counter()
        model = FUGWPlanPredictor(
            max_iter=args.epochs,
            n_pairs_per_epoch=args.pairs_per_epoch,
            random_state=args.seed,
            device="cpu",
            **recipe,
        ).fit(graphs)
        seconds = time.perf_counter() - start
        predicted = model.predict_loss(*zip(*pairs, strict=True), alpha=alphas, rho=rhos)
        excess = predicted / solver - 1.0
        print(f"  {name:<14} trained in {seconds:5.0f} s: Pearson "
              f"{np.corrcoef(predicted, solver)[0, 1]:.4f}, median excess "
              f"{100 * np.median(excess):+7.1f} %, p90 {100 * np.quantile(excess, 0.9):+8.1f} %",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
