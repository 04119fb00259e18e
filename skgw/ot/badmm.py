r"""Batched (fused) Gromov-Wasserstein plans by Bregman ADMM (Xu 2020, Algorithm 2).

References
----------
.. [1] Xu. Gromov-Wasserstein factorization models for graph clustering. AAAI 2020.
.. [2] Wang, Banerjee. Bregman alternating direction method of multipliers. NeurIPS 2014.
"""

import torch

from ._checks import check_iterations, check_positive_finite
from ._convergence import marginal_error, solver_log, warn_unconverged
from ._sinkhorn import exp, log_normalize, masked_log, round_to_marginals, sinkhorn_projection
from .gw import (
    _PROJECTION_MAX_ITER,
    _as_batch_scalar,
    _check_solver_inputs,
    _initial_plan,
    _loss_unit,
)

__all__ = ["fgw_plan_badmm"]


# The kernel's own defaults, accurate on POT's test cases (tests/ot/test_pot_parity.py).
BADMM_DEFAULTS = {"epsilon": None, "max_iter": 1000, "tol": 1e-6, "init": "product"}
# Steps between two convergence checks (one host synchronisation each).
_CHECK_EVERY = 5


@torch.no_grad()
def fgw_plan_badmm(
    C1,
    C2,
    p,
    q,
    *,
    D=None,
    alpha=1.0,
    epsilon=BADMM_DEFAULTS["epsilon"],
    max_iter=BADMM_DEFAULTS["max_iter"],
    tol=BADMM_DEFAULTS["tol"],
    init=BADMM_DEFAULTS["init"],
    return_log=False,
):
    r"""FGW plans by Bregman ADMM (Xu 2020, Algorithm 2), log-domain, batched.

    With an auxiliary plan :math:`S` (column marginal ``q``), the plan :math:`T` (row marginal
    ``p``) and a dual :math:`Z`, each step is

    .. math::
        S &\propto_{\mathrm{col}} T \odot \exp((2\alpha C_1^\top T C_2 + Z) / \varepsilon) \\
        T &\propto_{\mathrm{row}} S \odot \exp(-(\alpha (C_{st} - 2 C_1 S C_2^\top)
            + (1 - \alpha) D + Z) / \varepsilon) \\
        Z &\leftarrow Z + \varepsilon (T - S)

    with :math:`C_{st} = (C_1^{\odot 2} p) 1^\top + 1 (C_2^{\odot 2} q)^\top`. With ``D=None``
    (``alpha = 1``) it is exactly the paper's Algorithm 2, which also suits directed graphs.

    At a fixed point :math:`T = S` has both marginals; before it, :math:`T` has only ``p``. A
    problem stops once the primal residual :math:`\|T - S\|_1` (relative to the mass) is below
    ``tol``, checked every 5 steps and at the last, and the plans returned are :math:`T`
    projected onto :math:`\Pi(p, q)` (Sinkhorn updates, then exact rounding), so that they are
    feasible, and scored on the problem's marginals, whether or not BADMM converged.

    Parameters
    ----------
    C1, C2, p, q, D, alpha, init
        As in :func:`fgw_plan_ppa`.
    epsilon : float or Tensor of shape (B, 1, 1), default=None
        Weight of the Bregman (KL) proximal terms, the paper's :math:`\gamma` (the updates weigh
        the bilinear form :math:`\langle L \otimes S, T \rangle`, whose gradient has no factor 2,
        so it is not rescaled as :func:`fgw_plan_ppa`'s is). None: each problem's FGW loss of the
        product plan :math:`p q^\top` (the mean cost of a random matching), so that the steps
        do not depend on the units of the structures and features; an absolute weight that
        suits costs of order 1 (0.1 to 1) diverges from the optimum on costs of order 10.
    max_iter : int, default=1000
        Steps at most.
    tol : float, default=1e-6
        Primal residual at which a problem has converged; 0 runs ``max_iter`` steps.
    return_log : bool, default=False
        Also return the per-problem log of :mod:`skgw.ot._convergence` (``"change"`` is the
        last primal residual).

    Returns
    -------
    T : Tensor of shape (B, n, m)
        Plans in :math:`\Pi(p, q)` (to rounding error), zero on padding.
    log : dict of Tensor of shape (B,)
        Only with ``return_log``.

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        Once per call, if some problem's primal residual is above ``tol`` at ``max_iter``.
    """
    _check_solver_inputs(C1, C2, p, q, D, init, alpha, 1.0 if epsilon is None else epsilon)
    check_badmm_params(epsilon=epsilon, max_iter=max_iter, tol=tol)
    T, log = _fgw_plan_badmm(
        C1, C2, p, q, D=D, alpha=alpha, epsilon=epsilon, max_iter=max_iter, tol=tol, init=init
    )
    warn_unconverged(
        log, "fgw_plan_badmm", max_iter, tol, "raise max_iter, or epsilon for smoother steps."
    )
    return (T, log) if return_log else T


