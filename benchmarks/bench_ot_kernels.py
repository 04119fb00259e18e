"""Batched torch kernels against loops of POT's solvers, measured in the same run.

For batches of random (Erdos-Renyi) and SBM graph pairs of n = 20, 50, 100 nodes:
- our batched PPA (GW) against POT's ``gromov_wasserstein`` (CG) and
  ``entropic_gromov_wasserstein(solver="PPA")``: time ratio and mean GW loss ratio;
- our batched FUGW solver against POT's ``fused_unbalanced_gromov_wasserstein``: time ratio and
  mean loss ratio (same parameters, converted convention, inputs normalised as in ULOT).

Times are per pair: our solvers run once on the whole batch, POT's in a loop (its entropic PPA
and FUGW solvers, which take about a second per pair, on the first ``--reference-pairs`` pairs,
against which the loss ratios are taken too).

Run: ``python benchmarks/bench_ot_kernels.py [--device cuda] [--pairs 512]``
"""

import numpy as np
import ot
import torch
from _common import parser, timer

from skgw._batching import pad_graphs, resolve_device
from skgw._graphs import Graph
from skgw.datasets import make_sbm_graphs
from skgw.ot import feature_cost, fgw_loss, fgw_plan_ppa, fugw_loss, fugw_plan, to_pot_parameters


def random_pairs(n, n_pairs, rng):
    def graph():
        A = np.triu((rng.rand(n, n) < 0.3).astype(float), 1)
        return Graph(A + A.T, np.full(n, 1.0 / n), rng.randn(n, 3))

    return [(graph(), graph()) for _ in range(n_pairs)]


def sbm_pairs(n, n_pairs, rng):
    graphs, _ = make_sbm_graphs(2 * n_pairs, n_nodes=n, random_state=rng)
    return list(zip(graphs[0::2], graphs[1::2], strict=True))


def to_batch(pairs, device, dtype):
    first = pad_graphs([a for a, _ in pairs], device=device, dtype=dtype)
    second = pad_graphs([b for _, b in pairs], device=device, dtype=dtype)
    return first, second


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_gw(pairs, device, dtype, n_reference):
    """Seconds per pair and mean losses; POT's slow entropic PPA runs on the first pairs only."""
    times, losses = {}, {}
    first, second = to_batch(pairs, device, dtype)
    fgw_plan_ppa(first.C[:2], second.C[:2], first.p[:2], second.p[:2], max_iter=2)  # warm-up
    sync(device)
    with timer(times, "ours"):
        T = fgw_plan_ppa(first.C, second.C, first.p, second.p)
        losses["ours"] = fgw_loss(first.C, second.C, T).double().cpu().numpy()
        sync(device)
    with timer(times, "cg"):
        losses["cg"] = np.array(
            [ot.gromov.gromov_wasserstein2(a.C, b.C, a.p, b.p) for a, b in pairs]
        )
    with timer(times, "pot_ppa"):
        losses["pot_ppa"] = np.array(
            [
                ot.gromov.entropic_gromov_wasserstein2(
                    a.C, b.C, a.p, b.p, epsilon=0.05, solver="PPA", max_iter=50
                )
                for a, b in pairs[:n_reference]
            ]
        )
    losses["ours_subset"] = losses["ours"][:n_reference]
    times = {
        "ours": times["ours"] / len(pairs),
        "cg": times["cg"] / len(pairs),
        "pot_ppa": times["pot_ppa"] / min(n_reference, len(pairs)),
    }
    return times, losses


def normalised(pairs):
    """ULOT's input normalisation: structures and feature costs divided by 10 times their mean."""
    result = []
    for a, b in pairs:
        scale = 10 * np.mean(np.concatenate([a.C.ravel(), b.C.ravel()]))
        feature_scale = np.sqrt(10 * ot.dist(a.F, b.F).mean())
        result.append(tuple(Graph(g.C / scale, g.p.copy(), g.F / feature_scale) for g in (a, b)))
    return result


