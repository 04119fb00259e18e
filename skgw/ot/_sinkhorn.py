"""Stabilised Sinkhorn scaling and projections onto the transport polytope, in the log domain,
with the masked logs and exponentials they are built of, and the exact rounding of a plan onto
its marginals."""

import math

import torch
import torch.nn.functional as F

__all__ = [
    "exp",
    "log_normalize",
    "masked_log",
    "round_to_marginals",
    "safe_logsumexp",
    "sinkhorn_projection",
    "sinkhorn_scaling",
]


def exp(x):
    """``torch.exp``, with results below ``2 e^20`` times the smallest normal number set to 0.

    Results near or in the subnormal range, and ``exp(-inf)``, take a slow path of the CPU's
    vectorised ``exp`` (5 to 10 times slower). Arguments are raised to ``log(tiny) + 20`` first,
    and what comes out at that floor is set to exactly 0 (``-inf`` gives 0, NaN stays NaN); the
    entries lost are below ``1e-29`` in float32 and ``1e-299`` in float64.
    """
    floor = _exp_floor(x.dtype)
    return F.threshold(torch.exp(x.clamp_min(floor)), 2.0 * math.exp(floor), 0.0)


def _exp_floor(dtype):
    """The argument below which :func:`exp` returns 0: ``log(tiny) + 20``."""
    return math.log(torch.finfo(dtype).tiny) + 20.0


def log_normalize(x, dim):
    r""":math:`x - \log \sum_{\mathrm{dim}} e^x`: log-probabilities along ``dim``.

    The maximum along ``dim`` is subtracted first, exactly, so that the ``logsumexp`` is taken of
    values at most 0; subtracting ``logsumexp(x)`` from ``x`` directly loses the normalisation in
    float32 when ``|x|`` is large (``1e8 + log 3`` rounds to ``1e8``: three tied entries would each
    get probability 1). Slices that are all ``-inf`` (padding) stay ``-inf``.
    """
    x = x - x.amax(dim=dim, keepdim=True).clamp_min(torch.finfo(x.dtype).min)
    return x - safe_logsumexp(x, dim).unsqueeze(dim)


def masked_log(x):
    """``log(x)`` where ``x > 0``, ``-inf`` elsewhere (zero-weight and padded nodes)."""
    return torch.where(x > 0, torch.log(torch.where(x > 0, x, torch.ones_like(x))), -torch.inf)


def safe_logsumexp(x, dim):
    """``logsumexp`` over ``dim`` that returns 0 instead of ``-inf`` on an all ``-inf`` slice.

    Padded rows and columns are all ``-inf``; returning 0 there keeps ``log p - lse`` at
    ``-inf`` (no ``-inf - (-inf) = NaN``).
    """
    lse = torch.logsumexp(x, dim=dim)
    return torch.where(torch.isneginf(lse), torch.zeros_like(lse), lse)


