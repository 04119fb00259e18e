"""
===========================================================
ULOT: predicted FUGW plans and the regularisation path
===========================================================

:class:`~skgw.FUGWPlanPredictor` predicts fused unbalanced Gromov-Wasserstein (FUGW) plans
between two graphs in one forward pass of a graph neural network, for any trade-off
:math:`\\alpha` (structure vs features) and marginal relaxation :math:`\\rho`. We load the model
that ships with skgw (trained on the stochastic block model graphs of the ULOT paper) and compare
its plans with those of skgw's FUGW solver (:func:`skgw.ot.fugw_plan`), then follow the mass
of the plan as :math:`\\rho` grows.
"""

# %%
# Two SBM graphs with clusters in common
# --------------------------------------
# The source has the three clusters {1, 2, 3}, the target only {2, 3}. Nodes are sorted by
# cluster so that the plans show blocks.
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from skgw import as_graphs
from skgw.datasets import make_sbm_graphs
from skgw.ot import fugw_plan
from skgw.plan_prediction import load_pretrained, normalized_fugw_inputs

model = load_pretrained()


def sbm_graph(cluster_set, seed):
    """One SBM graph of the given type, nodes sorted by cluster, and its node clusters."""
    (graph,), _, (clusters,) = make_sbm_graphs(
        1, cluster_sets=[cluster_set], return_node_clusters=True, random_state=seed
    )
    order = np.argsort(clusters, kind="stable")
    return (graph.C[np.ix_(order, order)], graph.F[order]), clusters[order]


source, source_clusters = sbm_graph(0, seed=1)  # clusters {1, 2, 3}
target, target_clusters = sbm_graph(2, seed=2)  # clusters {2, 3}
print(f"source: {len(source_clusters)} nodes, target: {len(target_clusters)} nodes")


def solver_plans(source, target, alphas, rhos):
    """skgw's block-coordinate FUGW solver on the problem ULOT was trained on, one batched call
    for all the trade-offs."""
    inputs = normalized_fugw_inputs(*as_graphs([source, target]))
    batch = {
        key: torch.as_tensor(value).expand(len(alphas), *value.shape)
        for key, value in inputs.items()
    }
    plans = fugw_plan(
        batch["Cs"], batch["Ct"], batch["ws"], batch["wt"], D=batch["D"],
        alpha=torch.as_tensor(alphas, dtype=torch.float64),
        rho=torch.as_tensor(rhos, dtype=torch.float64), max_iter=200,
    )  # fmt: skip
    return plans.numpy()


# %%
# Predicted plans next to the solver's
# ------------------------------------
# Small :math:`\rho` lets the plan destroy the mass of cluster 1, which the target lacks; large
# :math:`\rho` forces all the mass through. :math:`\alpha = 0` matches features only,
# :math:`\alpha = 1` structure only.
trade_offs = [(0.5, 0.01), (0.5, 0.1), (0.5, 10.0), (0.0, 0.1), (1.0, 0.1)]
alphas, rhos = (np.array(values) for values in zip(*trade_offs, strict=True))
start = time.perf_counter()
predicted = model.predict(
    [source] * len(trade_offs), [target] * len(trade_offs), alpha=alphas, rho=rhos
)
print(f"ULOT: {time.perf_counter() - start:.2f} s for {len(trade_offs)} plans")
start = time.perf_counter()
solved = solver_plans(source, target, alphas, rhos)
print(f"solver: {time.perf_counter() - start:.2f} s for {len(trade_offs)} plans")

fig, axes = plt.subplots(2, len(trade_offs), figsize=(14, 5.5), sharex=True, sharey=True)
for column, ((alpha, rho), P, Q) in enumerate(zip(trade_offs, predicted, solved, strict=True)):
    top = max(P.max(), Q.max())
    for row, (plan, name) in enumerate(((P, "ULOT"), (Q, "solver"))):
        ax = axes[row, column]
        ax.imshow(plan, cmap="Blues", vmin=0, vmax=top, aspect="auto")
        ax.set_title(f"{name}: alpha={alpha}, rho={rho}\nmass {plan.sum():.2f}", fontsize=9)
        for boundary in np.flatnonzero(np.diff(source_clusters)):
            ax.axhline(boundary + 0.5, color="tab:red", lw=0.6)
        for boundary in np.flatnonzero(np.diff(target_clusters)):
            ax.axvline(boundary + 0.5, color="tab:red", lw=0.6)
axes[0, 0].set_ylabel("source node (clusters 1|2|3)")
axes[1, 0].set_ylabel("source node (clusters 1|2|3)")
for ax in axes[1]:
    ax.set_xlabel("target node (clusters 2|3)")
fig.tight_layout()

# %%
# The regularisation path of the transported mass
# -----------------------------------------------
# One batched call predicts the plans for a whole grid of :math:`\rho`. Between graphs of the
# same type the mass rises to 1 quickly; between different types it stays lower for longer,
# because the cluster that has no counterpart is cheaper to destroy than to move. The solver's
# masses (dots) follow the same path.
same, _ = sbm_graph(2, seed=3)  # clusters {2, 3}, like the target
rhos = np.logspace(-3, 1, 30)
fig, ax = plt.subplots(figsize=(6, 4))
for other, name, colour in (
    (same, "same type", "tab:green"),
    (source, "different type", "tab:red"),
):
    plans = model.predict([other] * len(rhos), [target] * len(rhos), alpha=0.5, rho=rhos)
    masses = [P.sum() for P in plans]
    ax.plot(rhos, masses, color=colour, label=f"ULOT, {name}")
    solver_rhos = rhos[::5]
    solver_masses = solver_plans(other, target, np.full(len(solver_rhos), 0.5), solver_rhos)
    solver_masses = solver_masses.sum(axis=(1, 2))
    ax.plot(solver_rhos, solver_masses, "o", color=colour, label=f"solver, {name}")
ax.set(xscale="log", xlabel="rho", ylabel="plan mass", title="Mass of the plan (alpha = 0.5)")
ax.legend()
fig.tight_layout()
plt.show()
