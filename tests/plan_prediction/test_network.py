import math

import numpy as np
import torch

from skgw.datasets import make_sbm_graphs
from skgw.plan_prediction import ULOTNetwork
from skgw.plan_prediction._network import fourier_encoding
from skgw.plan_prediction._problem import pad_side, prepare_graph


def _network():
    torch.manual_seed(0)
    return ULOTNetwork(3, hidden_dim=16, gcn_dim=8, attention_dim=16, n_layers=2).double()


def test_fourier_encoding_follows_its_formula():
    alpha = torch.tensor([0.0, 0.3, 1.0], dtype=torch.float64)
    phi = fourier_encoding(alpha, dim=6)
    assert phi.shape == (3, 6)
    np.testing.assert_allclose(phi[1, 2], math.cos(math.pi * 2 * 0.3))
    np.testing.assert_allclose(phi[1, 4], math.sin(math.pi * 4 * 0.7))
    np.testing.assert_allclose(phi[2, 3:], 0.0, atol=1e-12)  # sin(pi j 0)


def test_plans_are_nonnegative_masked_and_batch_independent():
    graphs, _ = make_sbm_graphs(4, n_nodes=(5, 12), random_state=0)
    prepared = [prepare_graph(g) for g in graphs]
    network = _network()
    alpha = torch.tensor([0.2, 0.9], dtype=torch.float64)
    rho = torch.tensor([1.0, 0.01], dtype=torch.float64)
    source = pad_side(prepared[:2], "cpu", torch.float64)
    target = pad_side(prepared[2:], "cpu", torch.float64)
    with torch.no_grad():
        P = network(source, target, alpha, rho)
    assert P.shape == (2, source.sizes.max(), target.sizes.max())
    assert torch.all(P >= 0)
    n, m = source.sizes[0], target.sizes[0]
    assert torch.all(P[0, n:] == 0) and torch.all(P[0, :, m:] == 0)
    # Mass: at most the weights, row sums near w_s p_s <= p_s.
    assert float(P[0].sum()) <= 1.0 + 1e-12
    with torch.no_grad():
        alone = network(
            pad_side(prepared[:1], "cpu", torch.float64),
            pad_side(prepared[2:3], "cpu", torch.float64),
            alpha[:1],
            rho[:1],
        )
    torch.testing.assert_close(alone[0], P[0, :n, :m], rtol=1e-10, atol=1e-12)
