r"""Batched fused unbalanced Gromov-Wasserstein (FUGW, Thual et al. 2022): loss and solver.

For a plan :math:`P \ge 0` of any mass, with marginals :math:`P_{\#1} = P 1`,
:math:`P_{\#2} = P^\top 1` and :math:`m(\cdot)` the total mass,

.. math::
    \mathcal{L}(P) = (1 - \alpha) \langle D, P \rangle
        + \alpha \sum_{ijkl} (C^s_{ik} - C^t_{jl})^2 P_{ij} P_{kl}
        + \rho \,[\mathrm{KL}(P_{\#1} \otimes P_{\#1} | w_s \otimes w_s)
                  + \mathrm{KL}(P_{\#2} \otimes P_{\#2} | w_t \otimes w_t)]
        + \varepsilon\, \mathrm{KL}(P \otimes P | (w_s \otimes w_t) \otimes (w_s \otimes w_t))

with :math:`\mathrm{KL}(a|b) = \sum a \log(a/b) - \sum a + \sum b` and the closed form
:math:`\mathrm{KL}(\mu \otimes \mu | \nu \otimes \nu) = 2 m(\mu) \mathrm{KL}(\mu|\nu)
+ (m(\mu) - m(\nu))^2`.

Relation to POT: ``ot.gromov.fused_unbalanced_gromov_wasserstein`` weighs the GW term by 1 and the
feature term by its ``alpha``. With :math:`\alpha \in (0, 1]` here (Thual et al.'s convention,
that of the ``fugw`` package), POT's parameters are ``alpha = (1 - alpha) / alpha``,
``reg_marginals = rho / alpha`` and ``epsilon = epsilon / alpha``, and
:math:`\mathcal{L} = \alpha \times` POT's ``fugw_cost`` (:func:`to_pot_parameters`).

References
----------
.. [1] Thual, Tran, Zemskova, Courty, Flamary, Dehaene, Thirion. Aligning individual brains with
   fused unbalanced Gromov-Wasserstein. NeurIPS 2022.
.. [2] Séjourné, Vialard, Peyré. The unbalanced Gromov-Wasserstein distance: conic formulation
   and relaxation. NeurIPS 2021 (the bi-convex lower bound).
.. [3] Chapel, Flamary, Wu, Févotte, Gasso. Unbalanced optimal transport through non-negative
   penalized linear regression. NeurIPS 2021 (the MM inner solver).
"""

import torch

from ._checks import (
    check_batch,
    check_in_unit_interval,
    check_iterations,
    check_nonnegative,
    check_per_problem,
    check_plan_range,
    check_plan_support,
    check_positive_finite,
    check_tensors,
)
from ._convergence import solver_log, warn_unconverged
from ._sinkhorn import exp, masked_log, safe_logsumexp
from .gw import square_loss_product

__all__ = ["fugw_loss", "fugw_plan", "kl_divergence", "to_pot_parameters"]


def kl_divergence(a, b, dims):
    r""":math:`\mathrm{KL}(a|b) = \sum a \log(a / b) - \sum a + \sum b` over ``dims``.

    Entries where ``a = 0`` contribute ``b`` (with a zero gradient in ``a``, so that padded
    entries never produce NaN gradients); entries with ``b = 0`` must have ``a = 0`` (padding).

    Parameters
    ----------
    a, b : Tensor
        Nonnegative measures of one shape, dtype and device.
    dims : int or tuple of int
        The dimensions summed over.

    Returns
    -------
    kl : Tensor
        The other dimensions of ``a``; differentiable in ``a`` and ``b``.
    """
    check_tensors({"a": a, "b": b})
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one shape, got {tuple(a.shape)} and {tuple(b.shape)}.")
    check_nonnegative({"a": a, "b": b}, ("a", "b"))
    if ((b == 0) & (a > 0)).any():
        raise ValueError("a has mass where b is 0: the divergence is infinite.")
    return _kl_divergence(a, b, dims)


