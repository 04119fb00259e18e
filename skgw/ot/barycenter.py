r"""Batched (fused) GW barycenters of shared atoms (Xu 2020, Algorithm 3).

Each of ``B`` problems has its own weights :math:`\lambda_b` over the same ``K`` atoms
:math:`(U_k, H_k, q_k)`. Starting from :math:`B^{(0)}_b` with node weights :math:`\mu_b`, ``L``
alternating steps compute the plans :math:`T_{bk} = \mathrm{GWD}(B^{(l)}_b, U_k)` and the
closed-form update (square loss)

.. math::
    B^{(l+1)}_b = \frac{\sum_k \lambda_{bk} T_{bk} U_k T_{bk}^\top}{\mu_b \mu_b^\top}, \qquad
    F^{(l+1)}_b = \frac{\sum_k \lambda_{bk} T_{bk} H_k}{\mu_b}.

Plans are computed without gradient; the returned barycenter is the last closed-form update, so
gradients reach :math:`\lambda`, :math:`U` and :math:`H` with the plans held fixed (envelope
theorem, paper eq. 12-13).
"""

import inspect

import torch

from .._batching import group_by_size
from ._checks import (
    check_iterations,
    check_nonnegative,
    check_positive_finite,
    check_shapes,
    check_tensors,
)
from ._convergence import marginal_error, warn_unconverged
from .badmm import BADMM_DEFAULTS, _fgw_plan_badmm, check_badmm_params, fgw_plan_badmm
from .gw import (
    PPA_DEFAULTS,
    _feature_cost,
    _fgw_plan_ppa,
    _product_plan_loss,
    check_ppa_params,
    feature_cost,
    fgw_plan_ppa,
)

SOLVERS = {"ppa": fgw_plan_ppa, "badmm": fgw_plan_badmm}
SOLVER_DEFAULTS = {"ppa": PPA_DEFAULTS, "badmm": BADMM_DEFAULTS}

__all__ = ["barycenter_update", "check_solver_params", "fgw_barycenter", "solve_plans"]


def barycenter_update(weights, U, plans, mu, H=None):
    r"""Closed-form barycenter given the plans (differentiable in ``weights``, ``U``, ``H``).

    Parameters
    ----------
    weights : Tensor of shape (B, K)
        :math:`\lambda`, rows on the simplex.
    U : Tensor of shape (K, m, m)
        Atom structures, zero-padded.
    plans : Tensor of shape (B, K, n, m)
    mu : Tensor of shape (B, n)
        Barycenter node weights, zero on padding.
    H : Tensor of shape (K, m, d), default=None
        Atom features.

    Returns
    -------
    C : Tensor of shape (B, n, n)
    F : Tensor of shape (B, n, d) or None
    """
    _check_inputs(
        {"weights": weights, "U": U, "plans": plans, "mu": mu, "H": H},
        {"weights": 2, "U": 3, "plans": 4},
        ("weights", "plans", "mu"),
    )
    return _closed_form(weights, U, plans, mu, H)


def _closed_form(weights, U, plans, mu, H):
    """:func:`barycenter_update` without the input checks, for :func:`fgw_barycenter`'s steps."""
    inverse_mu = torch.where(mu > 0, 1.0 / torch.where(mu > 0, mu, 1.0), 0.0)
    transported = plans @ U[None] @ plans.transpose(2, 3)  # (B, K, n, n)
    C = torch.einsum("bk,bkij->bij", weights, transported)
    C = C * inverse_mu[:, :, None] * inverse_mu[:, None, :]
    if H is None:
        return C, None
    F = torch.einsum("bk,bkim->bim", weights, plans @ H[None]) * inverse_mu[:, :, None]
    return C, F


def _expand(x, n_atoms):
    """``(B, ...) -> (B * n_atoms, ...)``, each problem repeated for consecutive atoms."""
    return x.repeat_interleave(n_atoms, dim=0)