def sinkhorn_scaling(
    log_K, p, q, *, max_iter, tol=0.0, check_every=10, potentials=None, return_potentials=False
):
    r"""Scale a log-kernel to the marginals ``(p, q)``: ``log T = log K + f 1^T + 1 g^T``.

    Stabilised scaling (Schmitzer 2019): the kernel is exponentiated once, after subtracting
    each row's maximum and then each column's (absorbed by the scalings ``a = e^f`` and
    ``b = e^g``; the first update thus starts from :math:`b_j = e^{-\max_i \log K_{ij}}` after
    the rows are normalised), and the iterations

    .. math:: a = p / (K b), \quad b = q / (K^\top a)

    are matrix-vector products; the result is assembled in the log domain. Every row and column
    of the normalised kernel has an entry 1, so none underflows entirely; entries below the range
    of :func:`exp` (``1e-29`` in float32) count as zero mass during the iterations. Problems whose
    scalings leave the kernel's range (a column's kernel mass within ``e^20`` of that floor: long
    runs on kernels spanning thousands of nats) are scaled again in the log domain
    (``logsumexp`` updates), so the result has the marginals it reports.

    Warm start: with ``potentials=(f0, g0)`` the iterations scale
    :math:`\log K + f_0 1^\top + 1 g_0^\top` instead, normalising its rows only, so that a kernel
    close to a plan of marginals ``(p, q)`` (the proximal steps of a converging solver, whose
    scalings tend to the dual potentials) needs one or two updates where a cold start needs
    thousands.

    Parameters
    ----------
    log_K : Tensor of shape (B, n, m)
        ``-inf`` on the rows where ``p`` is zero and the columns where ``q`` is zero (padding).
    p : Tensor of shape (B, n)
    q : Tensor of shape (B, m)
        Zero on padded nodes.
    max_iter : int
        Number of (a, b) updates; at least one.
    tol : float, default=0.0
        A problem whose row-marginal error (l1, relative to its mass) falls below ``tol`` (at
        least ten machine epsilons of the dtype) is frozen, checked after the first update and
        every ``check_every`` updates, so that its result does not depend on the other problems
        of the batch and a warm-started problem stops as soon as it is solved. 0 runs
        ``max_iter`` updates.
    check_every : int, default=10
    potentials : tuple of Tensor of shapes (B, n) and (B, m), default=None
        Log-scalings ``(f0, g0)`` to start from, ``-inf`` on padding (those returned by an
        earlier call).
    return_potentials : bool, default=False
        Also return the log-scalings ``(f, g)`` of the result, ``-inf`` on padding.

    Returns
    -------
    log_T : Tensor of shape (B, n, m)
        The column marginals are exact; the row marginals are within ``tol`` when converged.
    potentials : tuple of Tensor of shapes (B, n) and (B, m)
        Only with ``return_potentials``: ``log_T = log_K + f 1^T + 1 g^T`` on the support.
    """
    shifted = log_K
    if potentials is not None:
        shifted = log_K + potentials[0][:, :, None] + potentials[1][:, None, :]
    log_N, _, a, b, row_shift, col_shift = _scaling_factors(
        shifted, p, q, max_iter, tol, check_every, 1.0, normalize_columns=potentials is None
    )
    # a, b >= 0: log gives -inf on padding without masking.
    log_a, log_b = torch.log(a), torch.log(b)
    lost = _lost_columns(a, b, q, _exp_floor(log_K.dtype) + _LOST_MARGIN)
    if lost.any():
        # Scalings out of the kernel's range (long runs on kernels of a wide range): these
        # problems are scaled again in the log domain.
        log_a[lost], log_b[lost] = _log_domain_scaling(
            log_N[lost], p[lost], q[lost], max_iter, tol, check_every
        )
    log_T = (log_N + log_a[:, :, None]).add_(log_b[:, None, :])
    if not return_potentials:
        return log_T
    f, g = log_a - row_shift, log_b - col_shift
    if potentials is not None:
        f, g = f + potentials[0], g + potentials[1]
    return log_T, (f, g)


def sinkhorn_projection(log_K, p, q, *, max_iter, tol=0.0, relaxation=1.0, check_every=10):
    r"""The plans :math:`\mathrm{diag}(a) K \mathrm{diag}(b)` of :func:`sinkhorn_scaling`.

    Assembled from the kernel the iterations saw (entries that underflowed there are 0), so the
    marginals are those the iterations measured. ``relaxation`` :math:`\omega \in [1, 2)`
    over-relaxes the updates, :math:`a \leftarrow a^{1 - \omega} (p / K b)^{\omega}` and
    likewise for ``b`` (Thibault, Chizat, Dossal, Papadakis 2021), which converges in far fewer
    updates on the nearly sparse kernels of the last proximal steps; the first and the last
    updates are plain ones, and a problem whose error grows tenfold over its best goes on with
    plain updates (a safeguard: over-relaxation is only locally convergent).

    Returns
    -------
    T : Tensor of shape (B, n, m)
        Zero on padding; column marginals exact unless a problem was frozen by ``tol``.
    """
    _, K, a, b, _, _ = _scaling_factors(log_K, p, q, max_iter, tol, check_every, relaxation)
    return K * a[:, :, None] * b[:, None, :]


