"""
=====================================================
GWF: clustering molecules and looking at their atoms
=====================================================

The Gromov-Wasserstein factorization (GWF, Xu 2020) learns ``K`` small *atom* graphs such that
every graph of a collection is well approximated by a GW barycenter of them. The barycenter
weights, one point of the simplex per graph, are an embedding that any scikit-learn estimator
can use.

Here GWF embeds the 188 molecules of MUTAG (a TU Dortmund benchmark that ships with skgw: nodes
are atoms with a one-hot chemical element, edges are bonds; the classes say whether the compound
is mutagenic). We cluster the embeddings with K-means, draw them in 2-D with t-SNE, and draw the
learned atoms.
"""

# %%
# Fit the factorization
# ---------------------
# Ten atoms, warm-started from ten sampled molecules, five epochs of the paper's algorithm.
import time

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
from sklearn.cluster import KMeans
from sklearn.manifold import TSNE

from skgw import GromovWassersteinFactorization
from skgw.datasets import load_mutag
from skgw.metrics import clustering_accuracy

graphs, y = load_mutag(return_X_y=True)
print(
    f"{len(graphs)} graphs, {min(g.n_nodes for g in graphs)}-{max(g.n_nodes for g in graphs)} "
    f"nodes, {graphs[0].n_node_features} node features"
)

start = time.perf_counter()
gwf = GromovWassersteinFactorization(n_components=10, max_iter=5, random_state=0)
embedding = gwf.fit_transform(graphs)
print(f"fit_transform: {time.perf_counter() - start:.1f} s, embedding {embedding.shape}")

# %%
# The training loss decreases over the epochs:
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot(np.arange(1, len(gwf.loss_curve_) + 1), gwf.loss_curve_, marker="o")
ax.set(xlabel="epoch", ylabel="mean reconstruction loss", title="GWF training")
fig.tight_layout()

# %%
# Cluster the embeddings
# ----------------------
# Clustering accuracy matches clusters to classes at best (Hungarian matching); the majority
# class alone gives the baseline.
labels = KMeans(2, n_init=10, random_state=0).fit_predict(embedding)
classes, counts = np.unique(y, return_counts=True)
majority = counts.max() / len(y)
print(
    f"K-means on GWF embeddings: accuracy {clustering_accuracy(y, labels):.3f} "
    f"(majority class {majority:.3f})"
)

# %%
# A 2-D map of the embeddings
# ---------------------------
# t-SNE of the barycentric weights, coloured by the true class (left) and by the K-means
# cluster (right).
# sphinx_gallery_thumbnail_number = 2
points = TSNE(n_components=2, perplexity=30, random_state=0).fit_transform(embedding)
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharex=True, sharey=True)
for ax, colours, title in zip(axes, (y, labels), ("class", "K-means cluster"), strict=True):
    ax.scatter(points[:, 0], points[:, 1], c=colours, cmap="coolwarm", s=15)
    ax.set(title=f"t-SNE of GWF embeddings, by {title}", xticks=[], yticks=[])
fig.tight_layout()

# %%
# The learned atoms
# -----------------
# Each atom is a graph with a continuous structure matrix and node features. We draw an edge where
# the learned structure exceeds 0.5 and colour each node by its dominant feature (the chemical
# element it stands for). The bars under each atom show how much the two classes use it on
# average: atoms used by one class more than the other are what separates them.
elements = ["C", "N", "O", "F", "I", "Cl", "Br"]
usage = np.stack([embedding[y == c].mean(axis=0) for c in classes])
order = np.argsort(-np.abs(usage[1] - usage[0]))[:6]
fig, axes = plt.subplots(2, 6, figsize=(13, 4.5), gridspec_kw={"height_ratios": [3, 1]})
for column, k in enumerate(order):
    atom = gwf.components_[k]
    adjacency = (atom.C + atom.C.T) / 2 > 0.5
    graph = nx.from_numpy_array(adjacency.astype(int))
    element = atom.F.argmax(axis=1)
    nx.draw(
        graph,
        pos=nx.kamada_kawai_layout(graph),
        ax=axes[0, column],
        node_size=60,
        node_color=element,
        cmap="tab10",
        vmin=0,
        vmax=9,
        width=0.8,
    )
    axes[0, column].set_title(f"atom {k} ({atom.n_nodes} nodes)")
    axes[1, column].bar([f"class {c}" for c in classes], usage[:, k], color=["tab:blue", "tab:red"])
    axes[1, column].set_ylim(0, usage.max() * 1.1)
handles = [
    plt.Line2D([], [], marker="o", linestyle="", color=plt.cm.tab10(i), label=name)
    for i, name in enumerate(elements)
]
fig.legend(handles=handles, loc="lower center", ncol=7, fontsize="small")
fig.suptitle("Atoms that separate the classes most, and their mean weight per class")
fig.tight_layout(rect=(0, 0.07, 1, 1))
plt.show()
