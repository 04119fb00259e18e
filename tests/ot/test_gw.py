import numpy as np
import ot
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skgw._batching import pad_graphs
from skgw._graphs import Graph
from skgw.ot import (
    feature_cost,
    fgw_gradient,
    fgw_loss,
    fgw_plan_badmm,
    fgw_plan_ppa,
    fugw_loss,
    fugw_plan,
    gw_tensor_product,
    initial_plan,
)


def _random_graph(rng, n, density=0.3):
    A = np.triu((rng.rand(n, n) < density).astype(float), 1)
    return Graph(A + A.T, np.full(n, 1.0 / n), rng.randn(n, 2))


def _tensors(*arrays):
    return [torch.tensor(np.array(a), dtype=torch.float64)[None] for a in arrays]


@pytest.fixture(scope="module")
def random_pairs():
    rng = np.random.RandomState(0)
    return [
        (_random_graph(rng, rng.randint(10, 41)), _random_graph(rng, rng.randint(10, 41)))
        for _ in range(100)
    ]


@pytest.fixture(scope="module")
def batched_pairs(random_pairs):
    """The random pairs padded into two batches, and POT's CG losses for them."""
    first = pad_graphs([a for a, _ in random_pairs])
    second = pad_graphs([b for _, b in random_pairs])
    reference = np.array(
        [ot.gromov.gromov_wasserstein2(a.C, b.C, a.p, b.p) for a, b in random_pairs]
    )
    return first, second, reference


def test_gw_and_fgw_loss_match_pot():
    rng = np.random.RandomState(1)
    a, b = _random_graph(rng, 7), _random_graph(rng, 5)
    T = ot.emd(a.p, b.p, rng.rand(7, 5))
    constC, hC1, hC2 = ot.gromov.init_matrix(a.C, b.C, a.p, b.p)
    C1, C2, Tt = _tensors(a.C, b.C, T)
    assert fgw_loss(C1, C2, Tt).item() == pytest.approx(
        ot.gromov.gwloss(constC, hC1, hC2, T), rel=1e-6
    )
    M = ot.dist(a.F, b.F)
    D = feature_cost(*_tensors(a.F, b.F))
    np.testing.assert_allclose(D[0].numpy(), M, atol=1e-12)
    expected = 0.3 * np.sum(M * T) + 0.7 * ot.gromov.gwloss(constC, hC1, hC2, T)
    assert fgw_loss(C1, C2, Tt, D, alpha=0.7).item() == pytest.approx(expected, rel=1e-6)


def test_ppa_marginals_and_loss_against_pot_cg(batched_pairs):
    first, second, reference = batched_pairs
    T = fgw_plan_ppa(first.C, second.C, first.p, second.p)
    assert torch.allclose(T.sum(2), first.p, atol=1e-5)
    assert torch.allclose(T.sum(1), second.p, atol=1e-5)
    assert fgw_loss(first.C, second.C, T).numpy().mean() <= 1.05 * reference.mean()


def test_ppa_recovers_a_node_permutation():
    rng = np.random.RandomState(2)
    g, other = _random_graph(rng, 20), _random_graph(rng, 20)
    perm = rng.permutation(20)
    C1, C2, C3, p = _tensors(g.C, g.C[perm][:, perm], other.C, g.p)
    T = fgw_plan_ppa(
        torch.cat([C1, C1]),
        torch.cat([C2, C3]),
        torch.cat([p, p]),
        torch.cat([p, p]),
        init="profile",
    )
    same, unrelated = fgw_loss(torch.cat([C1, C1]), torch.cat([C2, C3]), T).numpy()
    assert same < 1e-3 * unrelated


def test_padding_does_not_change_plans(random_pairs):
    a, b = random_pairs[0]
    alone = fgw_plan_ppa(*_tensors(a.C, b.C, a.p, b.p))[0]
    big = pad_graphs([a, random_pairs[1][0]], n_max=45)
    other = pad_graphs([b, random_pairs[1][1]], n_max=43)
    batched = fgw_plan_ppa(big.C, other.C, big.p, other.p)[0]
    torch.testing.assert_close(batched[: a.n_nodes, : b.n_nodes], alone, rtol=0, atol=1e-12)
    assert torch.all(batched[a.n_nodes :] == 0) and torch.all(batched[:, b.n_nodes :] == 0)


