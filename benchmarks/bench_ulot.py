"""ULOT (FUGWPlanPredictor) against classical FUGW solvers on held-out SBM pairs.

Uses the shipped model (``load_pretrained()``, or ``--model PATH``). On ``--pairs`` held-out SBM
pairs with (alpha, rho) drawn from ULOT's training law, all problems normalised as in ULOT:

1. FUGW loss of the predicted plans against POT's ``fused_unbalanced_gromov_wasserstein`` (same
   parameters in POT's convention; pairs with alpha = 0 have no POT equivalent and are left out)
   and against our batched solver: Pearson correlation, median and 90th percentile relative
   excess loss, share of pairs where ULOT is lower;
2. time to predict all pairs (batched) against the loop of POT's solver and our batched solver;
3. time and loss ratio as the graphs grow (n = 50 ... 800), fitted exponents;
4. solver steps to a plan-change tolerance and to 1 % of the best loss from the ULOT warm start
   against the default start, and the loss left after the step budget, with the MM and the IBPP
   inner solvers, over all pairs, the pairs where both starts end in the same minimum, and the
   pairs below and above alpha = 0.8;
5. spectral clustering of SBM graphs of the three types on the plan-mass similarity (ARI).

Run: ``python benchmarks/bench_ulot.py [--pairs 500] [--sizes 50 100 200 400 800]``
"""

import time

import numpy as np
import ot
import torch
from _common import parser
from sklearn.cluster import SpectralClustering
from sklearn.metrics import adjusted_rand_score

from skgw.datasets import make_sbm_graphs, make_sbm_pairs
from skgw.ot import fugw_loss, fugw_plan, to_pot_parameters
from skgw.plan_prediction import (
    load_predictor,
    load_pretrained,
    normalized_fugw_inputs,
    sample_trade_offs,
)

TOL = 1e-5  # solver tolerance of the warm-start comparison (max-abs plan change per step)
LOSS_TOL = 1e-2  # ... or relative excess over the best loss either start reaches
MAX_STEPS = 200  # solver steps at most
ALPHA_SPLIT = 0.8  # section 4 also reports pairs below / above this alpha (GW-dominated problems)


def tensors(inputs):
    return {k: None if v is None else torch.as_tensor(v)[None] for k, v in inputs.items()}


def loss_of(plan, inputs, alpha, rho):
    t = tensors(inputs)
    P = torch.as_tensor(np.asarray(plan, dtype=np.float64))[None]
    return float(fugw_loss(P, t["Cs"], t["Ct"], t["ws"], t["wt"], D=t["D"], alpha=alpha, rho=rho))


def pot_plan(inputs, alpha, rho):
    """POT's plan, or None where POT gives up ("There is NaN in coupling")."""
    alpha_pot, rho_pot, _ = to_pot_parameters(alpha, rho)
    try:
        plan, _ = ot.gromov.fused_unbalanced_gromov_wasserstein(
            inputs["Cs"], inputs["Ct"], inputs["ws"], inputs["wt"],
            reg_marginals=rho_pot, alpha=alpha_pot, M=inputs["D"],
        )  # fmt: skip
    except ValueError:
        return None
    return plan


def padded_problems(pairs, alphas, rhos, init=None):
    """The pairs as one padded FUGW batch: ``(Cs, Ct, ws, wt)``, keyword arguments, warm start."""
    from skgw.plan_prediction._problem import pad_side, pair_feature_cost, prepare_graph

    source = pad_side([prepare_graph(a) for a, _ in pairs], "cpu", torch.float64)
    target = pad_side([prepare_graph(b) for _, b in pairs], "cpu", torch.float64)
    arrays = (source.S, target.S, source.p, target.p)
    params = {
        "D": pair_feature_cost(source, target, True),
        "alpha": torch.as_tensor(alphas),
        "rho": torch.as_tensor(rhos),
    }
    if init is not None:
        shape = (len(pairs), source.sizes.max(), target.sizes.max())
        padded = torch.zeros(shape, dtype=torch.float64)
        for k, plan in enumerate(init):
            padded[k, : plan.shape[0], : plan.shape[1]] = torch.as_tensor(plan)
        init = padded
    return arrays, params, init


