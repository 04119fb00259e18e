import math

import numpy as np
import torch

from skgw.datasets import make_sbm_graphs
from skgw.plan_prediction import ULOTNetwork, scaled_attention_plan
from skgw.plan_prediction._network import fourier_encoding
from skgw.plan_prediction._problem import pad_side, pair_feature_cost, prepare_graph


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


def _padded_logits(seed, n=5, m=7, pad_n=2, pad_m=1):
    """Logits and marginals of one pair padded by ``pad_n`` rows and ``pad_m`` columns."""
    generator = torch.Generator().manual_seed(seed)
    S = torch.randn(1, n + pad_n, m + pad_m, generator=generator, dtype=torch.float64)
    a = torch.zeros(1, n + pad_n, dtype=torch.float64)
    b = torch.zeros(1, m + pad_m, dtype=torch.float64)
    a[0, :n] = torch.rand(n, generator=generator, dtype=torch.float64) + 0.5
    b[0, :m] = torch.rand(m, generator=generator, dtype=torch.float64) + 0.5
    a, b = a / a.sum(), b / b.sum()
    return S, torch.log(a), torch.log(b)


def test_attention_plan_without_sinkhorn_is_ulots_softmax_plan():
    S, log_a, log_b = _padded_logits(0)
    P = scaled_attention_plan(S, log_a, log_b, 0)
    a, b = log_a.exp(), log_b.exp()
    n, m = 5, 7
    rows = torch.softmax(S[0, :n, :m], dim=1)
    columns = torch.softmax(S[0, :n, :m], dim=0)
    expected = 0.5 * (a[0, :n, None] * rows + columns * b[0, None, :m])
    torch.testing.assert_close(P[0, :n, :m], expected)
    assert torch.all(P[0, n:] == 0) and torch.all(P[0, :, m:] == 0)


def test_sinkhorn_updates_bring_the_plan_to_its_marginals():
    S, log_a, log_b = _padded_logits(1)
    a, b = log_a.exp(), log_b.exp()
    errors = []
    for n_iter in (0, 2, 50):
        P = scaled_attention_plan(S, log_a, log_b, n_iter)
        errors.append(float((P.sum(2) - a).abs().sum() + (P.sum(1) - b).abs().sum()))
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-10
    # The fixed point is the entropic plan of the logits: P = diag(u) exp(S) diag(v).
    log_ratio = torch.log(P[0, :5, :7]) - S[0, :5, :7]
    centred = log_ratio - log_ratio[:, :1] - log_ratio[:1, :] + log_ratio[0, 0]
    torch.testing.assert_close(centred, torch.zeros_like(centred), atol=1e-8, rtol=0)


def test_attention_plan_is_finite_with_padding_and_vanishing_weights():
    S, log_a, log_b = _padded_logits(2)
    log_a[0, :5] = -200.0  # every source weight below float32's range: no mass, no NaN
    for dtype in (torch.float64, torch.float32):
        S_ = S.to(dtype).detach().requires_grad_(True)
        log_a_ = log_a.to(dtype).detach().requires_grad_(True)
        P = scaled_attention_plan(S_, log_a_, log_b.to(dtype), 5)
        (P * torch.arange(8.0, dtype=dtype)).sum().backward()
        # The row-exact half carries the (vanishing) source mass, the column-exact half b's.
        assert torch.isfinite(P).all()
        np.testing.assert_allclose(float(P.detach().sum()), 0.5, rtol=1e-5)
        assert torch.isfinite(S_.grad).all() and torch.isfinite(log_a_.grad).all()
        assert torch.all(S_.grad[0, 5:] == 0) and torch.all(S_.grad[0, :, 7:] == 0)


def test_sinkhorn_plan_head_is_batch_independent():
    graphs, _ = make_sbm_graphs(4, n_nodes=(5, 12), random_state=1)
    prepared = [prepare_graph(g) for g in graphs]
    torch.manual_seed(0)
    network = ULOTNetwork(3, hidden_dim=16, gcn_dim=8, attention_dim=16, n_layers=1,
                          sinkhorn_max_iter=4).double()  # fmt: skip
    alpha = torch.tensor([0.2, 0.9], dtype=torch.float64)
    rho = torch.tensor([1.0, 0.01], dtype=torch.float64)
    sources = pad_side(prepared[:2], "cpu", torch.float64)
    targets = pad_side(prepared[2:], "cpu", torch.float64)
    with torch.no_grad():
        P = network(sources, targets, alpha, rho, pair_feature_cost(sources, targets, True))
        source = pad_side(prepared[1:2], "cpu", torch.float64)
        target = pad_side(prepared[3:], "cpu", torch.float64)
        alone = network(source, target, alpha[1:], rho[1:], pair_feature_cost(source, target, True))
    n, m = prepared[1].p.shape[0], prepared[3].p.shape[0]
    torch.testing.assert_close(alone[0], P[1, :n, :m], rtol=1e-10, atol=1e-12)
    assert torch.all(P[1, n:] == 0) and torch.all(P[1, :, m:] == 0)