def test_ppa_converged_problems_set_aside_keep_each_plan_unchanged(random_pairs):
    # A pair of identical graphs converges within 10 steps and leaves the batch early; per-problem
    # trade-offs and proximal weights must follow the problems that stay.
    graphs = [random_pairs[0][0], random_pairs[1][0], random_pairs[2][0]]
    targets = [random_pairs[0][0], random_pairs[1][1], random_pairs[2][1]]
    first, second = pad_graphs(graphs), pad_graphs(targets)
    D = feature_cost(first.F, second.F)
    alpha = torch.tensor([0.5, 0.3, 0.8], dtype=torch.float64)
    epsilon = torch.tensor([0.05, 0.1, 0.2], dtype=torch.float64)[:, None, None]
    params = {"max_iter": 40, "sinkhorn_max_iter": 1, "tol": 1e-6, "init": "profile"}
    batched = fgw_plan_ppa(
        first.C, second.C, first.p, second.p, D=D, alpha=alpha, epsilon=epsilon, **params
    )
    for k in range(3):
        alone = fgw_plan_ppa(
            first.C[k : k + 1], second.C[k : k + 1], first.p[k : k + 1], second.p[k : k + 1],
            D=D[k : k + 1], alpha=alpha[k : k + 1], epsilon=epsilon[k : k + 1], **params,
        )  # fmt: skip
        torch.testing.assert_close(batched[k], alone[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("solver", [fgw_plan_ppa, fgw_plan_badmm])
@pytest.mark.parametrize("epsilon", [1e-3, 1e-6])
def test_float32_small_gamma_is_finite(random_pairs, solver, epsilon):
    # At epsilon = 1e-6 the log-kernels reach 1e6, where float32 rounds away a log-marginal added
    # to them: the row marginals must still hold.
    first = pad_graphs([a for a, _ in random_pairs[:20]], dtype=torch.float32)
    second = pad_graphs([b for _, b in random_pairs[:20]], dtype=torch.float32)
    D = feature_cost(first.F, second.F)
    T = solver(first.C, second.C, first.p, second.p, D=D, alpha=0.5, epsilon=epsilon)
    assert T.dtype == torch.float32
    assert torch.isfinite(T).all()
    assert torch.allclose(T.sum(2), first.p, atol=1e-4)


@pytest.mark.parametrize("solver", [fgw_plan_ppa, fgw_plan_badmm])
@pytest.mark.parametrize(
    "options, message",
    [
        ({"alpha": 1.5}, "alpha must be in"),
        ({"alpha": torch.tensor([0.5, float("nan")])}, "alpha must be in"),
        ({"epsilon": 0.0}, "epsilon must be positive"),
        ({"epsilon": float("inf")}, "epsilon must be positive"),
        ({"max_iter": -1}, "max_iter must be an integer"),
        ({"max_iter": 2.5}, "max_iter must be an integer"),
    ],
)
def test_solver_parameters_are_checked(random_pairs, solver, options, message):
    first = pad_graphs([a for a, _ in random_pairs[:2]])
    second = pad_graphs([b for _, b in random_pairs[:2]])
    D = feature_cost(first.F, second.F)
    with pytest.raises(ValueError, match=message):
        solver(first.C, second.C, first.p, second.p, D=D, **options)


def test_badmm_reaches_pot_quality_on_the_transport_polytope(batched_pairs):
    first, second, reference = batched_pairs
    # 100 steps are too few for BADMM's primal residual to reach its tolerance: it says so, and
    # the plans it returns are still feasible and near POT's on the marginals of the problem.
    with pytest.warns(ConvergenceWarning, match="fgw_plan_badmm: 100 of 100 problems"):
        T = fgw_plan_badmm(first.C, second.C, first.p, second.p, max_iter=100)
    assert torch.allclose(T.sum(2), first.p, atol=1e-10)
    assert torch.allclose(T.sum(1), second.p, atol=1e-10)
    assert fgw_loss(first.C, second.C, T).numpy().mean() <= 1.05 * reference.mean()


def test_fgw_plan_beats_feature_blind_plan():
    rng = np.random.RandomState(3)
    a = _random_graph(rng, 12)
    perm = rng.permutation(12)
    C1, C2, F1, F2, p = _tensors(a.C, a.C[perm][:, perm], a.F, a.F[perm], a.p)
    D = feature_cost(F1, F2)
    T = fgw_plan_ppa(C1, C2, p, p, D=D, alpha=0.5, init="profile")
    assert fgw_loss(C1, C2, T, D, alpha=0.5).item() < 1e-4


def test_loss_gradcheck():
    rng = np.random.RandomState(4)
    C1, C2, T, F1, F2 = (
        torch.tensor(x, requires_grad=True)
        for x in (
            rng.rand(1, 4, 4),
            rng.rand(1, 3, 3),
            rng.rand(1, 4, 3),
            rng.rand(1, 4, 2),
            rng.rand(1, 3, 2),
        )
    )
    alpha = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)

    def loss(C1, C2, T, F1, F2, alpha):
        return fgw_loss(C1, C2, T, feature_cost(F1, F2), alpha)

    assert torch.autograd.gradcheck(loss, (C1, C2, T, F1, F2, alpha))


BAD_BATCHES = [
    ("numpy C1", lambda b: b.update(C1=b["C1"].numpy()), TypeError, "C1 must be a torch.Tensor"),
    ("2-D C1", lambda b: b.update(C1=b["C1"][0]), ValueError, r"C1 must have shape \(B, n, n\)"),
    ("batch sizes", lambda b: b.update(C2=b["C2"][:1]), ValueError, "C2 must have shape"),
    ("p of C2", lambda b: b.update(p=b["q"]), ValueError, "must have shape"),
    ("D shape", lambda b: b.update(D=b["D"][:, :, :2]), ValueError, "D must have shape"),
    ("init shape", lambda b: b.update(init=b["D"][:, :2]), ValueError, "init must have shape"),
    ("dtypes", lambda b: b.update(C2=b["C2"].float()), TypeError, "cast them alike"),
    ("integers", lambda b: b.update(C1=b["C1"].long()), TypeError, "need float32 or float64"),
    ("NaN", lambda b: b["C1"].__setitem__((0, 0, 1), np.nan), ValueError, "C1 has non-finite"),
    ("inf in D", lambda b: b["D"].__setitem__((1, 0, 0), np.inf), ValueError, "D has non-finite"),
    ("negative", lambda b: b["q"].__setitem__((0, 0), -0.1), ValueError, "q has negative entries"),
    (
        "negative plan",
        lambda b: b["init"].__setitem__((0, 0, 0), -1.0),
        ValueError,
        "init has neg",
    ),
]


@pytest.mark.parametrize("solver", [fgw_plan_ppa, fgw_plan_badmm, fugw_plan])
@pytest.mark.parametrize(
    "spoil, error, message", [case[1:] for case in BAD_BATCHES], ids=[c[0] for c in BAD_BATCHES]
)
def test_solvers_reject_malformed_batches(random_pairs, solver, spoil, error, message):
    first = pad_graphs([a for a, _ in random_pairs[:2]])
    second = pad_graphs([b for _, b in random_pairs[:2]])
    batch = {"C1": first.C, "C2": second.C, "p": first.p, "q": second.p}
    batch["D"] = feature_cost(first.F, second.F)
    batch["init"] = first.p[:, :, None] * second.p[:, None, :]
    batch = {k: v.clone() for k, v in batch.items()}
    spoil(batch)
    if solver is fugw_plan:  # the FUGW solver names its inputs Cs, Ct, ws, wt
        message = message.replace("C1", "Cs").replace("C2", "Ct").replace("q has", "wt has")
    problem = [batch.pop(k) for k in ("C1", "C2", "p", "q")]
    with pytest.raises(error, match=message):
        solver(*problem, **batch)


@pytest.mark.parametrize("solver", [fgw_plan_ppa, fgw_plan_badmm])
def test_balanced_solvers_need_equal_masses(random_pairs, solver):
    first = pad_graphs([a for a, _ in random_pairs[:2]])
    second = pad_graphs([b for _, b in random_pairs[:2]])
    with pytest.raises(ValueError, match="Problem 1: p sums to 1 and q to 2; balanced transport"):
        solver(first.C, second.C, first.p, second.p * torch.tensor([[1.0], [2.0]]))
    fugw_plan(first.C, second.C, first.p, 2.0 * second.p)  # unbalanced: any masses


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ppa_small_gamma_profile_start_stays_on_the_marginals(dtype):
    # The profile start at epsilon = 0.01 scales kernels of a range of thousands of nats; the
    # float32 kernel iterations once diverged there and returned NaN plans.
    rng = np.random.RandomState(5)
    first = pad_graphs([_random_graph(rng, 15) for _ in range(20)], dtype=dtype)
    second = pad_graphs([_random_graph(rng, 11) for _ in range(20)], dtype=dtype)
    D = feature_cost(4 * first.F, 4 * second.F)
    T = fgw_plan_ppa(
        first.C, second.C, first.p, second.p, D=D, alpha=0.5, epsilon=0.01, init="profile"
    )
    assert torch.isfinite(T).all()
    torch.testing.assert_close(T.sum(2), first.p)
    torch.testing.assert_close(T.sum(1), second.p)


BAD_LOSS_INPUTS = [
    ("2-D plans", lambda b: b.update(T=b["T"][0]), r"T must have shape \(2, \d+, \d+\)"),
    ("swapped", lambda b: b.update(T=b["T"].transpose(1, 2)), "T must have shape"),
    ("D shape", lambda b: b.update(D=b["D"][:1]), "D must have shape"),
    ("NaN plan", lambda b: b["T"].__setitem__((1, 0, 0), np.nan), "T has non-finite"),
    ("alpha range", lambda b: b.update(alpha=1.5), r"alpha must be in \[0, 1\]"),
    ("alpha shape", lambda b: b.update(alpha=torch.full((2, 1), 0.5)), r"alpha must be a number"),
]


@pytest.mark.parametrize(
    "spoil, message", [case[1:] for case in BAD_LOSS_INPUTS], ids=[c[0] for c in BAD_LOSS_INPUTS]
)
@pytest.mark.parametrize("function", [fgw_loss, fgw_gradient, fugw_loss])
def test_losses_and_gradients_reject_malformed_inputs(random_pairs, function, spoil, message):
    # A 2-D or transposed plan would broadcast against the batch silently.
    first = pad_graphs([a for a, _ in random_pairs[:2]])
    second = pad_graphs([b for _, b in random_pairs[:2]])
    T = first.p[:, :, None] * second.p[:, None, :]
    batch = {"T": T.clone(), "D": feature_cost(first.F, second.F), "alpha": 0.5}
    spoil(batch)
    if function is fugw_loss:  # the FUGW loss names its plans P, its structures Cs and Ct
        message = message.replace("T ", "P ")
        with pytest.raises(ValueError, match=message):
            fugw_loss(
                batch["T"], first.C, second.C, first.p, second.p, D=batch["D"], alpha=batch["alpha"]
            )
    else:
        with pytest.raises(ValueError, match=message):
            function(first.C, second.C, batch["T"], batch["D"], batch["alpha"])


def test_losses_reject_negative_plans_but_operators_take_any_sign(random_pairs):
    first = pad_graphs([a for a, _ in random_pairs[:2]])
    second = pad_graphs([b for _, b in random_pairs[:2]])
    direction = torch.randn(2, first.C.shape[1], second.C.shape[1], dtype=torch.float64)
    with pytest.raises(ValueError, match="T has negative entries"):
        fgw_loss(first.C, second.C, direction)
    with pytest.raises(ValueError, match="P has negative entries"):
        fugw_loss(direction, first.C, second.C, first.p, second.p)
    with pytest.raises(ValueError, match="rho must be nonnegative"):
        fugw_loss(direction.abs(), first.C, second.C, first.p, second.p, rho=-1.0)
    # Linear in T: L (x) (-T) = -(L (x) T), so a signed direction is a valid argument.
    product = gw_tensor_product(first.C, second.C, direction)
    torch.testing.assert_close(gw_tensor_product(first.C, second.C, -direction), -product)
    torch.testing.assert_close(fgw_gradient(first.C, second.C, -direction), -2.0 * product)


def test_feature_cost_is_the_squared_distance_and_checks_shapes():
    rng = np.random.RandomState(0)
    F1, F2 = torch.tensor(rng.randn(2, 4, 3)), torch.tensor(rng.randn(2, 5, 3))
    expected = ((F1[:, :, None, :] - F2[:, None, :, :]) ** 2).sum(-1)
    torch.testing.assert_close(feature_cost(F1, F2), expected)
    with pytest.raises(
        ValueError, match=r"shapes \(B, n, d\) and \(B, m, d\), got \(2, 4, 3\) and"
    ):
        feature_cost(F1, F2[..., :2])
    with pytest.raises(ValueError, match="F1 and F2 must have shapes"):
        feature_cost(F1[0], F2[0])
    with pytest.raises(TypeError, match="F2 has dtype torch.float32, F1 torch.float64"):
        feature_cost(F1, F2.float())
    F2[1, 0, 0] = np.inf
    with pytest.raises(ValueError, match="F2 has non-finite entries"):
        feature_cost(F1, F2)


@pytest.mark.parametrize("init", ["product", "perturbed_product", "profile"])
def test_initial_plan_lies_on_the_marginals(random_pairs, init):
    first = pad_graphs([a for a, _ in random_pairs[:3]])
    second = pad_graphs([b for _, b in random_pairs[:3]])
    D = feature_cost(first.F, second.F)
    # epsilon 0.1: the profile's entropic problem converges within its 1000 Sinkhorn updates.
    T0 = initial_plan(first.C, second.C, first.p, second.p, D=D, alpha=0.5, init=init, epsilon=0.1)
    tolerance = {"rtol": 1e-3, "atol": 0} if init == "perturbed_product" else {}
    torch.testing.assert_close(T0.sum(2), first.p, **tolerance)
    torch.testing.assert_close(T0.sum(1), second.p, **tolerance)
    product = first.p[:, :, None] * second.p[:, None, :]
    if init == "product":
        torch.testing.assert_close(T0, product)
    if init == "perturbed_product":
        ratio = T0[product > 0] / product[product > 0]
        assert 0.999 <= ratio.min() < ratio.max() <= 1.001
        assert torch.all(T0[product == 0] == 0)


def _path_and_cycle():
    path = np.eye(5, k=1) + np.eye(5, k=-1)
    cycle = np.roll(np.eye(6), 1, axis=1)
    return [path, cycle + cycle.T]


@pytest.mark.parametrize(
    "solver, settings",
    [(fgw_plan_ppa, {"max_iter": 50}), (fgw_plan_badmm, {"max_iter": 200, "tol": 1e-6})],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_perturbed_start_matches_symmetric_graphs_to_themselves(solver, settings, dtype):
    # Both solvers commute with the automorphisms of the graphs: from the product plan the plans
    # stay symmetric and a path or a cycle is not matched to itself; the perturbation breaks it.
    for structure in _path_and_cycle():
        n = len(structure)
        C = torch.tensor(structure, dtype=dtype)[None]
        p = torch.full((1, n), 1.0 / n, dtype=dtype)
        losses = {
            init: fgw_loss(C, C, solver(C, C, p, p, init=init, **settings)).item()
            for init in ["product", "profile", "perturbed_product"]
        }
        assert losses["product"] > 0.15 and losses["profile"] > 0.15
        assert losses["perturbed_product"] < 1e-6


def test_perturbed_start_does_not_depend_on_padding_or_batch(random_pairs):
    a, b = random_pairs[0]
    alone = fgw_plan_ppa(*_tensors(a.C, b.C, a.p, b.p), init="perturbed_product")[0]
    big = pad_graphs([random_pairs[1][0], a], n_max=45)
    other = pad_graphs([random_pairs[1][1], b], n_max=43)
    batched = fgw_plan_ppa(big.C, other.C, big.p, other.p, init="perturbed_product")[1]
    torch.testing.assert_close(batched[: a.n_nodes, : b.n_nodes], alone, rtol=0, atol=1e-12)
    product = fgw_plan_ppa(*_tensors(a.C, b.C, a.p, b.p))[0]
    assert not torch.allclose(alone, product, rtol=0, atol=1e-9)


BAD_START_INPUTS = [
    ("masses", {"q": lambda q: 2 * q}, "Problem 0: p sums to 1 and q to 2"),
    ("weights shape", {"p": lambda p: p[:, :-1]}, "p must have shape"),
    ("alpha", {"alpha": 2.0}, r"alpha must be in \[0, 1\]"),
    ("epsilon", {"epsilon": 0.0}, "epsilon must be positive"),
    ("quantiles", {"n_quantiles": 0}, "n_quantiles must be a positive integer"),
    ("init", {"init": "uniform"}, "init must be 'product', 'perturbed_product' or 'profile'"),
]


@pytest.mark.parametrize(
    "changes, message", [c[1:] for c in BAD_START_INPUTS], ids=[c[0] for c in BAD_START_INPUTS]
)
def test_initial_plan_names_malformed_inputs(random_pairs, changes, message):
    first = pad_graphs([a for a, _ in random_pairs[:2]])
    second = pad_graphs([b for _, b in random_pairs[:2]])
    arguments = {"p": first.p, "q": second.p, "init": "profile"}
    for name, change in changes.items():
        arguments[name] = change(arguments[name]) if callable(change) else change
    with pytest.raises(ValueError, match=message):
        initial_plan(first.C, second.C, **arguments)


@pytest.mark.parametrize("sinkhorn_max_iter", [0, -1, None])
def test_ppa_rejects_a_sinkhorn_budget_below_one(random_pairs, sinkhorn_max_iter):
    # Without the check, sinkhorn_max_iter=0 died in torch.log(None).
    first = pad_graphs([random_pairs[0][0]])
    second = pad_graphs([random_pairs[0][1]])
    with pytest.raises(ValueError, match="sinkhorn_max_iter must be an integer >= 1"):
        fgw_plan_ppa(first.C, second.C, first.p, second.p, sinkhorn_max_iter=sinkhorn_max_iter)


@pytest.mark.parametrize("C2", [torch.full((1, 3, 3), 1e-4), torch.zeros(1, 3, 3)])
def test_f7_badmm_float32_large_costs_keep_the_row_marginal(C2):
    # C1^2 / epsilon ~ 1e8: the three entries of the row tie in float32, and x - logsumexp(x)
    # rounded the normalisation away (each got probability 1: a row sum of 3).
    C1 = torch.tensor([[[1097.627]]])
    q = torch.full((1, 3), 1 / 3)
    T = fgw_plan_badmm(C1, C2, torch.ones(1, 1), q, epsilon=0.01)
    assert torch.isfinite(T).all()
    torch.testing.assert_close(T.sum(2), torch.ones(1, 1))


@pytest.mark.parametrize("solver", [fgw_plan_ppa, fgw_plan_badmm, initial_plan])
def test_f8_weights_whose_products_underflow_are_rejected(random_pairs, solver):
    # Subnormal float32 weights: every plan entry p_i q_j underflows, the plans were all NaN.
    first = pad_graphs([random_pairs[0][0]], dtype=torch.float32)
    second = pad_graphs([random_pairs[0][1]], dtype=torch.float32)
    p = first.p * 1e-40 / first.p.sum()
    q = second.p * 1e-40 / second.p.sum()
    with pytest.raises(ValueError, match="below the range of float32 plans"):
        solver(first.C, second.C, p, q)
    # The same weights in float64 are within range and give finite plans in Pi(p, q).
    T = fgw_plan_ppa(first.C.double(), second.C.double(), p.double(), q.double())
    assert torch.isfinite(T).all()
    torch.testing.assert_close(T.sum(2) / p.double(), torch.ones_like(p.double()))
