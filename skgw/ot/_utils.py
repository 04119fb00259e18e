"""Shared blocks of the batched kernels: masked logs, stabilised Sinkhorn scaling, rounding."""

import math

import torch

__all__ = [
    "exp",
    "group_by_size",
    "masked_log",
    "round_to_marginals",
    "safe_logsumexp",
    "sinkhorn_scaling",
]


def group_by_size(sizes, *, max_padding=0.25, max_group_size=None):
    """Indices grouped into runs of similar sizes, so that small items are not padded to big ones.

    Items are sorted by size (stable) and cut into consecutive runs of at most
    ``max_group_size`` items in which the largest has at most ``(1 + max_padding)`` times the
    size of the smallest, plus one.

    Parameters
    ----------
    sizes : sequence of int
    max_padding : float, default=0.25
    max_group_size : int, default=None
        No limit when None.

    Returns
    -------
    groups : list of list of int
        Every index appears once.
    """
    order = sorted(range(len(sizes)), key=lambda index: sizes[index])
    groups, current = [], []
    for index in order:
        if current and (
            (max_group_size is not None and len(current) >= max_group_size)
            or sizes[index] > (1 + max_padding) * sizes[current[0]] + 1
        ):
            groups.append(current)
            current = []
        current.append(index)
    groups.append(current)
    return groups


def exp(x):
    """``torch.exp`` that maps arguments below the dtype's smallest normal number to exactly 0.

    Underflowing arguments (results in the subnormal range) make ``torch.exp`` on the CPU about
    30 times slower; sending them to ``-inf`` gives the same zeros (up to subnormals) quickly.
    """
    floor = math.log(torch.finfo(x.dtype).tiny)
    return torch.exp(x.masked_fill(x < floor, -torch.inf))


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


def sinkhorn_scaling(log_K, p, q, *, max_iter, tol=0.0, check_every=10):
    """Scale a log-kernel to the marginals ``(p, q)``: ``log T = log K + log a 1^T + 1 log b^T``.

    Stabilised scaling (Schmitzer 2019): the kernel is exponentiated once, after subtracting
    each row's maximum (absorbed by ``a``), and the iterations

    .. math:: a = p / (K b), \\quad b = q / (K^\top a)

    are matrix-vector products; the result is assembled in the log domain. Entries below the
    dtype's range relative to their row maximum count as zero mass during the iterations; a column
    that underflows entirely gets a large finite ``b`` instead of an infinite one, so no NaN or
    inf can appear.

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
        A problem whose row-marginal error (l1) falls below ``tol`` (at least ten machine
        epsilons of the dtype) is frozen, checked every
        ``check_every`` updates, so that its result does not depend on the other problems of the
        batch. 0 runs ``max_iter`` updates.
    check_every : int, default=10

    Returns
    -------
    log_T : Tensor of shape (B, n, m)
        The column marginals are exact; the row marginals are within ``tol`` when converged.
    """
    row_max = log_K.amax(dim=2, keepdim=True)
    row_max = torch.where(torch.isneginf(row_max), torch.zeros_like(row_max), row_max)
    log_K = log_K - row_max
    K = exp(log_K)
    tiny = torch.finfo(K.dtype).tiny
    tol = max(tol, 10 * torch.finfo(K.dtype).eps) if tol > 0 else 0.0
    b = None  # all ones: K is zero on padded columns
    a = torch.zeros_like(p)
    active = torch.ones(K.shape[0], dtype=torch.bool, device=K.device)
    for iteration in range(max_iter):
        # p and q are 0 on padding, so are a and b there.
        row_sums = K.sum(2) if b is None else (K * b[:, None, :]).sum(2)
        a_new = p / row_sums.clamp_min(tiny)
        b_new = q / (K * a_new[:, :, None]).sum(1).clamp_min(tiny)
        if tol > 0:
            a = torch.where(active[:, None], a_new, a)
            b = b_new if b is None else torch.where(active[:, None], b_new, b)
            if (iteration + 1) % check_every == 0:
                error = (a * (K * b[:, None, :]).sum(2) - p).abs().sum(dim=1)
                active = active & (error > tol)
                if not active.any():
                    break
        else:
            a, b = a_new, b_new
    return (log_K + masked_log(a)[:, :, None]).add_(masked_log(b)[:, None, :])


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