def _kl_divergence(a, b, dims):
    """:func:`kl_divergence` without the input checks, for the losses and solvers."""
    positive = a > 0
    safe_a = torch.where(positive, a, torch.ones_like(a))
    safe_b = torch.where(b > 0, b, torch.ones_like(b))
    log_ratio = torch.where(positive, a * (torch.log(safe_a) - torch.log(safe_b)), 0.0)
    return (log_ratio - a + b).sum(dim=dims)


def _product_kl(mu, nu, dims):
    r""":math:`\mathrm{KL}(\mu \otimes \mu | \nu \otimes \nu)` in closed form."""
    mass_mu, mass_nu = mu.sum(dim=dims), nu.sum(dim=dims)
    return 2.0 * mass_mu * _kl_divergence(mu, nu, dims) + (mass_mu - mass_nu) ** 2


def fugw_loss(P, Cs, Ct, ws, wt, *, D=None, alpha=0.5, rho=1.0, epsilon=0.0):
    r"""FUGW loss of the plans, one value per problem (Thual convention, module docstring).

    Differentiable in every argument, ``alpha`` and ``rho`` included.

    Parameters
    ----------
    P : Tensor of shape (B, n, m)
        Nonnegative plans, zero on padding: mass on a node of zero weight in ``ws`` or ``wt``
        (where the marginal penalty is infinite) is a ``ValueError``.
    Cs : Tensor of shape (B, n, n)
    Ct : Tensor of shape (B, m, m)
    ws : Tensor of shape (B, n)
    wt : Tensor of shape (B, m)
        Node weights, zero on padding.
    D : Tensor of shape (B, n, m), default=None
        Feature cost; None drops the feature term.
    alpha : float or Tensor of shape (B,), default=0.5
    rho : float or Tensor of shape (B,), default=1.0
    epsilon : float or Tensor of shape (B,), default=0.0

    Returns
    -------
    loss : Tensor of shape (B,)
    """
    check_batch(Cs, Ct, ws, wt, D=D, plans=P, names=("Cs", "Ct", "ws", "wt", "D", "P"))
    check_per_problem({"alpha": alpha, "rho": rho, "epsilon": epsilon}, P.shape[0])
    check_in_unit_interval("alpha", alpha)
    check_positive_finite("rho", rho, allow_zero=True)
    check_positive_finite("epsilon", epsilon, allow_zero=True)
    check_plan_support(P, ws, wt, names=("P", "ws", "wt"))
    return _fugw_loss(P, Cs, Ct, ws, wt, D, alpha, rho, epsilon)


def _fugw_loss(P, Cs, Ct, ws, wt, D, alpha, rho, epsilon):
    """:func:`fugw_loss` without the input checks, for the solver's stopping test."""
    alpha = torch.as_tensor(alpha, dtype=P.dtype, device=P.device)
    rho = torch.as_tensor(rho, dtype=P.dtype, device=P.device)
    epsilon = torch.as_tensor(epsilon, dtype=P.dtype, device=P.device)
    loss = alpha * (square_loss_product(Cs, Ct, P) * P).sum(dim=(1, 2))
    if D is not None:
        loss = loss + (1.0 - alpha) * (D * P).sum(dim=(1, 2))
    marginals = rho * (_product_kl(P.sum(2), ws, 1) + _product_kl(P.sum(1), wt, 1))
    loss = loss + marginals
    if torch.any(epsilon != 0):
        reference = ws[:, :, None] * wt[:, None, :]
        loss = loss + epsilon * _product_kl(P, reference, (1, 2))
    return loss


