"""Short forms of the papers' reproductions, against the issues' bars (``pytest -m slow``).

The full reproductions, with every figure, are the scripts of ``benchmarks/``; these check, on a
few minutes of CPU, that the shipped ULOT model and GWF still reach what those scripts measured.
"""

import numpy as np
import ot
import pytest
import torch
from sklearn.cluster import KMeans

from skgw import GromovWassersteinFactorization
from skgw.datasets import load_tudataset, make_sbm_pairs
from skgw.metrics import clustering_accuracy
from skgw.ot import fugw_loss, to_pot_parameters
from skgw.plan_prediction import load_pretrained, normalized_fugw_inputs, sample_trade_offs

pytestmark = [
    pytest.mark.slow,
    # POT warns before it gives up on a pair ("There is NaN in coupling"); those pairs are left out
    pytest.mark.filterwarnings("ignore::RuntimeWarning:ot.*", "ignore::UserWarning:ot.*"),
]


def _pot_and_ulot_losses(model, pairs, alphas, rhos):
    """FUGW losses of POT's plans and of the predicted ones, on the pairs POT solves."""
    predicted = model.predict_loss(pairs, alpha=alphas, rho=rhos)
    pot, ulot = [], []
    for k, (source, target) in enumerate(pairs):
        inputs = normalized_fugw_inputs(source, target)
        alpha_pot, rho_pot, _ = to_pot_parameters(alphas[k], rhos[k])
        try:
            plan, _ = ot.gromov.fused_unbalanced_gromov_wasserstein(
                inputs["Cs"], inputs["Ct"], inputs["ws"], inputs["wt"],
                reg_marginals=rho_pot, alpha=alpha_pot, M=inputs["D"],
            )  # fmt: skip
        except ValueError:  # "There is NaN in coupling": POT gives up on this pair
            continue
        batch = {name: torch.as_tensor(array)[None] for name, array in inputs.items()}
        plan = torch.as_tensor(plan)[None]
        loss = fugw_loss(plan, batch["Cs"], batch["Ct"], batch["ws"], batch["wt"],
                         D=batch["D"], alpha=alphas[k], rho=rhos[k])  # fmt: skip
        pot.append(float(loss))
        ulot.append(predicted[k])
    return np.array(pot), np.array(ulot)


def test_shipped_ulot_model_is_close_to_pot_on_held_out_sbm_pairs():
    """Issue #6: Pearson >= 0.99, median excess <= 5 %, 90th percentile <= 30 % against POT.

    ``bench_ulot.py`` measures 0.9998, +3.3 % and +24.5 % on 500 pairs of the same law; these 60
    give 0.9997, +3.3 % and +18.3 % on the 53 that POT solves.
    """
    model = load_pretrained(device="cpu")
    rng = np.random.RandomState(2025)  # held out: the model was trained on graphs of seed 0
    pairs, _ = make_sbm_pairs(60, random_state=rng)
    alphas, rhos = sample_trade_offs(len(pairs), rng)
    alphas = np.clip(alphas, 0.05, 1.0)  # POT has no alpha = 0
    pot, ulot = _pot_and_ulot_losses(model, pairs, alphas, rhos)
    assert len(pot) >= 50
    excess = ulot / pot - 1.0
    assert np.corrcoef(ulot, pot)[0, 1] >= 0.99
    assert np.median(excess) <= 0.05
    assert np.quantile(excess, 0.9) <= 0.30


def test_shipped_ulot_model_extends_to_larger_graphs():
    """Issue #6: on SBM pairs of 200 nodes (trained on 30-58) the loss is at most 1.3x POT's.

    ``bench_ulot.py`` measures a median ratio of 1.02 on its pairs of 200 nodes; these four give
    1.12.
    """
    model = load_pretrained(device="cpu")
    rng = np.random.RandomState(2026)
    pairs, _ = make_sbm_pairs(4, n_nodes=200, random_state=rng)
    alphas, rhos = sample_trade_offs(len(pairs), rng)
    alphas = np.clip(alphas, 0.05, 1.0)
    pot, ulot = _pot_and_ulot_losses(model, pairs, alphas, rhos)
    assert len(pot) >= 3
    assert np.median(ulot / pot) <= 1.3


def test_gwf_with_kept_atoms_clusters_imdb_binary_as_in_the_paper(tu_data_home):
    """Table 1, IMDB-B: the paper's GWF-PPA gives 60.2 +- 1.6, the majority class 50.0.

    ``reproduce_gwf_clustering.py --datasets IMDB-BINARY --solvers ppa --features none
    --atom-learning-rate 0`` gives 58.8 +- 0.2 over ten seeds (58.2 to 59.0); seed 0 gives 58.9,
    with one epoch as here or ten.
    """
    graphs, y = load_tudataset(
        "IMDB-BINARY", data_home=tu_data_home, node_features=None, return_X_y=True
    )
    # With the atoms kept, transform does not depend on the epochs of fit: one is enough.
    gwf = GromovWassersteinFactorization(
        variant_params={"atom_learning_rate": 0}, max_iter=1, random_state=0, device="cpu"
    )
    logits = np.log(gwf.fit_transform(graphs))
    logits -= logits.mean(axis=1, keepdims=True)
    labels = KMeans(2, n_init=10, random_state=0).fit_predict(logits)
    assert clustering_accuracy(y, labels) >= 0.58
