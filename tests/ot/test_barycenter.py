import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skgw.ot import barycenter_update, fgw_barycenter


def _problem(B=2, K=3, n=5, m=4, d=2, seed=0):
    """Random symmetric atoms and initial barycenters, uniform weights, features."""
    g = torch.Generator().manual_seed(seed)

    def symmetric(*shape):
        A = torch.rand(*shape, generator=g, dtype=torch.float64)
        return A + A.transpose(-1, -2)

    weights = torch.softmax(torch.randn(B, K, generator=g, dtype=torch.float64), dim=1)
    return {
        "weights": weights,
        "U": symmetric(K, m, m),
        "q": torch.full((K, m), 1.0 / m, dtype=torch.float64),
        "C0": symmetric(B, n, n),
        "mu": torch.full((B, n), 1.0 / n, dtype=torch.float64),
        "H": torch.randn(K, m, d, generator=g, dtype=torch.float64),
        "F0": torch.randn(B, n, d, generator=g, dtype=torch.float64),
    }


def _solve(problem):
    problem = dict(problem)
    args = [problem.pop(k) for k in ("weights", "U", "q", "C0", "mu")]
    return fgw_barycenter(*args, **problem)


def test_one_atom_is_its_own_barycenter():
    problem = _problem(B=1, K=1, n=4, m=4)
    problem.update(C0=problem["U"].clone(), weights=torch.ones(1, 1, dtype=torch.float64))
    del problem["H"], problem["F0"]
    # A tolerance below the default's 1e-5 (a change of the loss per step, relative to the
    # product plan's): the plan's off-diagonal mass goes below 1e-6.
    problem["solver_params"] = {"tol": 1e-7}
    C, F, plans = _solve(problem)
    assert F is None and plans.shape == (1, 1, 4, 4)
    # The plan matches nodes with equal rows; the barycenter is the atom, node for node.
    np.testing.assert_allclose(C[0].numpy(), problem["U"][0].numpy(), atol=1e-6)


def test_barycenters_are_differentiable_in_weights_and_atoms():
    problem = _problem()
    problem["weights"].requires_grad_(True)
    problem["U"].requires_grad_(True)
    C, F, plans = _solve(problem)
    assert C.shape == (2, 5, 5) and F.shape == (2, 5, 2) and plans.shape == (2, 3, 5, 4)
    (C.sum() + F.sum()).backward()
    assert problem["weights"].grad.abs().sum() > 0 and problem["U"].grad.abs().sum() > 0


@pytest.mark.parametrize(
    "spoil, error, message",
    [
        (lambda b: b.update(U=b["U"].numpy()), TypeError, "U must be a torch.Tensor"),
        (lambda b: b.update(q=b["q"].float()), TypeError, "q has dtype torch.float32"),
        (lambda b: b.update(weights=b["weights"][0]), ValueError, "must be 2-D, 3-D and 3-D"),
        (lambda b: b.update(q=b["q"][:2]), ValueError, r"q must have shape \(3, 4\)"),
        (lambda b: b.update(mu=b["mu"][:, :4]), ValueError, r"mu must have shape \(2, 5\)"),
        (lambda b: b.update(F0=b["F0"][..., :1]), ValueError, r"F0 must have shape \(2, 5, 2\)"),
        (lambda b: b["C0"].__setitem__((0, 0, 1), np.nan), ValueError, "C0 has non-finite"),
        (lambda b: b["weights"].__setitem__((0, 0), -1.0), ValueError, "weights has negative"),
    ],
)
def test_malformed_inputs_are_named(spoil, error, message):
    problem = _problem()
    spoil(problem)
    with pytest.raises(error, match=message):
        _solve(problem)


@pytest.mark.parametrize(
    "spoil, error, message",
    [
        (lambda b: b.update(plans=b["plans"][0]), ValueError, "must be 2-D, 3-D and 4-D"),
        (lambda b: b.update(plans=b["plans"][:, :2]), ValueError, r"plans must have shape"),
        (lambda b: b.update(mu=b["mu"][:, :4]), ValueError, r"mu must have shape \(2, 5\)"),
        (lambda b: b.update(H=b["H"][:2]), ValueError, r"H must have shape \(3, 4, 2\)"),
        (lambda b: b.update(U=b["U"].float()), TypeError, "U has dtype torch.float32"),
        (lambda b: b["plans"].__setitem__((0, 0, 0, 0), -1.0), ValueError, "plans has negative"),
    ],
)
def test_barycenter_update_names_malformed_inputs(spoil, error, message):
    problem = _problem()
    _, _, plans = _solve(problem)
    update = {k: problem[k] for k in ("weights", "U", "mu", "H")}
    update["plans"] = plans.clone()
    spoil(update)
    with pytest.raises(error, match=message):
        barycenter_update(
            update["weights"], update["U"], update["plans"], update["mu"], update["H"]
        )


def test_log_reports_the_plans_of_the_last_step_and_warns_once():
    problem = _problem()
    C, F, plans, log = _solve({**problem, "return_log": True})
    assert set(log) == {"n_iter", "change", "marginal_error", "converged"}
    assert all(value.shape == (2, 3) for value in log.values())
    assert bool(log["converged"].all()) and float(log["marginal_error"].max()) < 1e-6
    assert int(log["n_iter"].min()) > 0
    with pytest.warns(ConvergenceWarning, match=r"fgw_barycenter: 6 of 6 problems") as record:
        _, _, _, short = _solve({**problem, "solver_params": {"max_iter": 2}, "return_log": True})
    assert len(record) == 1 and not short["converged"].any()
    assert (short["n_iter"] == 2).all()
    # Plans given for the only step are not solved again.
    _, _, given, given_log = _solve(
        {**problem, "max_iter": 1, "first_plans": plans, "return_log": True}
    )
    assert torch.equal(given, plans) and (given_log["n_iter"] == 0).all()
    np.testing.assert_allclose(given_log["marginal_error"], log["marginal_error"])