def check_badmm_params(**params):
    """``ValueError`` unless the settings of :func:`fgw_plan_badmm` given in ``params`` are in
    range (``init`` is checked where it is used)."""
    params = {**BADMM_DEFAULTS, **params}
    if params["epsilon"] is not None:
        check_positive_finite("epsilon", params["epsilon"])
    check_iterations({"max_iter": params["max_iter"]})
    check_positive_finite("tol", params["tol"], allow_zero=True)


@torch.no_grad()
def _fgw_plan_badmm(
    C1, C2, p, q, *, D=None, alpha=1.0, epsilon=BADMM_DEFAULTS["epsilon"],
    max_iter=BADMM_DEFAULTS["max_iter"], tol=BADMM_DEFAULTS["tol"], init=BADMM_DEFAULTS["init"],
):  # fmt: skip
    """:func:`fgw_plan_badmm` without the input checks and the warning: ``(T, log)``."""
    log_p, log_q = masked_log(p), masked_log(q)
    if epsilon is None:
        epsilon = _loss_unit(C1, C2, p, q, D, alpha)[:, None, None]
    if not isinstance(init, torch.Tensor):
        init = _initial_plan(C1, C2, p, q, D, alpha, init, epsilon)
    log_T = masked_log(init)
    alpha_b = _as_batch_scalar(1.0 if D is None else alpha, init)
    linear = alpha_b * (((C1 * C1) @ p[:, :, None]) + ((C2 * C2) @ q[:, :, None]).transpose(1, 2))
    if D is not None:
        linear = linear + (1.0 - alpha_b) * D
    batch = C1.shape[0]
    mass = p.sum(dim=1)
    n_iter = torch.zeros(batch, dtype=torch.long, device=C1.device)
    residual = torch.full((batch,), torch.inf, dtype=C1.dtype, device=C1.device)
    # Converged problems keep their state (so that no result depends on the rest of the batch).
    moving = torch.ones(batch, dtype=torch.bool, device=C1.device)
    Z = torch.zeros_like(init)
    for iteration in range(max_iter):
        T = exp(log_T)
        log_phi = log_T + (2.0 * alpha_b * C1.transpose(1, 2) @ T @ C2 + Z) / epsilon
        # Normalise before adding the marginal: log_phi can be large enough (costs far above
        # epsilon) for float32 to round the marginal's log away.
        log_S = log_normalize(log_phi, dim=1) + log_q[:, None, :]
        S = exp(log_S)
        log_phi = log_S - (linear - 2.0 * alpha_b * C1 @ S @ C2.transpose(1, 2) + Z) / epsilon
        log_T_new = log_normalize(log_phi, dim=2) + log_p[:, :, None]
        difference = exp(log_T_new) - S
        keep = moving[:, None, None]
        log_T = torch.where(keep, log_T_new, log_T)
        Z = torch.where(keep, Z + epsilon * difference, Z)
        last = iteration == max_iter - 1
        if last or (tol > 0 and iteration % _CHECK_EVERY == _CHECK_EVERY - 1):
            step_residual = difference.abs().sum(dim=(1, 2)) / mass
            residual = torch.where(moving, step_residual, residual)
            n_iter = torch.where(moving, iteration + 1, n_iter)
            moving = moving & (step_residual > tol)
            if not moving.any():
                break
    T = sinkhorn_projection(log_T, p, q, max_iter=_PROJECTION_MAX_ITER, tol=1e-9)
    T = round_to_marginals(T, p, q)
    return T, solver_log(n_iter, residual, tol, marginal_error(T, p, q))