def to_pot_parameters(alpha, rho, epsilon=0.0):
    """Thual's ``(alpha, rho, epsilon)`` -> POT's ``(alpha, reg_marginals, epsilon)``,
    ``alpha > 0``.

    POT's ``fugw_cost`` times ``alpha`` is :func:`fugw_loss`.
    """
    if not alpha > 0:
        raise ValueError("POT's convention has no equivalent of alpha = 0 (no GW term).")
    if not alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}.")
    if not rho > 0:
        raise ValueError(f"rho must be positive, got {rho!r}.")
    if not epsilon >= 0:
        raise ValueError(f"epsilon must be nonnegative, got {epsilon!r}.")
    return (1.0 - alpha) / alpha, rho / alpha, epsilon / alpha


def _bcd_cost(Q, Cs, Ct, ws, wt, D, alpha, rho, epsilon):
    r"""Linear cost and KL weights of :math:`P \mapsto \mathcal{L}(P, Q)`, the lower bound.

    .. math::
        \mathcal{L}(P, Q) = \tfrac{1 - \alpha}{2} (\langle D, P\rangle + \langle D, Q\rangle)
        + \alpha \langle L \otimes Q, P \rangle
        + \rho\, \mathrm{KL}(P_{\#1} \otimes Q_{\#1} | w_s \otimes w_s) + \dots

    and :math:`\mathrm{KL}(a \otimes b | c \otimes c) = m(b) \mathrm{KL}(a|c) + m(a)
    \mathrm{KL}(b|c) + (m(a) - m(c))(m(b) - m(c))`, so that in :math:`P` it is a KL-penalised
    unbalanced OT problem with weights :math:`\rho\, m(Q)` and a cost shifted by constants.
    """
    mass = Q.sum(dim=(1, 2))
    cost = alpha[:, None, None] * square_loss_product(Cs, Ct, Q)
    if D is not None:
        cost = cost + 0.5 * (1.0 - alpha)[:, None, None] * D
    shift = rho * (
        _kl_divergence(Q.sum(2), ws, 1)
        + _kl_divergence(Q.sum(1), wt, 1)
        + 2.0 * mass
        - ws.sum(1)
        - wt.sum(1)
    )
    reference = ws[:, :, None] * wt[:, None, :]
    shift = shift + epsilon * (_kl_divergence(Q, reference, (1, 2)) + mass - reference.sum((1, 2)))
    # A plan whose mass vanished is the zero plan, a fixed point: keep the marginal weight
    # positive (rho times a tiny mass underflows to 0 in float32) so that the MM step maps it
    # to zero again instead of dividing by zero.
    tiny = torch.finfo(mass.dtype).tiny
    return cost + shift[:, None, None], (rho * mass).clamp_min(tiny), epsilon * mass


def _finite_log_reference(log_ws, log_wt):
    r""":math:`\log(w_s w_t^\top)`, 0 on padding.

    Padded entries stay at -inf through the plan and the marginal terms; this keeps
    ``0 * -inf`` out of the entropic term.
    """
    log_reference = log_ws[:, :, None] + log_wt[:, None, :]
    return torch.where(torch.isneginf(log_reference), 0.0, log_reference)