def _scaling_factors(
    log_K, p, q, max_iter, tol, check_every, relaxation, normalize_columns=True
):  # fmt: skip
    """The normalised log-kernel, its exponential, the scalings ``(a, b)`` and the row and
    column shifts (B, n) and (B, m) the normalisation subtracted from ``log_K``."""
    # Every row, then every column, gets its maximum at 0 (an entry 1 in K), so no row or column
    # underflows entirely. Padding stays -inf: its maxima are raised to the lowest finite value.
    lowest = torch.finfo(log_K.dtype).min
    row_shift = log_K.amax(dim=2).clamp_min(lowest)
    log_K = log_K - row_shift[:, :, None]
    col_shift = torch.zeros_like(q)
    if normalize_columns:
        col_shift = log_K.amax(dim=1).clamp_min(lowest)
        log_K = log_K - col_shift[:, None, :]
    K = exp(log_K)
    tiny = torch.finfo(K.dtype).tiny
    tol = _marginal_tolerance(tol, K.dtype)
    # The problems still scaling, when some were set aside (converged); None while all are.
    active = None
    a_all = b_all = None
    K_active, p_active, q_active, a, b = K, p, q, None, None
    mass = p.sum(dim=1)
    omega = None if relaxation == 1.0 else torch.full_like(p[:, :1], relaxation)
    best_error = None if omega is None else torch.full_like(p[:, 0], torch.inf)
    for iteration in range(max_iter):
        # p and q are 0 on padding, so are a and b there.
        row_sums = K_active.sum(2) if b is None else (K_active * b[:, None, :]).sum(2)
        check = b is not None and tol > 0 and (iteration == 1 or iteration % check_every == 0)
        if check or (b is not None and omega is not None):
            error = (a * row_sums - p_active).abs().sum(dim=1)
        if check:
            moving = error > tol * mass
            if not moving.all():
                if active is None:
                    active = torch.arange(K.shape[0], device=K.device)
                    a_all, b_all = torch.zeros_like(p), torch.zeros_like(q)
                a_all, b_all = a_all.index_copy(0, active, a), b_all.index_copy(0, active, b)
                active = active[moving]
                if not len(active):
                    return log_K, K, a_all, b_all, row_shift, col_shift
                K_active, p_active, q_active = K_active[moving], p_active[moving], q_active[moving]
                a, b, row_sums, error = a[moving], b[moving], row_sums[moving], error[moving]
                mass = mass[moving]
                if omega is not None:
                    omega, best_error = omega[moving], best_error[moving]
        if omega is not None and b is not None:
            # Safeguard against divergence: a problem whose error grew tenfold over its best goes
            # on with plain updates (globally convergent).
            omega = torch.where((error > 10.0 * best_error)[:, None], 1.0, omega)
            best_error = torch.minimum(error, best_error)
        # Over-relaxed updates, except the first and the last (plain, so the plan is bounded).
        relax = None if b is None or iteration == max_iter - 1 else omega
        a = _relaxed(a, p_active / row_sums.clamp_min(tiny), relax)
        b = _relaxed(b, q_active / (K_active * a[:, :, None]).sum(1).clamp_min(tiny), relax)
    if active is not None:
        a, b = a_all.index_copy(0, active, a), b_all.index_copy(0, active, b)
    return log_K, K, a, b, row_shift, col_shift


def _marginal_tolerance(tol, dtype):
    """``tol`` raised to ten machine epsilons of ``dtype`` (0 stays 0: no freezing)."""
    return max(tol, 10 * torch.finfo(dtype).eps) if tol > 0 else 0.0


# A column whose kernel mass is within this factor (log) of the exp floor makes a problem "lost":
# the entries of the column that underflowed would carry more than e^-20 of its mass.
_LOST_MARGIN = 20.0