def _atom_size_groups(q):
    """Atoms grouped by size (:func:`~skgw._batching.group_by_size`), with each group's width.

    Parameters
    ----------
    q : Tensor of shape (K, m)
        Atom node weights, zero on padding (real nodes first).

    Returns
    -------
    groups : list of (Tensor of int, int)
        Atom indices and the padded width of each group.
    """
    sizes = (q > 0).sum(dim=1).tolist()
    return [
        (torch.tensor(group, device=q.device), max(sizes[k] for k in group))
        for group in group_by_size(sizes)
    ]


def solve_plans(C1, C2, p, q, *, F1=None, F2=None, alpha=0.5, solver="ppa", solver_params=None):
    r"""GWD module: batched FGW plans with the named solver (``"ppa"`` or ``"badmm"``).

    ``solver_params`` are the keyword arguments of :func:`~skgw.ot.fgw_plan_ppa` or
    :func:`~skgw.ot.fgw_plan_badmm`, or, in place of ``epsilon`` (absolute, in POT's units),
    ``relative_epsilon``: each problem then uses ``relative_epsilon`` times the FGW loss of its
    product plan :math:`p q^\top` (the mean cost of a random matching), so that the solver
    behaves alike whatever the units of the structures and features.
    """
    check_solver_params(solver, solver_params)
    D = None if F1 is None else feature_cost(F1, F2)
    solve = fgw_plan_ppa if solver == "ppa" else fgw_plan_badmm
    return solve(C1, C2, p, q, D=D, alpha=alpha, **_absolute(C1, C2, p, q, F1, F2, alpha, D,
                                                             solver_params))  # fmt: skip


def check_solver_params(solver, solver_params):
    """``ValueError`` / ``TypeError`` unless ``solver`` names a solver and ``solver_params`` are
    settings it takes, in range (checked once, before the solvers' loops)."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {sorted(SOLVERS)}, got {solver!r}.")
    params = dict(solver_params or {})
    if "relative_epsilon" in params:
        if "epsilon" in params:
            raise ValueError("Give epsilon (absolute) or relative_epsilon, not both.")
        check_positive_finite("relative_epsilon", params["relative_epsilon"])
        params["epsilon"] = params.pop("relative_epsilon")
    allowed = set(inspect.signature(SOLVERS[solver]).parameters) - {"C1", "C2", "p", "q", "D",
                                                                    "alpha"}  # fmt: skip
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise TypeError(
            f"solver_params of the {solver!r} solver: unknown setting(s) {unknown}; it takes "
            f"{sorted(allowed | {'relative_epsilon'})}."
        )
    (check_ppa_params if solver == "ppa" else check_badmm_params)(**params)


def _absolute(C1, C2, p, q, F1, F2, alpha, D, solver_params):
    """``solver_params`` with ``relative_epsilon`` turned into each problem's ``epsilon``."""
    params = dict(solver_params or {})
    if "relative_epsilon" not in params:
        return params
    scale = _product_plan_loss(C1, C2, p, q, F1, F2, alpha if D is not None else 1.0)
    # A zero scale means equal constant graphs, whose product plan is optimal: any epsilon works.
    scale = torch.where(scale > 0, scale, 1.0)
    params["epsilon"] = params.pop("relative_epsilon") * scale[:, None, None]
    return params


def _solve_plans(C1, C2, p, q, *, F1=None, F2=None, alpha=0.5, solver="ppa", solver_params=None):
    """:func:`solve_plans` without the input checks and the solvers' warnings, for the loops of
    the barycenters and the estimators: ``(T, log)``."""
    D = None if F1 is None else _feature_cost(F1, F2)
    solve = _fgw_plan_ppa if solver == "ppa" else _fgw_plan_badmm
    return solve(C1, C2, p, q, D=D, alpha=alpha, **_absolute(C1, C2, p, q, F1, F2, alpha, D,
                                                             solver_params))  # fmt: skip