def _mm_unbalanced(log_P, cost, log_ws, log_wt, rho, epsilon, n_iter, tol):
    r"""Majorisation-minimisation for KL-penalised unbalanced OT (Chapel et al. 2021), log domain.

    Minimises :math:`\langle c, P\rangle + \rho \mathrm{KL}(P_{\#1}|w_s)
    + \rho \mathrm{KL}(P_{\#2}|w_t) + \varepsilon \mathrm{KL}(P|w_s w_t^\top)` by

    .. math:: P \leftarrow P^{2\rho/s} (w_s/P_{\#1})^{\rho/s} (w_t/P_{\#2})^{\rho/s}
              (w_s w_t^\top)^{\varepsilon/s} e^{-c/s}, \quad s = 2\rho + \varepsilon

    (the exponent of :math:`P` is 1 when :math:`\varepsilon = 0`), for each problem until its plan
    changes by less than ``tol`` (l1, relative to its mass) in a step, at most ``n_iter`` steps.
    Each step moves :math:`\log P` by about :math:`c / 2\rho`: at large :math:`\rho` MM needs
    many steps, where :func:`_ibpp_unbalanced` needs few.
    """
    s = (2.0 * rho + epsilon)[:, None, None]
    r = rho[:, None, None] / s
    e = epsilon[:, None, None] / s
    fixed = -cost / s + e * _finite_log_reference(log_ws, log_wt)
    moving = torch.ones(log_P.shape[0], dtype=torch.bool, device=log_P.device)
    for _ in range(n_iter):
        log_row = safe_logsumexp(log_P, dim=2)[:, :, None]
        log_col = safe_logsumexp(log_P, dim=1)[:, None, :]
        log_P_new = (
            (1.0 - e) * log_P
            + r * (log_ws[:, :, None] - log_row)
            + r * (log_wt[:, None, :] - log_col)
            + fixed
        )
        log_P_new = torch.where(moving[:, None, None], log_P_new, log_P)
        moving = moving & (_relative_change(log_P, log_P_new) > tol)
        log_P = log_P_new
        if not moving.any():
            break
    return log_P


# Unbalanced Sinkhorn sweeps of an IBPP step: until the log-scaling moves less than this (nats)...
IBPP_SWEEP_TOL = 1e-4
# ... or this many sweeps.
IBPP_MAX_SWEEPS = 100


def _ibpp_unbalanced(
    log_P, cost, log_ws, log_wt, rho, epsilon, proximal_weight, n_iter, tol, log_v=None
):  # fmt: skip
    r"""Inexact Bregman proximal point (Xie et al. 2020) for KL-penalised unbalanced OT, log domain.

    Minimises the objective of :func:`_mm_unbalanced` by proximal steps

    .. math:: P_{t+1} = \arg\min_P \langle c, P\rangle + \rho \mathrm{KL}(P_{\#1}|w_s)
              + \rho \mathrm{KL}(P_{\#2}|w_t) + \varepsilon \mathrm{KL}(P|w_s w_t^\top)
              + \beta \mathrm{KL}(P|P_t),

    each an entropic unbalanced OT problem with kernel
    :math:`K = \exp((\varepsilon \log(w_s w_t^\top) + \beta \log P_t - c) / \lambda)`,
    :math:`\lambda = \varepsilon + \beta`, solved by unbalanced Sinkhorn sweeps
    :math:`u = (w_s / K v)^{\tau}`, :math:`v = (w_t / K^\top u)^{\tau}`,
    :math:`\tau = \rho / (\rho + \lambda)`, started from the previous step's :math:`v` (as in
    IPOT; the first step from ``log_v``, the last block update's, zero when None) and run, for
    each problem, until :math:`\log v` moves less than ``IBPP_SWEEP_TOL`` in a sweep (at most
    ``IBPP_MAX_SWEEPS``). The sweeps contract by about :math:`\tau`, so small :math:`\rho`
    needs one or two; as :math:`\rho / \lambda` grows the step approaches balanced transport
    and needs more, and marginals left off by loose sweeps bias the plan. A fixed point has
    :math:`c = \lambda (\log u + \log v) = -\rho \log(P_{\#1}/w_s) - \rho \log(P_{\#2}/w_t)`
    on the support when :math:`\varepsilon = 0`, the optimality condition. Smaller
    :math:`\beta` takes longer steps. A problem stops once its plan changes by less than
    ``tol`` (l1, relative to its mass) in a step, at most ``n_iter`` steps. Returns the plan's
    log and the last :math:`\log v`, shape (B, 1, m).
    """
    lam = (epsilon + proximal_weight)[:, None, None]
    tau = rho[:, None, None] / (rho[:, None, None] + lam)
    e = epsilon[:, None, None] / lam
    fixed = -cost / lam + e * _finite_log_reference(log_ws, log_wt)
    if log_v is None:
        log_v = torch.zeros_like(log_wt)[:, None, :]
    moving = torch.ones(log_P.shape[0], dtype=torch.bool, device=log_P.device)
    for _ in range(n_iter):
        log_K = (1.0 - e) * log_P + fixed
        log_u, log_v = _unbalanced_sweeps(log_K, log_ws, log_wt, tau, log_v)
        log_P_new = torch.where(moving[:, None, None], log_K + log_u + log_v, log_P)
        moving = moving & (_relative_change(log_P, log_P_new) > tol)
        log_P = log_P_new
        if not moving.any():
            break
    return log_P, log_v


