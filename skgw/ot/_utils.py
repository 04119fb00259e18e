"""Shared blocks of the batched kernels: masked logs, log-domain Sinkhorn scaling."""

import torch

__all__ = ["masked_log", "safe_logsumexp", "sinkhorn_log"]


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


def sinkhorn_log(log_K, log_p, log_q, *, max_iter, tol=0.0, check_every=10):
    """Scale a log-kernel to the marginals ``(p, q)``: ``log T = log K + f 1^T + 1 g^T``.

    .. math:: f = \\log p - \\mathrm{lse}_j(\\log K_{ij} + g_j), \\quad
              g = \\log q - \\mathrm{lse}_i(\\log K_{ij} + f_i)

    Parameters
    ----------
    log_K : Tensor of shape (B, n, m)
        ``-inf`` on padded rows and columns.
    log_p : Tensor of shape (B, n)
    log_q : Tensor of shape (B, m)
        ``-inf`` on padded (zero-weight) nodes.
    max_iter : int
        Number of (f, g) updates; at least one.
    tol : float, default=0.0
        A problem whose row-marginal error (l1) falls below ``tol`` is frozen, checked every
        ``check_every`` updates, so that its result does not depend on the other problems of the
        batch. 0 runs ``max_iter`` updates.
    check_every : int, default=10

    Returns
    -------
    log_T : Tensor of shape (B, n, m)
        The column marginals are exact; the row marginals are within ``tol`` when converged.
    """
    f = torch.zeros_like(log_p)
    g = torch.zeros_like(log_q)
    active = torch.ones(log_K.shape[0], dtype=torch.bool, device=log_K.device)
    for iteration in range(max_iter):
        f_new = log_p - safe_logsumexp(log_K + g[:, None, :], dim=2)
        g_new = log_q - safe_logsumexp(log_K + f_new[:, :, None], dim=1)
        if tol > 0:
            f = torch.where(active[:, None], f_new, f)
            g = torch.where(active[:, None], g_new, g)
        else:
            f, g = f_new, g_new
        if tol > 0 and (iteration + 1) % check_every == 0:
            row_marginal = torch.exp(safe_logsumexp(log_K + f[:, :, None] + g[:, None, :], dim=2))
            error = (row_marginal - torch.exp(log_p)).abs().sum(dim=1)
            active = active & (error > tol)
            if not active.any():
                break
    return log_K + f[:, :, None] + g[:, None, :]


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