def solve_ours(pairs, alphas, rhos, init=None, tol=1e-7):
    """Our batched solver on same-size-padded pairs: losses, iterations, seconds."""
    arrays, params, init = padded_problems(pairs, alphas, rhos, init)
    start = time.perf_counter()
    P, log = fugw_plan(*arrays, **params, init=init, tol=tol, max_iter=MAX_STEPS, return_log=True)
    seconds = time.perf_counter() - start
    return fugw_loss(P, *arrays, **params).numpy(), log["n_iter"].numpy(), seconds


def solver_trajectory(pairs, alphas, rhos, init=None, **options):
    """Loss after each of ``MAX_STEPS`` solver steps, and each step's max-abs plan change."""
    arrays, params, P = padded_problems(pairs, alphas, rhos, init)
    if P is None:
        ws, wt = arrays[2], arrays[3]
        P = ws[:, :, None] * wt[:, None, :]
    losses, changes = [], []
    for _ in range(MAX_STEPS):  # one step at a time: the solver's state is the plan alone
        P_next = fugw_plan(*arrays, **params, init=P, max_iter=1, tol=0.0, **options)
        changes.append((P_next - P).abs().amax(dim=(1, 2)).numpy())
        P = P_next
        losses.append(fugw_loss(P, *arrays, **params).numpy())
    return np.array(losses), np.array(changes)


def solver_options(spec):
    """``"mm"`` or ``"ibpp:BETA"`` -> keyword arguments of ``fugw_plan``."""
    inner, _, beta = spec.partition(":")
    return {"inner": inner} if not beta else {"inner": inner, "proximal_weight": float(beta)}


def excess_summary(name, ulot, reference):
    excess = ulot / reference - 1.0
    print(
        f"  vs {name:<13} Pearson {np.corrcoef(ulot, reference)[0, 1]:.4f}  median excess "
        f"{100 * np.median(excess):+6.1f} %  p90 {100 * np.quantile(excess, 0.9):+6.1f} %  "
        f"ULOT lower on {100 * np.mean(ulot < reference):.1f} % of {len(ulot)} pairs"
    )


def accuracy_and_speed(model, n_pairs, seed):
    pairs, _ = make_sbm_pairs(n_pairs, random_state=seed)
    alphas, rhos = sample_trade_offs(n_pairs, np.random.RandomState(seed))
    inputs = [normalized_fugw_inputs(a, b) for a, b in pairs]
    start = time.perf_counter()
    ulot_losses = model.predict_loss(*zip(*pairs, strict=True), alpha=alphas, rho=rhos)
    ulot_seconds = time.perf_counter() - start
    ours, _, ours_seconds = solve_ours(pairs, alphas, rhos)
    with_pot = np.flatnonzero(alphas > 0)
    start = time.perf_counter()
    pot_plans = [pot_plan(inputs[k], alphas[k], rhos[k]) for k in with_pot]
    pot_seconds = time.perf_counter() - start
    solved = [(k, p) for k, p in zip(with_pot, pot_plans, strict=True) if p is not None]
    pot = np.array([loss_of(p, inputs[k], alphas[k], rhos[k]) for k, p in solved])
    pot_pairs = np.array([k for k, _ in solved])
    print(f"1. FUGW loss of ULOT's plans, {n_pairs} held-out SBM pairs (30-58 nodes); POT failed "
          f"(NaN) on {len(with_pot) - len(solved)}, has no alpha = 0 for "
          f"{n_pairs - len(with_pot)}")  # fmt: skip
    excess_summary("POT", ulot_losses[pot_pairs], pot)
    excess_summary("our solver", ulot_losses, ours)
    print(f"  (our solver / POT: median {np.median(ours[pot_pairs] / pot):.3f})")
    print("2. Time for all pairs")
    pot_all = pot_seconds / len(with_pot) * n_pairs
    print(f"  ULOT batched {ulot_seconds:7.2f} s | POT loop {pot_all:7.1f} s "
          f"({pot_all / ulot_seconds:5.0f}x) | our batched solver {ours_seconds:6.1f} s "
          f"({ours_seconds / ulot_seconds:4.0f}x)")  # fmt: skip
    return pairs, alphas, rhos