def _relative_change(log_P, log_P_new):
    """l1 change between two plans given by their logs, relative to the first's mass: (B,)."""
    P, P_new = exp(log_P), exp(log_P_new)
    mass = P.sum(dim=(1, 2)).clamp_min(torch.finfo(P.dtype).tiny)
    return (P_new - P).abs().sum(dim=(1, 2)) / mass


def _unbalanced_sweeps(log_K, log_ws, log_wt, tau, log_v):
    r"""Unbalanced Sinkhorn sweeps of one IBPP step, from ``log_v``: ``(log_u, log_v)``.

    Each problem stops once its :math:`\log v` moves less than ``IBPP_SWEEP_TOL`` in a sweep
    (at most ``IBPP_MAX_SWEEPS``); the problems that stopped are set aside, so the sweeps cost
    what each problem needs, and a problem's result does not depend on the rest of the batch.
    """
    log_u = torch.zeros_like(log_ws)[:, :, None]
    active = torch.arange(log_K.shape[0], device=log_K.device)
    K, ws, wt, t, u, v = log_K, log_ws, log_wt, tau, log_u, log_v
    for _ in range(IBPP_MAX_SWEEPS):
        u = t * (ws[:, :, None] - safe_logsumexp(K + v, dim=2)[:, :, None])
        v_new = t * (wt[:, None, :] - safe_logsumexp(K + u, dim=1)[:, None, :])
        change = torch.where(torch.isfinite(v_new), v_new - v, 0.0).abs().amax(dim=(1, 2))
        v = v_new
        moving = change > IBPP_SWEEP_TOL
        if moving.all():
            continue
        log_u, log_v = log_u.index_copy(0, active, u), log_v.index_copy(0, active, v)
        active = active[moving]
        if not len(active):
            return log_u, log_v
        K, ws, wt, t, u, v = (x[moving] for x in (K, ws, wt, t, u, v))
    return log_u.index_copy(0, active, u), log_v.index_copy(0, active, v)


# The solver's own defaults, accurate on POT's FUGW test cases (tests/ot/test_pot_parity.py);
# ULOT's solver methods pass the settings they were measured with.
FUGW_DEFAULTS = {
    "max_iter": 200,
    "inner_max_iter": 20,
    "inner": "ibpp",
    "proximal_weight": 0.01,
    "tol": 1e-6,
    "inner_tol": 1e-6,
}


