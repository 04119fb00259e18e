import numpy as np
import ot
import pytest
import torch
from ot.backend import get_backend
from ot.gromov._unbalanced import fused_unbalanced_across_spaces_cost

from skgw._batching import pad_graphs
from skgw.datasets import make_sbm_pairs
from skgw.ot import feature_cost, fugw_loss, fugw_plan, kl_divergence, to_pot_parameters


def _pot_objective(a, b, P, alpha, rho, eps):
    """POT's FUGW objective of the plan P (both BCD blocks equal to P)."""
    alpha_pot, rho_pot, eps_pot = to_pot_parameters(alpha, rho, eps)
    M = ot.dist(a.F, b.F)
    reference = (a.p, b.p, np.outer(a.p, b.p))
    _, cost = fused_unbalanced_across_spaces_cost(
        (alpha_pot / 2 * M, alpha_pot / 2 * M),
        (a.C**2, b.C**2, a.C, b.C),
        reference,
        reference,
        P,
        P,
        (rho_pot, rho_pot, eps_pot, eps_pot),
        "kl",
        "joint",
        get_backend(P),
    )
    return alpha * cost


def _batch(pairs):
    first = pad_graphs([a for a, _ in pairs])
    second = pad_graphs([b for _, b in pairs])
    return first, second, feature_cost(first.F, second.F)


@pytest.mark.parametrize("alpha, rho, eps", [(0.5, 1.0, 0.0), (0.2, 0.01, 0.0), (0.9, 3.0, 0.1)])
def test_loss_matches_pot_convention(alpha, rho, eps):
    ((a, b),) = make_sbm_pairs(1, n_nodes=(6, 9), random_state=0)[0]
    rng = np.random.RandomState(0)
    P = rng.rand(a.n_nodes, b.n_nodes) / 40
    ours = fugw_loss(
        torch.tensor(P)[None],
        torch.tensor(a.C)[None],
        torch.tensor(b.C)[None],
        torch.tensor(a.p)[None],
        torch.tensor(b.p)[None],
        D=torch.tensor(ot.dist(a.F, b.F))[None],
        alpha=alpha,
        rho=rho,
        epsilon=eps,
    ).item()
    assert ours == pytest.approx(_pot_objective(a, b, P, alpha, rho, eps), rel=1e-6)


@pytest.fixture(scope="module")
def problems_and_pot_losses():
    """50 SBM pairs with random trade-offs, and the FUGW losses of POT's plans."""
    pairs, _ = make_sbm_pairs(50, random_state=1)
    rng = np.random.RandomState(2)
    alpha, rho = rng.uniform(0.1, 0.9, 50), np.exp(-4 * rng.rand(50))
    reference = []
    for (a, b), al, r in zip(pairs, alpha, rho, strict=True):
        alpha_pot, rho_pot, _ = to_pot_parameters(al, r)
        plan, _ = ot.gromov.fused_unbalanced_gromov_wasserstein(
            a.C, b.C, a.p, b.p, reg_marginals=rho_pot, alpha=alpha_pot, M=ot.dist(a.F, b.F)
        )
        reference.append(_pot_objective(a, b, plan, al, r, 0.0))
    return pairs, alpha, rho, np.array(reference)


@pytest.mark.parametrize("inner", [{"inner": "mm"}, {"inner": "ibpp", "proximal_weight": 0.1}])
def test_solver_within_two_percent_of_pot(problems_and_pot_losses, inner):
    pairs, alpha, rho, reference = problems_and_pot_losses
    first, second, D = _batch(pairs)
    problem = dict(D=D, alpha=torch.tensor(alpha), rho=torch.tensor(rho))
    P = fugw_plan(first.C, second.C, first.p, second.p, max_iter=100, **problem, **inner)
    ours = fugw_loss(P, first.C, second.C, first.p, second.p, **problem).numpy()
    assert ours.mean() <= 1.02 * reference.mean()
    assert torch.isfinite(P).all()


