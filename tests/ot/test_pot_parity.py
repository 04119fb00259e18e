"""skgw's solvers at their defaults on the inputs of POT's own tests, against POT's values.

POT's tests (``test/gromov/test_gw.py``, ``test/gromov/test_fugw.py``) check POT's solvers on
mirrored, asymmetric and fused cases whose optima are known; :mod:`tests.ot.pot_cases` restates
those inputs and computes POT's values. Each solver here runs with no setting changed.
"""

import warnings

import numpy as np
import ot
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skgw.ot import fgw_loss, fgw_plan_badmm, fgw_plan_ppa, fugw_loss, fugw_plan

from .pot_cases import (
    BALANCED_CASES,
    as_torch,
    classif_case,
    pot_fugw_plan,
    pot_value,
    rho_limit_case,
    sanity_case,
    thual_parameters,
    unbalanced_ot_case,
)

# The balanced cases' tolerances: absolute on the loss, relative on the marginals.
LOSS_ATOL = {torch.float64: 1e-4, torch.float32: 1e-4}
MARGINAL_RTOL = {torch.float64: 1e-6, torch.float32: 1e-4}


def _solve(solver, case, dtype, **settings):
    C1, C2, p, q, D, alpha = as_torch(case, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the defaults converge here
        T, log = solver(C1, C2, p, q, D=D, alpha=alpha, return_log=True, **settings)
    return T, log, fgw_loss(C1, C2, T, D=D, alpha=alpha).item(), p, q


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("solver", [fgw_plan_ppa, fgw_plan_badmm])
@pytest.mark.parametrize("name", list(BALANCED_CASES))
def test_balanced_solvers_reach_pots_loss_on_its_test_cases(name, solver, dtype):
    case = BALANCED_CASES[name]()
    T, log, loss, p, q = _solve(solver, case, dtype)
    assert loss == pytest.approx(pot_value(case), abs=LOSS_ATOL[dtype])
    assert bool(log["converged"].all())
    for marginal, weights in ((T.sum(2), p), (T.sum(1), q)):
        assert (marginal - weights).abs().sum().item() <= MARGINAL_RTOL[dtype] * weights.sum()
    assert log["marginal_error"].item() <= 2 * MARGINAL_RTOL[dtype]


@pytest.mark.parametrize("epsilon, rtol", [(None, 0.005), (0.003, 0.02)])
def test_ppa_on_optimal_transport_reaches_emd(epsilon, rtol):
    # alpha = 0 is a linear, convex problem: no local optimum to blame.
    case = classif_case(0.0)
    settings = {} if epsilon is None else {"epsilon": epsilon}
    _, _, loss, *_ = _solve(fgw_plan_ppa, case, torch.float64, **settings)
    assert loss == pytest.approx(ot.emd2(case["p"], case["q"], case["M"]), rel=rtol)


def _fugw_inputs(case):
    def batch(x):
        return torch.as_tensor(np.ascontiguousarray(x))[None]

    arrays = [batch(case[k]) for k in ("C1", "C2", "p", "q")]
    return arrays, (batch(case["M"]) if "M" in case else None)


@pytest.mark.parametrize("name", ["sanity", "rho_10", "rho_100", "rho_1000"])
def test_fugw_reaches_pots_converged_loss(name):
    case = sanity_case() if name == "sanity" else rho_limit_case(float(name.split("_")[1]))
    alpha, rho = thual_parameters(case)
    arrays, D = _fugw_inputs(case)
    problem = dict(D=D, alpha=alpha, rho=rho)
    reference = fugw_loss(torch.as_tensor(pot_fugw_plan(case))[None], *arrays, **problem).item()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        P, log = fugw_plan(*arrays, **problem, return_log=True)
    # POT's optima here are ~0: 1 % of the value, or 1e-5 of the product plan's loss.
    unit = fugw_loss(arrays[2][:, :, None] * arrays[3][:, None, :], *arrays, **problem).item()
    assert fugw_loss(P, *arrays, **problem).item() <= 1.01 * reference + 1e-5 * unit
    assert bool(log["converged"].all())


@pytest.mark.parametrize("rho", [10.0, 1000.0, 1e4])
def test_unbalanced_transport_tends_to_emd_as_rho_grows(rho):
    case = unbalanced_ot_case(rho)
    arrays, D = _fugw_inputs(case)
    P = fugw_plan(*arrays, D=D, alpha=0.0, rho=rho)
    loss = fugw_loss(P, *arrays, D=D, alpha=0.0, rho=rho).item()
    emd = ot.emd2(case["p"], case["q"], case["M"])
    reference = ot.unbalanced.lbfgsb_unbalanced(
        case["p"], case["q"], case["M"], reg=0, reg_m=rho, reg_div="kl", regm_div="kl"
    )
    pot = fugw_loss(torch.as_tensor(reference)[None], *arrays, D=D, alpha=0.0, rho=rho).item()
    # The balanced plan is feasible with no marginal penalty: the optimum is at most emd2's.
    assert loss <= 1.01 * min(pot, emd)
    if rho >= 1000:
        assert loss == pytest.approx(emd, rel=0.01)


def test_fugw_does_not_report_convergence_while_the_loss_falls():
    # At large rho the MM inner solver moves the plan by ~cost / rho per step: a plan-change
    # test stopped it after one step. The loss test runs on, and says when the budget ran out.
    case = sanity_case()
    alpha, rho = thual_parameters(case)
    arrays, D = _fugw_inputs(case)
    problem = dict(D=D, alpha=alpha, rho=rho)
    with pytest.warns(ConvergenceWarning, match="fugw_plan: 1 of 1 problems did not converge"):
        P, log = fugw_plan(*arrays, **problem, inner="mm", max_iter=20, return_log=True)
    assert not log["converged"].item() and log["n_iter"].item() == 20
    longer = fugw_plan(*arrays, **problem, inner="mm", max_iter=40, tol=0)
    assert fugw_loss(longer, *arrays, **problem) < fugw_loss(P, *arrays, **problem)