def _lost_columns(a, b, q, log_limit):
    r"""Problems with a column the kernel iterations could not scale: (B,) bool.

    After a plain ``b`` update, :math:`b_j = q_j / (K^\top a)_j`, so a column's kernel mass
    relative to the rows' is :math:`q_j / (b_j \sum_i a_i)`; below ``exp(log_limit)`` (or not
    finite) the column's entries that underflowed in :math:`K` are not negligible beside the
    ones that did not, and a column that underflowed entirely has no mass at all.
    """
    scaled = b * a.sum(dim=1, keepdim=True)  # 0 on padding, where q is 0 too
    return ~(scaled <= q * math.exp(-log_limit)).all(dim=1)


def _log_domain_scaling(log_K, p, q, max_iter, tol, check_every):
    r"""Potentials :math:`(f, g)` of plain Sinkhorn updates in the log domain.

    .. math:: f = \log p - \mathrm{LSE}_j(\log K_{ij} + g_j), \quad
              g = \log q - \mathrm{LSE}_i(\log K_{ij} + f_i)

    Exact for any range of the kernel, at the cost of an exponential per entry and update. A
    problem whose row-marginal error falls below ``tol`` (checked every ``check_every`` updates)
    keeps its potentials, as in the kernel iterations (relative to its mass).
    """
    log_p, log_q = masked_log(p), masked_log(q)
    g = torch.where(q > 0, 0.0, -torch.inf)
    f = None
    moving = None  # (B, 1) bool once a check has frozen some problems
    tol = _marginal_tolerance(tol, log_K.dtype)
    for iteration in range(max_iter):
        f_new = log_p - safe_logsumexp(log_K + g[:, None, :], dim=2)
        if f is not None and tol > 0 and iteration % check_every == 0:
            rows = torch.where(p > 0, torch.exp(log_p - f_new + f), 0.0)
            still = ((rows - p).abs().sum(dim=1) > tol * p.sum(dim=1))[:, None]
            moving = still if moving is None else moving & still
            if not moving.any():
                break
        g_new = log_q - safe_logsumexp(log_K + f_new[:, :, None], dim=1)
        if moving is not None:
            f_new, g_new = torch.where(moving, f_new, f), torch.where(moving, g_new, g)
        f, g = f_new, g_new
    return f, g


def _relaxed(old, new, omega):
    r"""Over-relaxed scaling update :math:`\mathrm{old}^{1 - \omega}\, \mathrm{new}^{\omega}`.

    ``omega``: None (plain update, ``new``) or a Tensor of shape (B, 1). Clipped to the dtype's
    range; zero where ``new`` is zero (padding).
    """
    if omega is None:
        return new
    info = torch.finfo(new.dtype)
    old = old.clamp_min(info.tiny)
    value = (old * (new / old).pow(omega)).clamp(info.tiny, info.max)
    return torch.where(new > 0, value, 0.0)


def round_to_marginals(T, p, q):
    """Round nonnegative plans onto :math:`\\Pi(p, q)` exactly (Altschuler et al. 2017, Alg. 2).

    Rows with too much mass are scaled down, then columns, and the missing mass is added as the
    rank-one term :math:`e_r e_c^\\top / \\|e_r\\|_1`. The l1 change is at most twice the initial
    marginal error.

    Parameters
    ----------
    T : Tensor of shape (B, n, m)
    p : Tensor of shape (B, n)
    q : Tensor of shape (B, m)
        Equal total masses per problem.

    Returns
    -------
    T : Tensor of shape (B, n, m)
    """
    row = T.sum(dim=2)
    T = T * torch.where(row > p, p / torch.where(row > 0, row, 1.0), 1.0)[:, :, None]
    col = T.sum(dim=1)
    T = T * torch.where(col > q, q / torch.where(col > 0, col, 1.0), 1.0)[:, None, :]
    error_row = (p - T.sum(dim=2)).clamp_min(0.0)
    error_col = (q - T.sum(dim=1)).clamp_min(0.0)
    total = error_row.sum(dim=1)
    scale = torch.where(total > 0, 1.0 / torch.where(total > 0, total, 1.0), 0.0)
    return T + error_row[:, :, None] * error_col[:, None, :] * scale[:, None, None]