def scaling(model, sizes, n_pairs, pot_max_n, seed):
    print("3. Growing graphs (seconds per pair; loss / POT's)")
    rng = np.random.RandomState(seed)
    rows = []
    for n in sizes:
        count = max(2, n_pairs * 50 // n)
        pairs, _ = make_sbm_pairs(count, n_nodes=n, random_state=rng)
        alphas, rhos = sample_trade_offs(count, rng)
        alphas = np.clip(alphas, 0.05, 1.0)  # POT has no alpha = 0
        model.predict_loss(*zip(*pairs[:1], strict=True), alpha=alphas[:1], rho=rhos[:1])  # warm-up
        start = time.perf_counter()
        ulot = model.predict_loss(*zip(*pairs, strict=True), alpha=alphas, rho=rhos)
        ulot_time = (time.perf_counter() - start) / count
        ours, _, ours_time = solve_ours(pairs, alphas, rhos)
        ours_time /= count
        pot_time, ratio = np.nan, np.nan
        if n <= pot_max_n:
            inputs = [normalized_fugw_inputs(a, b) for a, b in pairs]
            start = time.perf_counter()
            plans = [pot_plan(inputs[k], alphas[k], rhos[k]) for k in range(count)]
            pot_time = (time.perf_counter() - start) / count
            solved = [k for k, p in enumerate(plans) if p is not None]
            pot = np.array([loss_of(plans[k], inputs[k], alphas[k], rhos[k]) for k in solved])
            ratio = np.median(ulot[solved] / pot)
        rows.append((n, ulot_time, ours_time, pot_time))
        print(f"  n={n:4d} ({count:3d} pairs): ULOT {ulot_time:.5f} s, our solver {ours_time:.4f}"
              f" s, POT {pot_time:.4f} s; median ULOT/POT loss {ratio:.3f}, "
              f"ULOT/our solver {np.median(ulot / ours):.3f}", flush=True)  # fmt: skip
    rows = np.array(rows)
    for column, name in ((1, "ULOT"), (2, "our solver"), (3, "POT")):
        ok = np.isfinite(rows[:, column])
        if ok.sum() >= 2:
            slope = np.polyfit(np.log(rows[ok, 0]), np.log(rows[ok, column]), 1)[0]
            print(f"  fitted exponent {name}: {slope:.2f}")


def first_step(reached):
    """1-based index of the first step where ``reached`` (steps x pairs) holds; cap + 1 if never."""
    return np.where(reached.any(0), reached.argmax(0) + 1, MAX_STEPS + 1)


def warm_start(model, pairs, alphas, rhos, solvers):
    keep = alphas > 0
    pairs = [p for p, k in zip(pairs, keep, strict=True) if k]
    alphas, rhos = alphas[keep], rhos[keep]
    predicted = model.predict(*zip(*pairs, strict=True), alpha=alphas, rho=rhos)
    runs = {
        spec: (
            solver_trajectory(pairs, alphas, rhos, **solver_options(spec)),
            solver_trajectory(pairs, alphas, rhos, init=predicted, **solver_options(spec)),
        )
        for spec in solvers
    }
    best = np.min([np.minimum(c[0].min(0), w[0].min(0)) for c, w in runs.values()], axis=0)
    print(f"4. Solver from the default start vs from ULOT's plans ({len(pairs)} pairs, at most "
          f"{MAX_STEPS} steps; step counts are means, medians in brackets; best: lowest loss "
          "of all runs)")  # fmt: skip
    for spec, ((cold_loss, cold_change), (warm_loss, warm_change)) in runs.items():
        print(f"  inner solver {spec}")
        warm_worse = warm_loss[-1] > (1 + LOSS_TOL) * cold_loss[-1]
        cold_worse = cold_loss[-1] > (1 + LOSS_TOL) * warm_loss[-1]
        same = ~(warm_worse | cold_worse)
        cold_steps = first_step(cold_loss / best - 1 <= LOSS_TOL)
        warm_steps = first_step(warm_loss / best - 1 <= LOSS_TOL)
        for name, cold, warm in (
            (
                f"plan change <= {TOL:g}",
                first_step(cold_change <= TOL),
                first_step(warm_change <= TOL),
            ),
            (f"loss within {100 * LOSS_TOL:g} % of the best", cold_steps, warm_steps),
            (f"it, {same.sum()} pairs (*)", cold_steps[same], warm_steps[same]),
            *(
                (f"it, {side} ({part.sum()} pairs)", cold_steps[part], warm_steps[part])
                for side, part in (
                    (f"alpha < {ALPHA_SPLIT:g}", alphas < ALPHA_SPLIT),
                    (f"alpha >= {ALPHA_SPLIT:g}", alphas >= ALPHA_SPLIT),
                )
            ),
        ):
            if len(cold) == 0:
                continue
            print(f"    steps to {name:<27}: default {cold.mean():6.1f} ({np.median(cold):3.0f}), "
                  f"ULOT start {warm.mean():6.1f} ({np.median(warm):3.0f}): ratio "
                  f"{cold.mean() / warm.mean():.2f}")  # fmt: skip
        print(f"      (*: both starts end within {100 * LOSS_TOL:g} % of each other; the ULOT "
              f"start ends above on {100 * warm_worse.mean():.1f} % of pairs, the default start "
              f"on {100 * cold_worse.mean():.1f} %)")  # fmt: skip
        print(f"    mean excess over the best after {MAX_STEPS} steps: default "
              f"{100 * np.mean(cold_loss[-1] / best - 1):.2f} %, ULOT start "
              f"{100 * np.mean(warm_loss[-1] / best - 1):.2f} %")  # fmt: skip


def clustering(model, n_graphs, seed):
    graphs, y = make_sbm_graphs(n_graphs, random_state=seed)
    for rho in (1e-3, 1e-2, 1e-1):
        masses = model.pairwise_plan_mass(graphs, alpha=0.5, rho=rho)
        labels = SpectralClustering(3, affinity="precomputed", random_state=0).fit_predict(masses)
        print(f"5. Spectral clustering on plan masses ({n_graphs} graphs, alpha=0.5, "
              f"rho={rho:g}): ARI {adjusted_rand_score(y, labels):.3f}")  # fmt: skip


def main():
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--model", default=None, help="saved predictor (default: shipped model)")
    args.add_argument("--pairs", type=int, default=500)
    args.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200, 400, 800])
    args.add_argument("--scaling-pairs", type=int, default=8, help="pairs at n = 50 (fewer above)")
    args.add_argument("--pot-max-n", type=int, default=400)
    args.add_argument("--clustering-graphs", type=int, default=90, help="SBM graphs of section 5")
    args.add_argument("--seed", type=int, default=2025)
    args.add_argument(
        "--warm-start-solvers",
        nargs="+",
        default=["mm", "ibpp:0.01", "ibpp:0.1"],
        help="inner solvers of section 4: mm, or ibpp:PROXIMAL_WEIGHT",
    )
    args = args.parse_args()
    model = load_pretrained(device="cpu") if args.model is None else load_predictor(args.model)
    pairs, alphas, rhos = accuracy_and_speed(model, args.pairs, args.seed)
    scaling(model, args.sizes, args.scaling_pairs, args.pot_max_n, args.seed + 1)
    warm_start(model, pairs, alphas, rhos, args.warm_start_solvers)
    clustering(model, args.clustering_graphs, args.seed + 2)


if __name__ == "__main__":
    main()