@pytest.mark.parametrize("inner", ["mm", "ibpp"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_padding_does_not_change_the_plans(inner, dtype):
    pairs, _ = make_sbm_pairs(3, n_nodes=(5, 12), random_state=4)
    first, second, D = _batch(pairs)
    # A fixed number of steps: with a tolerance, float32 rounding of the loss can stop a padded
    # problem one step from where it stops alone.
    settings = dict(alpha=0.6, rho=0.3, inner=inner, max_iter=30, tol=0.0)
    padded = fugw_plan(
        first.C.to(dtype), second.C.to(dtype), first.p.to(dtype), second.p.to(dtype),
        D=D.to(dtype), **settings,
    )  # fmt: skip
    for k, pair in enumerate(pairs):
        a, b, D_k = _batch([pair])
        alone = fugw_plan(
            a.C.to(dtype), b.C.to(dtype), a.p.to(dtype), b.p.to(dtype),
            D=D_k.to(dtype), **settings,
        )  # fmt: skip
        n, m = alone.shape[1:]
        assert torch.allclose(padded[k, :n, :m], alone[0], rtol=1e-4, atol=1e-7)
        assert torch.all(padded[k, n:] == 0) and torch.all(padded[k, :, m:] == 0)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"inner": "sinkhorn"}, "inner must be"),
        ({"proximal_weight": 0.0}, "proximal_weight"),
        ({"alpha": 1.5}, "alpha must be in"),
        ({"alpha": float("nan")}, "alpha must be in"),
        ({"rho": -1.0}, "rho must be positive"),
        ({"epsilon": -0.1}, "epsilon must be nonnegative"),
        ({"max_iter": -1}, "max_iter must be an integer"),
        ({"inner_max_iter": 0}, "inner_max_iter must be an integer"),
        # F4: one trade-off per problem, never broadcast (the batch has one problem here).
        ({"alpha": torch.tensor([0.5, 0.5, 0.5])}, r"alpha must be a number or of shape \(1,\)"),
        ({"rho": torch.tensor([1.0, 1.0])}, r"rho must be a number or of shape \(1,\)"),
    ],
)
def test_solver_options_are_checked(options, message):
    pairs, _ = make_sbm_pairs(1, random_state=0)
    first, second, _ = _batch(pairs)
    with pytest.raises(ValueError, match=message):
        fugw_plan(first.C, second.C, first.p, second.p, **options)


def test_warm_start_needs_fewer_iterations():
    pairs, _ = make_sbm_pairs(10, random_state=3)
    first, second, D = _batch(pairs)
    kwargs = dict(D=D, alpha=0.5, rho=0.5, max_iter=200, tol=1e-7, return_log=True)
    P, cold = fugw_plan(first.C, second.C, first.p, second.p, **kwargs)
    _, warm = fugw_plan(first.C, second.C, first.p, second.p, init=P, **kwargs)
    assert cold["converged"].all() and warm["converged"].all()
    assert warm["n_iter"].sum() < cold["n_iter"].sum()


def test_loss_gradients_in_alpha_rho_plan_and_inputs():
    rng = np.random.RandomState(5)
    args = [
        torch.tensor(x, requires_grad=True)
        for x in (
            rng.rand(1, 4, 3) / 12,
            rng.rand(1, 4, 4),
            rng.rand(1, 3, 3),
            rng.rand(1, 4, 3),
        )
    ]
    ws, wt = (
        torch.full((1, 4), 0.25, dtype=torch.float64),
        torch.full((1, 3), 1 / 3, dtype=torch.float64),
    )
    alpha = torch.tensor([0.4], dtype=torch.float64, requires_grad=True)
    rho = torch.tensor([0.7], dtype=torch.float64, requires_grad=True)

    def loss(P, Cs, Ct, D, alpha, rho):
        return fugw_loss(P, Cs, Ct, ws, wt, D=D, alpha=alpha, rho=rho, epsilon=0.05)

    assert torch.autograd.gradcheck(loss, (*args, alpha, rho))


