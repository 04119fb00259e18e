"""
=====================================================================
ULOT: label propagation with the trade-offs tuned by gradient descent
=====================================================================

Node labels are known on a source graph and on half of the nodes of a target graph. Transporting
the one-hot source labels along a FUGW plan :math:`P` gives label scores on the target,

.. math:: \\hat Y_t = \\mathrm{diag}(P^\\top 1)^{-1} P^\\top Y_s ,

and which plan works best depends on the trade-offs: :math:`\\alpha` (structure vs features)
and :math:`\\rho` (how freely mass is destroyed). ULOT's plans are differentiable in both
(:meth:`~skgw.FUGWPlanPredictor.plan_tensor`), so we tune them by gradient descent on the
cross-entropy of the known target labels, as in section 3.1 of the ULOT paper, and compare the
trajectory with the accuracy surface on the unknown nodes, computed in one batched call.
"""

# %%
# Two pairs of SBM graphs
# -----------------------
# Node features are the one-hot cluster plus Gaussian noise of standard deviation 0.5, so
# that features alone do not give the labels away. One pair has the same cluster set {1, 2, 3}
# on both sides; the other maps {1, 2, 3} onto {2, 3}.
import matplotlib.pyplot as plt
import numpy as np
import torch

from skgw.datasets import make_sbm_graphs
from skgw.plan_prediction import load_pretrained

model = load_pretrained()
rng = np.random.RandomState(0)


def sbm_graph(cluster_set, seed):
    (graph,), _, (clusters,) = make_sbm_graphs(
        1,
        cluster_sets=[cluster_set],
        n_nodes=(50, 58),
        noise=0.5,
        return_node_clusters=True,
        random_state=seed,
    )
    return (graph.C, graph.F), clusters


def label_scores(P, source_labels):
    """Transported label distribution of each target node (NumPy arrays or torch tensors)."""
    return (P.T @ source_labels) / P.sum(axis=0)[:, None].clip(min=1e-12)


def held_out_accuracy(P, source_clusters, target_clusters, known):
    """Accuracy of the transported labels on the target nodes whose label is unknown."""
    predicted = label_scores(P, np.eye(3)[source_clusters]).argmax(axis=1)
    return (predicted == target_clusters)[~known].mean()


pairs = {}
for name, target_type in (("same clusters", 0), ("{1,2,3} -> {2,3}", 2)):
    source, source_clusters = sbm_graph(0, seed=10)
    target, target_clusters = sbm_graph(target_type, seed=11 + target_type)
    known = rng.rand(len(target_clusters)) < 0.5
    pairs[name] = source, source_clusters, target, target_clusters, known

# %%
# Accuracy surfaces
# -----------------
# Accuracy on the unknown target nodes for a 20 x 20 grid of :math:`(\alpha, \rho)`: 400 plans,
# predicted in one call with one trade-off per pair.
alphas = np.linspace(0, 1, 20)
rhos = np.logspace(-4, 0, 20)
grid_alpha, grid_rho = np.meshgrid(alphas, rhos, indexing="ij")
surfaces = {}
for name, (source, source_clusters, target, target_clusters, known) in pairs.items():
    n_plans = grid_alpha.size
    plans = model.predict(
        [source] * n_plans, [target] * n_plans, alpha=grid_alpha.ravel(), rho=grid_rho.ravel()
    )
    accuracy = [held_out_accuracy(P, source_clusters, target_clusters, known) for P in plans]
    surfaces[name] = np.reshape(accuracy, grid_alpha.shape)

# %%
# Gradient descent on the trade-offs
# ----------------------------------
# :math:`\alpha = \sigma(a)` and :math:`\rho = e^{-9 \sigma(b)}` keep both in the range the model
# was trained on; Adam minimises the cross-entropy of the known target labels. That loss is a
# smooth proxy measured on half of the nodes: its minimum need not be the best accuracy on the
# other half, and on graphs of this size the surface is noisy, as the maps show.


def tune(source, source_clusters, target, target_clusters, known, n_steps=60):
    to_tensor = {"dtype": torch.float64}
    source_t = tuple(torch.tensor(part, **to_tensor) for part in source)
    target_t = tuple(torch.tensor(part, **to_tensor) for part in target)
    one_hot = torch.eye(3, **to_tensor)[torch.as_tensor(source_clusters)]
    labels = torch.as_tensor(target_clusters[known])
    a = torch.tensor(0.0, **to_tensor, requires_grad=True)  # alpha = 0.5
    b = torch.tensor(-2.0, **to_tensor, requires_grad=True)  # rho = 0.3
    optimizer = torch.optim.Adam([a, b], lr=0.15)
    path = []
    for _ in range(n_steps):
        alpha, rho = torch.sigmoid(a), torch.exp(-9 * torch.sigmoid(b))
        path.append((alpha.item(), rho.item()))
        P = model.plan_tensor(source_t, target_t, alpha, rho)
        scores = label_scores(P, one_hot)
        loss = torch.nn.functional.nll_loss(
            torch.log(scores[torch.as_tensor(known)] + 1e-9), labels
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    path = np.array(path)
    plans = model.predict([source] * 2, [target] * 2, alpha=path[[0, -1], 0], rho=path[[0, -1], 1])
    start, end = (held_out_accuracy(P, source_clusters, target_clusters, known) for P in plans)
    return path, start, end


fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
for ax, (name, pair) in zip(axes, pairs.items(), strict=True):
    path, start_accuracy, accuracy = tune(*pair)
    print(
        f"{name}: alpha {path[-1, 0]:.2f}, rho {path[-1, 1]:.2g}; accuracy on unknown "
        f"nodes {accuracy:.2f} ({start_accuracy:.2f} at the start)"
    )
    image = ax.contourf(grid_rho, grid_alpha, surfaces[name], levels=12, cmap="viridis")
    ax.plot(path[:, 1], path[:, 0], "w.-", lw=1, ms=3, label="gradient descent")
    ax.plot(*path[-1, ::-1], "r*", ms=12, label="end")
    ax.set(xscale="log", xlabel="rho", title=f"{name}: accuracy {accuracy:.2f}")
    fig.colorbar(image, ax=ax, label="accuracy on unknown nodes")
axes[0].set_ylabel("alpha")
axes[0].legend(loc="lower right")
fig.tight_layout()
plt.show()