def _check_inputs(named, leading, nonnegative):
    """Errors naming the argument unless ``named`` (name -> tensor; None skipped) are inputs of
    :func:`fgw_barycenter` or :func:`barycenter_update`.

    ``leading`` maps the three tensors that set the sizes to their number of dimensions: the
    weights ``(B, K)``, the atoms ``U`` ``(K, m, m)`` and a barycenter-side tensor with ``n`` in
    its second-to-last dimension. ``nonnegative``: the names of the weights and plans.
    """
    named = {k: v for k, v in named.items() if v is not None}
    check_tensors(named)
    names = ", ".join(list(leading)[:-1]) + " and " + list(leading)[-1]
    if any(named[k].ndim != ndim for k, ndim in leading.items()):
        dims = [f"{ndim}-D" for ndim in leading.values()]
        shapes = {k: tuple(named[k].shape) for k in leading}
        raise ValueError(
            f"{names} must be {', '.join(dims[:-1])} and {dims[-1]}, got shapes {shapes}."
        )
    weights, U, last = (named[k] for k in leading)
    (B, K), m, n = weights.shape, U.shape[1], last.shape[-2]
    d = named["H"].shape[-1] if "H" in named else 0
    expected = {
        "weights": (B, K),
        "U": (K, m, m),
        "q": (K, m),
        "C0": (B, n, n),
        "mu": (B, n),
        "plans": (B, K, n, m),
        "H": (K, m, d),
        "F0": (B, n, d),
    }
    check_shapes(named, expected, f"B, K, n, m = {B}, {K}, {n}, {m} from {names}")
    check_nonnegative(named, nonnegative)


def fgw_barycenter(
    weights,
    U,
    q,
    C0,
    mu,
    *,
    H=None,
    F0=None,
    alpha=0.5,
    max_iter=2,
    solver="ppa",
    solver_params=None,
    first_plans=None,
    return_log=False,
):
    r"""``B`` barycenters of the ``K`` atoms at once (Algorithm 3), differentiable by envelope.

    Parameters
    ----------
    weights : Tensor of shape (B, K)
        Barycentric weights :math:`\lambda` (rows on the simplex).
    U : Tensor of shape (K, m, m)
        Atom structures, zero-padded.
    q : Tensor of shape (K, m)
        Atom node weights, zero on padding.
    C0 : Tensor of shape (B, n, n)
        Initial barycenters :math:`B^{(0)}` (GWF: the observed graphs).
    mu : Tensor of shape (B, n)
        Barycenter node weights, zero on padding.
    H : Tensor of shape (K, m, d), default=None
        Atom features (fused GW); None for plain GW.
    F0 : Tensor of shape (B, n, d), default=None
        Initial barycenter features, required with ``H``.
    alpha : float, default=0.5
        FGW trade-off (weight of the structure term).
    max_iter : int, default=2
        Barycenter steps ``L`` (at least 1).
    solver : {"ppa", "badmm"}, default="ppa"
    solver_params : dict, default=None
        Settings of the plans' solver, as in :func:`solve_plans`.
    first_plans : Tensor of shape (B, K, n, m), default=None
        The plans of the first step, :math:`\mathrm{GWD}(B^{(0)}, U_k)`, when already known:
        they do not depend on the weights, so callers that re-solve with the same atoms and
        initial barycenters (GWF's ``transform``) compute them once.
    return_log : bool, default=False
        Also return the solver's log of the returned plans (:mod:`skgw.ot._convergence`), each
        entry of shape ``(B, K)``: one per barycenter and atom. Plans given as
        ``first_plans`` and not solved again (``max_iter=1``) count 0 steps, converged.

    Returns
    -------
    C : Tensor of shape (B, n, n)
        Barycenter structures :math:`B^{(L)}`, with gradient.
    F : Tensor of shape (B, n, d) or None
        Barycenter features, with gradient.
    plans : Tensor of shape (B, K, n, m)
        The plans :math:`T^{(L)}_{bk}` (no gradient).
    log : dict of Tensor of shape (B, K)
        Only with ``return_log``.

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        Once per call, if some plan of the last step did not converge (see the solver's
        ``tol``).
    """
    check_iterations({"max_iter": max_iter}, minimum=1)
    check_solver_params(solver, solver_params)
    if (H is None) != (F0 is None):
        raise ValueError("H and F0 must be given together (fused barycenter) or both omitted.")
    _check_inputs(
        {"weights": weights, "U": U, "q": q, "C0": C0, "mu": mu, "H": H, "F0": F0},
        {"weights": 2, "U": 3, "C0": 3},
        ("weights", "q", "mu"),
    )
    C, F, plans, log = _fgw_barycenter(
        weights, U, q, C0, mu, H=H, F0=F0, alpha=alpha, max_iter=max_iter, solver=solver,
        solver_params=solver_params, first_plans=first_plans,
    )  # fmt: skip
    settings = {**SOLVER_DEFAULTS[solver], **(solver_params or {})}
    warn_unconverged(
        log, "fgw_barycenter", settings["max_iter"], settings["tol"],
        "raise solver_params['max_iter'].",
    )  # fmt: skip
    return (C, F, plans, log) if return_log else (C, F, plans)