def bench_fugw(pairs, device, dtype, rng, n_reference):
    """Seconds per pair and mean losses; POT's solver runs on the first pairs only."""
    times, losses = {}, {}
    pairs = normalised(pairs)
    alpha = rng.uniform(0.1, 0.9, len(pairs))
    rho = np.exp(-4 * rng.rand(len(pairs)))
    first, second = to_batch(pairs, device, dtype)
    D = feature_cost(first.F, second.F)
    alpha_t = torch.as_tensor(alpha, dtype=dtype, device=device)
    rho_t = torch.as_tensor(rho, dtype=dtype, device=device)
    sync(device)
    with timer(times, "ours"):
        P = fugw_plan(first.C, second.C, first.p, second.p, D=D, alpha=alpha_t, rho=rho_t)
        losses["ours"] = (
            fugw_loss(P, first.C, second.C, first.p, second.p, D=D, alpha=alpha_t, rho=rho_t)
            .double()
            .cpu()
            .numpy()
        )
        sync(device)
    pairs, alpha, rho = pairs[:n_reference], alpha[:n_reference], rho[:n_reference]
    plans = []
    with timer(times, "pot"):
        for (a, b), al, r in zip(pairs, alpha, rho, strict=True):
            alpha_pot, rho_pot, _ = to_pot_parameters(al, r)
            plan, _ = ot.gromov.fused_unbalanced_gromov_wasserstein(
                a.C, b.C, a.p, b.p, reg_marginals=rho_pot, alpha=alpha_pot, M=ot.dist(a.F, b.F)
            )
            plans.append(plan)
    reference = []
    for (a, b), plan, al, r in zip(pairs, plans, alpha, rho, strict=True):
        tensors = [torch.tensor(np.array(x))[None] for x in (plan, a.C, b.C, a.p, b.p)]
        D_pair = torch.as_tensor(ot.dist(a.F, b.F))[None]
        reference.append(float(fugw_loss(*tensors, D=D_pair, alpha=al, rho=r)[0]))
    losses["pot"] = np.array(reference)
    losses["ours_subset"] = losses["ours"][: len(pairs)]
    times = {"ours": times["ours"] / len(first.sizes), "pot": times["pot"] / len(pairs)}
    return times, losses


def main():
    args = parser(__doc__)
    args.add_argument("--device", default="cpu")
    args.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    args.add_argument("--pairs", type=int, default=512, help="pairs at n = 20 (fewer for larger n)")
    args.add_argument(
        "--reference-pairs", type=int, default=32, help="pairs for POT's slow PPA and FUGW"
    )
    args = args.parse_args()
    device = resolve_device(args.device)
    dtype = getattr(torch, args.dtype)
    rng = np.random.RandomState(0)
    print(f"device {device}, dtype {args.dtype}, torch threads {torch.get_num_threads()}")
    print(
        f"{'data':>6} {'n':>4} {'pairs':>5} | ms per pair: {'PPA':>6} {'CG':>7} {'x CG':>6} "
        f"{'loss/CG':>8} | {'POT-PPA':>8} {'x':>6} {'loss/POT-PPA':>12} | "
        f"{'FUGW':>6} {'POT':>7} {'x':>6} {'loss/POT':>8}"
    )
    for n, share in ((20, 1), (50, 4), (100, 16)):
        n_pairs = max(1, args.pairs // share)
        for name, make in (("random", random_pairs), ("sbm", sbm_pairs)):
            pairs = make(n, n_pairs, rng)
            gw_t, gw_l = bench_gw(pairs, device, dtype, args.reference_pairs)
            fugw_t, fugw_l = bench_fugw(pairs, device, dtype, rng, args.reference_pairs)
            print(
                f"{name:>6} {n:>4} {n_pairs:>5} | {'':12} {1e3 * gw_t['ours']:6.2f} "
                f"{1e3 * gw_t['cg']:7.2f} {gw_t['cg'] / gw_t['ours']:6.1f} "
                f"{gw_l['ours'].mean() / gw_l['cg'].mean():8.3f} | "
                f"{1e3 * gw_t['pot_ppa']:8.1f} {gw_t['pot_ppa'] / gw_t['ours']:6.0f} "
                f"{gw_l['ours_subset'].mean() / gw_l['pot_ppa'].mean():12.3f} | "
                f"{1e3 * fugw_t['ours']:6.2f} {1e3 * fugw_t['pot']:7.1f} "
                f"{fugw_t['pot'] / fugw_t['ours']:6.0f} "
                f"{fugw_l['ours_subset'].mean() / fugw_l['pot'].mean():8.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
