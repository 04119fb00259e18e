"""Starting plans of the batched PPA solver on molecules, against POT's CG in the same run.

Molecules have automorphisms (a ring, two oxygens on one atom), and the PPA steps commute with
them: from the product plan, or from any start they leave unchanged, automorphic nodes keep the
same row of the plan. For random pairs of graphs of a TU dataset (structures only) and for each
graph against itself, the batched PPA solver runs from ``"product"``, ``"profile"`` and
``"perturbed_product"`` (:func:`skgw.ot.initial_plan`) and prints its mean GW loss over POT's
(``ot.gromov.gromov_wasserstein2``, started from the product plan), the share of pairs where it
ends lower than POT, and how many graphs end with GW(G, G) above 1e-6.

Run: ``python benchmarks/bench_gw_starts.py [--dataset MUTAG] [--pairs 400]`` (MUTAG ships
with skgw; the other datasets are read from ``--data-home``).
"""

import time

import numpy as np
import ot
from _common import load, parser

from skgw._batching import pad_graphs
from skgw.datasets import load_mutag
from skgw.ot import fgw_loss, fgw_plan_ppa

STARTS = ("product", "profile", "perturbed_product")


def ppa_losses(first, second, init, epsilon, max_iter):
    """GW losses of the batched PPA plans and the seconds they took."""
    start = time.perf_counter()
    T = fgw_plan_ppa(
        first.C, second.C, first.p, second.p, epsilon=epsilon, max_iter=max_iter, init=init
    )
    return fgw_loss(first.C, second.C, T).numpy(), time.perf_counter() - start


def main():
    args = parser(__doc__)
    args.add_argument("--dataset", default="MUTAG")
    args.add_argument("--pairs", type=int, default=400)
    args.add_argument("--epsilon", type=float, default=0.1)
    args.add_argument("--max-iter", type=int, default=50)
    args = args.parse_args()
    if args.dataset == "MUTAG":
        graphs = load_mutag(return_X_y=True)[0]
    else:
        graphs = load(args.dataset, args.data_home, "none")[0]
    rng = np.random.RandomState(0)
    pairs = rng.randint(len(graphs), size=(args.pairs, 2))
    first = pad_graphs([graphs[i] for i in pairs[:, 0]])
    second = pad_graphs([graphs[j] for j in pairs[:, 1]])
    itself = pad_graphs(list(graphs))

    def pot(g, h):
        return ot.gromov.gromov_wasserstein2(g.C, h.C, g.p, h.p)

    reference = np.array([pot(graphs[i], graphs[j]) for i, j in pairs])
    reference_self = np.array([pot(g, g) for g in graphs])
    print(
        f"{args.dataset}: {args.pairs} random pairs and {len(graphs)} graphs against themselves, "
        f"PPA epsilon {args.epsilon}, {args.max_iter} steps, float64"
    )
    print(f"{'start':>18} {'loss/POT':>9} {'lower':>6} {'higher':>7} {'s':>6} {'GW(G,G)>1e-6':>13}")
    for init in STARTS:
        losses, seconds = ppa_losses(first, second, init, args.epsilon, args.max_iter)
        self_losses, _ = ppa_losses(itself, itself, init, args.epsilon, args.max_iter)
        lower = np.mean(losses < reference - 1e-9)
        higher = np.mean(losses > reference + 1e-9)
        print(
            f"{init:>18} {losses.mean() / reference.mean():9.3f} {100 * lower:5.0f}% "
            f"{100 * higher:6.0f}% {seconds:6.1f} {np.sum(self_losses > 1e-6):13d}"
        )
    print(f"{'POT CG':>18} {1.0:9.3f} {'':>6} {'':>7} {'':>6} {np.sum(reference_self > 1e-6):13d}")


if __name__ == "__main__":
    main()