def _fgw_barycenter(
    weights, U, q, C0, mu, *, H=None, F0=None, alpha=0.5, max_iter=2, solver="ppa",
    solver_params=None, first_plans=None,
):  # fmt: skip
    """:func:`fgw_barycenter` without the input checks and the warning, for the estimators'
    loops: ``(C, F, plans, log)``."""
    n_problems, n_atoms = weights.shape
    n, m = C0.shape[1], U.shape[1]

    groups = _atom_size_groups(q)
    C, F = C0, F0
    detached_weights = weights.detach()
    for step in range(max_iter):
        if step == 0 and first_plans is not None:
            plans, groups_to_solve = first_plans, []
            log = _given_plans_log(plans, mu, q)
        else:
            plans = torch.zeros(n_problems, n_atoms, n, m, dtype=C0.dtype, device=C0.device)
            groups_to_solve, log = groups, {}
        for atoms, width in groups_to_solve:
            # All (problem, atom) pairs of one atom-size group in one batched solve.
            U_g, q_g = U.detach()[atoms, :width, :width], q[atoms, :width]
            H_g = None if H is None else H.detach()[atoms, :width]
            with torch.no_grad():
                T, group_log = _solve_plans(
                    _expand(C.detach(), len(atoms)),
                    U_g.repeat(n_problems, 1, 1),
                    _expand(mu, len(atoms)),
                    q_g.repeat(n_problems, 1),
                    F1=None if F is None else _expand(F.detach(), len(atoms)),
                    F2=None if H_g is None else H_g.repeat(n_problems, 1, 1),
                    alpha=alpha,
                    solver=solver,
                    solver_params=solver_params,
                )
            plans[:, atoms, :, :width] = T.reshape(n_problems, len(atoms), n, width)
            for key, value in group_log.items():
                log.setdefault(key, value.new_zeros(n_problems, n_atoms))
                log[key][:, atoms] = value.reshape(n_problems, len(atoms))
        last = step == max_iter - 1
        # The inputs were checked on entry; the plans come from the solvers.
        C, F = _closed_form(
            weights if last else detached_weights,
            U if last else U.detach(),
            plans,
            mu,
            None if H is None else (H if last else H.detach()),
        )
    return C, F, plans, log


def _given_plans_log(plans, mu, q):
    """The log of plans given, not solved: 0 steps, converged, their marginal error."""
    n_problems, n_atoms, n, m = plans.shape
    error = marginal_error(
        plans.reshape(-1, n, m), _expand(mu, n_atoms), q[:, :m].repeat(n_problems, 1)
    ).reshape(n_problems, n_atoms)
    return {
        "n_iter": torch.zeros_like(error, dtype=torch.long),
        "change": torch.zeros_like(error),
        "marginal_error": error,
        "converged": torch.ones_like(error, dtype=torch.bool),
    }
