"""Train the shipped ULOT model on the paper's SBM setting (``skgw/plan_prediction/data``).

Graphs: :func:`skgw.datasets.make_sbm_graphs` (30-58 nodes, 3 linearly connected clusters,
types {1,2,3}, {1,2}, {2,3}, one-hot cluster + noise features); pairs drawn at random from them,
(alpha, rho) from ULOT's law. The held-out validation objective picks the best epoch. The
defaults are those of the shipped model (about an hour on the 2-core CPU).

Run: ``python benchmarks/train_ulot_sbm.py [--epochs 220] [--graphs 2000] [--output PATH]``
"""

import hashlib
import time
from pathlib import Path

from _common import parser

from skgw import FUGWPlanPredictor
from skgw.datasets import make_sbm_graphs
from skgw.plan_prediction import save_predictor

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "skgw/plan_prediction/data/ulot_sbm.pt"


def main():
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--graphs", type=int, default=2000)
    args.add_argument("--epochs", type=int, default=220)
    args.add_argument("--pairs-per-epoch", type=int, default=4096)
    args.add_argument("--batch-size", type=int, default=32)
    args.add_argument("--learning-rate", type=float, default=2e-3)
    args.add_argument("--schedule", choices=["constant", "cosine"], default="cosine")
    args.add_argument("--objective", choices=["loss", "log_loss"], default="log_loss")
    args.add_argument("--sinkhorn-max-iter", type=int, default=10)
    args.add_argument("--seed", type=int, default=0)
    args.add_argument("--device", default="auto")
    args.add_argument("--output", default=str(DEFAULT_OUTPUT))
    args = args.parse_args()

    graphs, _ = make_sbm_graphs(args.graphs, random_state=args.seed)
    model = FUGWPlanPredictor(
        sinkhorn_max_iter=args.sinkhorn_max_iter,
        max_iter=args.epochs,
        n_pairs_per_epoch=args.pairs_per_epoch,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        learning_rate_schedule=args.schedule,
        objective=args.objective,
        device=args.device,
        random_state=args.seed,
        verbose=1,
    )
    start = time.perf_counter()
    model.fit(graphs)
    best = model.best_epoch_
    print(
        f"trained {model.n_iter_} epochs in {time.perf_counter() - start:.0f} s; best epoch "
        f"{best}, validation objective {model.validation_loss_curve_[best]:.5f}"
    )
    save_predictor(model, args.output)
    digest = hashlib.sha256(Path(args.output).read_bytes()).hexdigest()
    print(
        f"saved to {args.output} ({Path(args.output).stat().st_size / 1e3:.0f} kB, sha256 {digest})"
    )


if __name__ == "__main__":
    main()
