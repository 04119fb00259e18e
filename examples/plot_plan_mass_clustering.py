"""
===================================================================
Spectral clustering of graphs on the mass of predicted FUGW plans
===================================================================

In unbalanced transport, the plan between two graphs keeps less mass when the graphs differ:
destroying mass that has no good destination is cheaper than moving it. The total mass of the
plan, between 0 and 1, is therefore a similarity between graphs (ULOT paper, section 3.2).
:meth:`~skgw.FUGWPlanPredictor.pairwise_plan_mass` predicts all the plans of a collection in
batches and returns the symmetrised mass matrix, which
:class:`~sklearn.cluster.SpectralClustering` takes as a precomputed affinity.
"""

# %%
# Ninety SBM graphs of three types
# --------------------------------
# The types have the cluster sets {1, 2, 3}, {1, 2} and {2, 3}: every type shares clusters with
# every other, which makes them hard to tell apart by size or density.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import SpectralClustering
from sklearn.metrics import adjusted_rand_score

from skgw.datasets import make_sbm_graphs
from skgw.plan_prediction import load_pretrained

graphs, types = make_sbm_graphs(90, random_state=0)
order = np.argsort(types, kind="stable")
graphs, types = [graphs[i] for i in order], types[order]
model = load_pretrained()

# %%
# Plan masses for three values of rho
# -----------------------------------
# 8,100 plans per value of :math:`\rho`. With a large :math:`\rho` every plan keeps all its mass
# and the similarity says nothing; with a small one, only the plans between graphs of the same
# type keep theirs.
rhos = [1e-3, 1e-2, 1e-1, 1.0]
fig, axes = plt.subplots(1, len(rhos), figsize=(15, 3.6))
for ax, rho in zip(axes, rhos, strict=True):
    start = time.perf_counter()
    affinity = model.pairwise_plan_mass(graphs, alpha=0.5, rho=rho)
    seconds = time.perf_counter() - start
    labels = SpectralClustering(3, affinity="precomputed", random_state=0).fit_predict(affinity)
    ari = adjusted_rand_score(types, labels)
    print(f"rho={rho:g}: {len(graphs) ** 2} plans in {seconds:.1f} s, ARI {ari:.3f}")
    image = ax.imshow(affinity, cmap="magma")
    ax.set(title=f"rho = {rho:g}: ARI {ari:.2f}", xticks=[], yticks=[])
    fig.colorbar(image, ax=ax, shrink=0.8)
    for boundary in np.flatnonzero(np.diff(types)):
        ax.axhline(boundary + 0.5, color="w", lw=0.5)
        ax.axvline(boundary + 0.5, color="w", lw=0.5)
axes[0].set_ylabel("graphs sorted by type")
fig.suptitle("Plan masses (each panel on its own colour scale)")
fig.tight_layout()
plt.show()