@torch.no_grad()
def fugw_plan(
    Cs,
    Ct,
    ws,
    wt,
    *,
    D=None,
    alpha=0.5,
    rho=1.0,
    epsilon=0.0,
    max_iter=FUGW_DEFAULTS["max_iter"],
    inner_max_iter=FUGW_DEFAULTS["inner_max_iter"],
    inner=FUGW_DEFAULTS["inner"],
    proximal_weight=FUGW_DEFAULTS["proximal_weight"],
    tol=FUGW_DEFAULTS["tol"],
    inner_tol=FUGW_DEFAULTS["inner_tol"],
    init=None,
    return_log=False,
):
    r"""FUGW plans by block-coordinate descent on the bi-convex lower bound, batched.

    Alternates :math:`P \leftarrow \arg\min_P \mathcal{L}(P, Q)` and :math:`Q \leftarrow P`-style
    updates (both blocks see the same problem, so one block is updated per step from the other,
    as in Thual et al. 2022 and POT), each an unbalanced OT problem solved by inexact Bregman
    proximal point steps (:func:`_ibpp_unbalanced`) or MM steps (:func:`_mm_unbalanced`) until
    the plan changes by less than ``inner_tol`` in a step. ``epsilon >= 0``; ``epsilon = 0`` is
    ULOT's setting. The plan mass is rescaled after each step to :math:`\sqrt{m(P) m(Q)}`, as in
    POT. A problem stops once its loss :math:`\mathcal{L}(P)` changes by less than ``tol`` in a
    step, relative to the loss of the product plan :math:`w_s w_t^\top` (the problem's unit).

    Parameters
    ----------
    Cs, Ct, ws, wt, D
        As in :func:`fugw_loss`.
    alpha : float or Tensor of shape (B,), default=0.5
        In [0, 1].
    rho : float or Tensor of shape (B,), default=1.0
        Finite, positive.
    epsilon : float or Tensor of shape (B,), default=0.0
        Finite, nonnegative.
    max_iter : int, default=200
        Block-coordinate steps at most.
    inner_max_iter : int, default=20
        Inner steps per block update at most.
    inner : {"ibpp", "mm"}, default="ibpp"
        Inner unbalanced OT solver: inexact Bregman proximal point (:func:`_ibpp_unbalanced`),
        accurate at every ``rho``, or majorisation-minimisation (:func:`_mm_unbalanced`), whose
        steps shrink as :math:`1 / \rho` (at ``rho = 100`` and beyond it needs thousands).
    proximal_weight : float, default=0.01
        Weight :math:`\beta` of the proximal term of ``inner="ibpp"``, in the units of the
        cost (the structures are normalised to mean 0.1 in ULOT).
    tol : float, default=1e-6
        Change of the loss in one step, relative to the product plan's, below which a problem
        has converged; 0 runs ``max_iter`` steps.
    inner_tol : float, default=1e-6
        Relative l1 change of the plan in one inner step at which the inner solver stops.
    init : Tensor of shape (B, n, m), default=None
        Warm start (for instance a ULOT prediction); :math:`w_s w_t^\top` when None.
    return_log : bool, default=False
        Also return the per-problem log of :mod:`skgw.ot._convergence` (block steps, last
        relative loss change, convergence; the marginals are penalised, not constrained, so
        ``"marginal_error"`` is 0).

    Returns
    -------
    P : Tensor of shape (B, n, m)
    log : dict of Tensor of shape (B,)
        Only with ``return_log``.

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        Once per call, if some problem's loss still changed by more than ``tol`` at
        ``max_iter``.
    """
    settings = {
        "max_iter": max_iter, "inner_max_iter": inner_max_iter, "inner": inner,
        "proximal_weight": proximal_weight, "tol": tol, "inner_tol": inner_tol,
    }  # fmt: skip
    P, log = _checked_fugw_plan(Cs, Ct, ws, wt, D, init, alpha=alpha, rho=rho, epsilon=epsilon,
                                **settings)  # fmt: skip
    warn_fugw_unconverged(log, "fugw_plan", settings)
    return (P, log) if return_log else P