@pytest.mark.parametrize("inner", ["mm", "ibpp"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("alpha, rho", [(0.13, 1.8e-4), (1.0, 1e-8)])
def test_vanishing_mass_gives_the_zero_plan_not_nan(inner, dtype, alpha, rho):
    # With a tiny rho, destroying all the mass is optimal; the solver must land on P = 0 cleanly
    # and stay there (in float32, rho times a vanished mass underflows to 0).
    pairs, _ = make_sbm_pairs(2, random_state=2025)
    first, second, D = _batch(pairs)
    Cs, Ct, ws, wt = (x.to(dtype) for x in (first.C * 10, second.C * 10, first.p, second.p))
    P = fugw_plan(Cs, Ct, ws, wt, D=D.to(dtype), alpha=alpha, rho=rho, inner=inner)
    assert torch.isfinite(P).all()
    loss = fugw_loss(P, Cs, Ct, ws, wt, D=D.to(dtype), alpha=alpha, rho=rho)
    zero_loss = fugw_loss(torch.zeros_like(P), Cs, Ct, ws, wt, D=D.to(dtype), alpha=alpha, rho=rho)
    assert torch.isfinite(loss).all()
    assert torch.all(loss <= zero_loss * (1 + 10 * torch.finfo(dtype).eps) + 1e-12)


@pytest.mark.parametrize(
    "alpha, rho, eps, message",
    [
        (0.0, 1.0, 0.0, "no equivalent of alpha = 0"),
        (1.5, 1.0, 0.0, r"alpha must be in \(0, 1\]"),
        (0.5, 0.0, 0.0, "rho must be positive"),
        (0.5, 1.0, -1.0, "epsilon must be nonnegative"),
        (0.5, float("nan"), 0.0, "rho must be positive"),
    ],
)
def test_pot_parameters_are_checked(alpha, rho, eps, message):
    with pytest.raises(ValueError, match=message):
        to_pot_parameters(alpha, rho, eps)
    assert to_pot_parameters(0.25, 2.0, 0.5) == (3.0, 8.0, 2.0)


def test_kl_divergence_matches_its_formula_and_checks_its_measures():
    a = torch.tensor([[0.2, 0.3, 0.0], [0.5, 0.1, 0.4]], dtype=torch.float64)
    b = torch.tensor([[0.4, 0.1, 0.2], [0.5, 0.3, 0.3]], dtype=torch.float64)
    positive = a > 0
    expected = torch.where(positive, a * torch.log(a / b), 0.0).sum(1) - a.sum(1) + b.sum(1)
    torch.testing.assert_close(kl_divergence(a, b, 1), expected)
    torch.testing.assert_close(kl_divergence(a, b, (0, 1)), expected.sum())
    with pytest.raises(ValueError, match="a has mass where b is 0"):
        kl_divergence(b, a, 1)
    with pytest.raises(ValueError, match="b has negative entries"):
        kl_divergence(a, -b, 1)
    with pytest.raises(ValueError, match=r"one shape, got \(2, 3\) and \(2, 2\)"):
        kl_divergence(a, b[:, :2], 1)
    with pytest.raises(TypeError, match="b must be a torch.Tensor"):
        kl_divergence(a, b.numpy(), 1)


def test_f5_loss_rejects_mass_on_zero_weight_nodes():
    # The marginal penalty is infinite there; the loss used to come out finite and negative.
    pairs, _ = make_sbm_pairs(2, random_state=0)
    first, second, _ = _batch(pairs)
    P = first.p[:, :, None] * second.p[:, None, :]
    ws = first.p.clone()
    ws[:, 0] = 0.0
    with pytest.raises(ValueError, match="P has mass on node 0, whose weight in ws is 0"):
        fugw_loss(P, first.C, second.C, ws, second.p)
    wt = second.p.clone()
    wt[1, 2] = 0.0
    with pytest.raises(ValueError, match="Problem 1: P has mass on node 2, whose weight in wt"):
        fugw_loss(P, first.C, second.C, first.p, wt)


@pytest.mark.parametrize("rho", [100.0, 1000.0])
def test_f6_ibpp_at_large_rho_goes_downhill(rho):
    # One Sinkhorn sweep per proximal step left the rows off their marginals; at large rho the
    # block steps climbed to 33x (median) the starting loss.
    rng = np.random.default_rng(0)
    ws = torch.full((1, 8), 1 / 8, dtype=torch.float64)
    wt = torch.full((1, 10), 1 / 10, dtype=torch.float64)
    for _ in range(6):
        Cs, Ct = (rng.random((n, n)) for n in (8, 10))
        Cs, Ct = (torch.tensor((C + C.T) / 20)[None] for C in (Cs, Ct))
        D = torch.tensor(rng.random((1, 8, 10)) / 5)
        problem = dict(D=D, alpha=0.5, rho=rho)
        start = fugw_loss(ws[:, :, None] * wt[:, None, :], Cs, Ct, ws, wt, **problem)
        ibpp = fugw_loss(
            fugw_plan(Cs, Ct, ws, wt, inner="ibpp", **problem), Cs, Ct, ws, wt, **problem
        )
        mm = fugw_loss(fugw_plan(Cs, Ct, ws, wt, inner="mm", **problem), Cs, Ct, ws, wt, **problem)
        assert ibpp < start and ibpp <= 1.01 * mm


def test_f4_trade_offs_of_another_length_than_the_batch_are_rejected():
    # A torch RuntimeError about expanded sizes used to escape from fugw_plan.
    pairs, _ = make_sbm_pairs(2, random_state=0)
    first, second, _ = _batch(pairs)
    for name in ("alpha", "rho", "epsilon", "proximal_weight"):
        with pytest.raises(ValueError, match=rf"{name} must be a number or of shape \(2,\)"):
            fugw_plan(first.C, second.C, first.p, second.p, **{name: torch.full((3,), 0.5)})
    plans = fugw_plan(
        first.C, second.C, first.p, second.p, alpha=torch.tensor([0.2, 0.8]), max_iter=5, tol=0
    )
    assert plans.shape[0] == 2 and torch.isfinite(plans).all()
