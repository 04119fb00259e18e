r"""Batched (fused) Gromov-Wasserstein plans by Bregman ADMM (Xu 2020, Algorithm 2).

References
----------
.. [1] Xu. Gromov-Wasserstein factorization models for graph clustering. AAAI 2020.
.. [2] Wang, Banerjee. Bregman alternating direction method of multipliers. NeurIPS 2014.
"""

import torch

from ._checks import check_iterations, check_positive_finite
from ._sinkhorn import exp, log_normalize, masked_log
from .gw import _as_batch_scalar, _check_solver_inputs, _initial_plan

__all__ = ["fgw_plan_badmm"]


@torch.no_grad()
def fgw_plan_badmm(
    C1,
    C2,
    p,
    q,
    *,
    D=None,
    alpha=1.0,
    epsilon=1.0,
    max_iter=50,
    init="product",
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

    Parameters
    ----------
    C1, C2, p, q, D, alpha, init
        As in :func:`fgw_plan_ppa`.
    epsilon : float, default=1.0
        Weight of the Bregman (KL) proximal terms, the paper's :math:`\gamma` (the updates weigh
        the bilinear form :math:`\langle L \otimes S, T \rangle`, whose gradient has no factor 2,
        so it is not rescaled as :func:`fgw_plan_ppa`'s is).
    max_iter : int, default=50
        Steps.

    Returns
    -------
    T : Tensor of shape (B, n, m)
        Row marginals exactly ``p``; column marginals approach ``q`` as BADMM converges.
    """
    _check_solver_inputs(C1, C2, p, q, D, init, alpha, epsilon)
    check_badmm_params(epsilon=epsilon, max_iter=max_iter)
    return _fgw_plan_badmm(C1, C2, p, q, D=D, alpha=alpha, epsilon=epsilon, max_iter=max_iter,
                           init=init)  # fmt: skip


def check_badmm_params(*, epsilon=1.0, max_iter=50, **_):
    """``ValueError`` unless the settings of :func:`fgw_plan_badmm` are in range."""
    check_positive_finite("epsilon", epsilon)
    check_iterations({"max_iter": max_iter})


@torch.no_grad()
def _fgw_plan_badmm(C1, C2, p, q, *, D=None, alpha=1.0, epsilon=1.0, max_iter=50, init="product"):
    """:func:`fgw_plan_badmm` without the input checks."""
    log_p, log_q = masked_log(p), masked_log(q)
    if not isinstance(init, torch.Tensor):
        init = _initial_plan(C1, C2, p, q, D, alpha, init, epsilon)
    log_T = masked_log(init)
    alpha_b = _as_batch_scalar(1.0 if D is None else alpha, init)
    linear = alpha_b * (((C1 * C1) @ p[:, :, None]) + ((C2 * C2) @ q[:, :, None]).transpose(1, 2))
    if D is not None:
        linear = linear + (1.0 - alpha_b) * D
    Z = torch.zeros_like(init)
    for _ in range(max_iter):
        T = exp(log_T)
        log_phi = log_T + (2.0 * alpha_b * C1.transpose(1, 2) @ T @ C2 + Z) / epsilon
        # Normalise before adding the marginal: log_phi can be large enough (costs far above
        # epsilon) for float32 to round the marginal's log away.
        log_S = log_normalize(log_phi, dim=1) + log_q[:, None, :]
        S = exp(log_S)
        log_phi = log_S - (linear - 2.0 * alpha_b * C1 @ S @ C2.transpose(1, 2) + Z) / epsilon
        log_T = log_normalize(log_phi, dim=2) + log_p[:, :, None]
        Z = Z + epsilon * (exp(log_T) - S)
    return exp(log_T)