def _checked_fugw_plan(
    Cs, Ct, ws, wt, D, init, *, alpha, rho, epsilon=0.0, max_iter, inner_max_iter, inner,
    proximal_weight, tol, inner_tol,
):  # fmt: skip
    """:func:`fugw_plan` without the warning, ``(P, log)``: for callers that solve in several
    batches and warn once (:func:`warn_fugw_unconverged`)."""
    check_batch(Cs, Ct, ws, wt, D=D, plans=init, names=("Cs", "Ct", "ws", "wt", "D", "init"))
    check_plan_range(ws, wt, names=("ws", "wt"))
    trade_offs = {"alpha": alpha, "rho": rho, "epsilon": epsilon}
    check_per_problem({**trade_offs, "proximal_weight": proximal_weight}, Cs.shape[0])
    check_in_unit_interval("alpha", alpha)
    check_positive_finite("rho", rho)
    check_positive_finite("epsilon", epsilon, allow_zero=True)
    check_positive_finite("proximal_weight", proximal_weight)
    check_positive_finite("tol", tol, allow_zero=True)
    check_positive_finite("inner_tol", inner_tol, allow_zero=True)
    check_iterations({"max_iter": max_iter})
    check_iterations({"inner_max_iter": inner_max_iter}, minimum=1)
    if inner not in ("mm", "ibpp"):
        raise ValueError(f"inner must be 'ibpp' or 'mm', got {inner!r}.")
    return _fugw_plan(
        Cs, Ct, ws, wt, D, init, **trade_offs, max_iter=max_iter, inner_max_iter=inner_max_iter,
        inner=inner, proximal_weight=proximal_weight, tol=tol, inner_tol=inner_tol,
    )  # fmt: skip


def warn_fugw_unconverged(log, caller, settings):
    """The :class:`~sklearn.exceptions.ConvergenceWarning` of :func:`fugw_plan` for ``log``
    (problems solved under ``settings``, FUGW_DEFAULTS' keys), in the name of ``caller``."""
    advice = "raise max_iter" + (", or use inner='ibpp'." if settings["inner"] == "mm" else ".")
    warn_unconverged(log, caller, settings["max_iter"], settings["tol"], advice)


def _fugw_plan(
    Cs, Ct, ws, wt, D, init, *, alpha, rho, epsilon, max_iter, inner_max_iter, inner,
    proximal_weight, tol, inner_tol,
):  # fmt: skip
    """:func:`fugw_plan` without the input checks and the warning: ``(P, log)``."""
    batch = Cs.shape[0]

    def per_problem(value):
        return torch.as_tensor(value, dtype=Cs.dtype, device=Cs.device).expand(batch).clone()

    alpha, rho, epsilon, beta = map(per_problem, (alpha, rho, epsilon, proximal_weight))
    log_ws, log_wt = masked_log(ws), masked_log(wt)
    product = ws[:, :, None] * wt[:, None, :]
    P = product if init is None else init.clone()

    def loss(P):
        return _fugw_loss(P, Cs, Ct, ws, wt, D, alpha, rho, epsilon)

    scale = loss(product)
    # 0 only where the product plan is optimal with zero loss: any unit works.
    scale = torch.where(scale > 0, scale, 1.0)
    current = loss(P)
    n_iter = torch.zeros(batch, dtype=torch.long, device=Cs.device)
    change = torch.full((batch,), torch.inf, dtype=Cs.dtype, device=Cs.device)
    active = torch.ones(batch, dtype=torch.bool, device=Cs.device)
    log_v = None
    for _ in range(max_iter):
        cost, rho_q, epsilon_q = _bcd_cost(P, Cs, Ct, ws, wt, D, alpha, rho, epsilon)
        if inner == "mm":
            log_P = _mm_unbalanced(
                masked_log(P), cost, log_ws, log_wt, rho_q, epsilon_q, inner_max_iter, inner_tol
            )
        else:
            log_P, log_v = _ibpp_unbalanced(
                masked_log(P), cost, log_ws, log_wt, rho_q, epsilon_q, beta, inner_max_iter,
                inner_tol, log_v,
            )  # fmt: skip
        P_new = exp(log_P)
        mass_old, mass_new = P.sum((1, 2)), P_new.sum((1, 2))
        P_new = (
            P_new
            * torch.sqrt(mass_old / mass_new.clamp_min(torch.finfo(P.dtype).tiny))[:, None, None]
        )
        new = loss(P_new)
        change = torch.where(active, (current - new).abs() / scale, change)
        P = torch.where(active[:, None, None], P_new, P)
        current = torch.where(active, new, current)
        n_iter = n_iter + active.long()
        active = active & (change > tol)
        if not active.any():
            break
    return P, solver_log(n_iter, change, tol, None)
