"""Shared blocks of the batched kernels: masked logs, stabilised Sinkhorn scaling, rounding,
parameter checks."""

import math
import numbers

import torch
import torch.nn.functional as F

__all__ = [
    "check_batch",
    "check_nonnegative",
    "check_shapes",
    "check_tensors",
    "check_in_unit_interval",
    "check_iterations",
    "check_per_problem",
    "check_positive_finite",
    "check_plan_range",
    "check_plan_support",
    "exp",
    "group_by_size",
    "log_normalize",
    "masked_log",
    "round_to_marginals",
    "safe_logsumexp",
    "sinkhorn_projection",
    "sinkhorn_scaling",
]


def check_in_unit_interval(name, value):
    """``ValueError`` unless every entry of ``value`` (number, array or tensor) is in [0, 1]."""
    value = _as_checked_tensor(value)
    bad = ~((value >= 0) & (value <= 1))
    if bad.any():
        raise ValueError(f"{name} must be in [0, 1], got {value[bad][0].item()}.")


def check_positive_finite(name, value, *, allow_zero=False):
    """``ValueError`` unless every entry of ``value`` (number, array or tensor) is in (0, inf),
    or in [0, inf) with ``allow_zero``."""
    value = _as_checked_tensor(value)
    bad = ~(((value >= 0) if allow_zero else (value > 0)) & torch.isfinite(value))
    if bad.any():
        sign = "nonnegative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {sign} and finite, got {value[bad][0].item()}.")


def check_iterations(named, minimum=0):
    """``ValueError`` unless each value of ``named`` (name -> value) is an integer (not a bool)
    of at least ``minimum``."""
    for name, value in named.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def check_plan_range(p, q, names=("p", "q")):
    """``ValueError`` unless every product :math:`p_i q_j` of positive weights is within the range
    of :func:`exp` in the weights' dtype (about ``1e-29`` in float32, ``1e-299`` in float64).

    The plans' entries are of the order of :math:`p_i q_j`; below that range they are zero, and a
    plan with no entry left has no marginals to scale to.
    """
    smallest_p = torch.where(p > 0, p, torch.inf).amin(dim=1).double()
    smallest_q = torch.where(q > 0, q, torch.inf).amin(dim=1).double()
    log_product = torch.log(smallest_p) + torch.log(smallest_q)  # no float32 underflow
    floor = _exp_floor(p.dtype) + math.log(2.0)
    low = log_product < floor
    if low.any():
        b = int(low.nonzero()[0, 0])
        dtype = str(p.dtype).removeprefix("torch.")
        raise ValueError(
            f"Problem {b}: the smallest positive {names[0]}_i {names[1]}_j is "
            f"{math.exp(log_product[b].item()):.3g}, below the range of {dtype} plans "
            f"({math.exp(floor):.1e}); normalise the node weights to sum 1, or use float64."
        )


def check_plan_support(P, p, q, names=("P", "p", "q")):
    """``ValueError`` unless the plans ``P`` carry no mass on a node of zero weight in ``p`` or
    ``q`` (a padded node, or one the problem leaves out)."""
    for dim, weights, name in ((2, p, names[1]), (1, q, names[2])):
        stray = (P.sum(dim=dim) > 0) & (weights == 0)
        if stray.any():
            b, i = (int(k) for k in stray.nonzero()[0])
            raise ValueError(
                f"Problem {b}: {names[0]} has mass on node {i}, whose weight in {name} is 0 "
                "(a padded or excluded node)."
            )


def check_per_problem(named, n_problems):
    """``ValueError`` unless each value of ``named`` (name -> number or tensor) is a number or a
    tensor of shape ``(n_problems,)``: one value per problem, never broadcast silently."""
    for name, value in named.items():
        shape = tuple(torch.as_tensor(value).shape)
        if shape not in ((), (n_problems,)):
            raise ValueError(
                f"{name} must be a number or of shape ({n_problems},) (one per problem), "
                f"got shape {shape}."
            )


def check_tensors(named):
    """``TypeError`` / ``ValueError`` unless the values of ``named`` (name -> value) are
    floating tensors of the first one's dtype and device, with finite entries."""
    first_name, first = next(iter(named.items()))
    for name, value in named.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"{name} must be a torch.Tensor (the kernels take padded batches of tensors), "
                f"got {type(value).__name__}."
            )
        if not value.is_floating_point():
            raise TypeError(f"{name} has dtype {value.dtype}; the kernels need float32 or float64.")
        if value.dtype != first.dtype:
            raise TypeError(
                f"{name} has dtype {value.dtype}, {first_name} {first.dtype}; cast them alike."
            )
        if value.device != first.device:
            raise ValueError(f"{name} is on {value.device}, {first_name} on {first.device}.")
        if not torch.isfinite(value).all():
            raise ValueError(f"{name} has non-finite entries.")


def check_shapes(named, expected, sizes):
    """``ValueError`` naming the first tensor of ``named`` whose shape is not ``expected[name]``;
    ``sizes`` says where the sizes in the expected shapes come from."""
    for name, value in named.items():
        if tuple(value.shape) != expected[name]:
            raise ValueError(
                f"{name} must have shape {expected[name]} ({sizes}), got {tuple(value.shape)}."
            )


def check_nonnegative(named, names):
    """``ValueError`` naming the first of ``names`` (those in ``named``) with a negative entry."""
    for name in names:
        if name in named and (named[name] < 0).any():
            raise ValueError(f"{name} has negative entries; they must be nonnegative.")


def check_batch(
    C1,
    C2,
    p=None,
    q=None,
    *,
    D=None,
    plans=None,
    balanced=False,
    signed_plans=False,
    names=("C1", "C2", "p", "q", "D", "plans"),
):
    """``TypeError`` / ``ValueError`` unless the inputs form one padded batch of problems.

    Structures ``(B, n, n)`` and ``(B, m, m)``, and those of the optional node weights ``(B, n)``
    and ``(B, m)``, feature cost ``D`` and plans ``(B, n, m)``: floating tensors of one dtype on
    one device, with finite entries (so that no NaN comes out of a solver from a NaN that went
    in), weights nonnegative, and plans too unless ``signed_plans`` (the arguments of linear
    operators). ``balanced`` also asks ``p`` and ``q`` to have equal sums (to relative ``1e-4``,
    ``1e-3`` in float32). ``names`` are the names of the six arguments in the messages.
    """
    values = (C1, C2, p, q, D, plans)
    named = {name: v for name, v in zip(names, values, strict=True) if v is not None}
    check_tensors(named)
    if C1.ndim != 3 or C1.shape[1] != C1.shape[2]:
        raise ValueError(f"{names[0]} must have shape (B, n, n), got {tuple(C1.shape)}.")
    B, n = C1.shape[:2]
    m = C2.shape[1] if C2.ndim > 1 else 0
    shapes = ((B, n, n), (B, m, m), (B, n), (B, m), (B, n, m), (B, n, m))
    expected = dict(zip(names, shapes, strict=True))
    check_shapes(named, expected, f"B, n, m = {B}, {n}, {m} from {names[0]} and {names[1]}")
    check_nonnegative(named, names[2:4] if signed_plans else (*names[2:4], names[5]))
    if balanced:
        rtol = 1e-4 if p.dtype == torch.float64 else 1e-3
        mass_p, mass_q = p.sum(dim=1), q.sum(dim=1)
        unequal = (mass_p - mass_q).abs() > rtol * torch.maximum(mass_p, mass_q)
        if unequal.any():
            b = int(unequal.nonzero()[0, 0])
            raise ValueError(
                f"Problem {b}: {names[2]} sums to {mass_p[b].item():.6g} and {names[3]} to "
                f"{mass_q[b].item():.6g}; balanced transport needs equal masses."
            )


def _as_checked_tensor(value):
    """A tensor as it is; anything else copied (arrays may be read-only views)."""
    return value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=torch.float64)


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


def sinkhorn_scaling(log_K, p, q, *, max_iter, tol=0.0, check_every=10):
    r"""Scale a log-kernel to the marginals ``(p, q)``: ``log T = log K + log a 1^T + 1 log b^T``.

    Stabilised scaling (Schmitzer 2019): the kernel is exponentiated once, after subtracting
    each row's maximum and then each column's (absorbed by ``a`` and ``b``; the first update
    thus starts from :math:`b_j = e^{-\max_i \log K_{ij}}` after the rows are normalised), and
    the iterations

    .. math:: a = p / (K b), \quad b = q / (K^\top a)

    are matrix-vector products; the result is assembled in the log domain. Every row and column
    of the normalised kernel has an entry 1, so none underflows entirely; entries below the range
    of :func:`exp` (``1e-29`` in float32) count as zero mass during the iterations. Problems whose
    scalings leave the kernel's range (a column's kernel mass within ``e^20`` of that floor: long
    runs on kernels spanning thousands of nats) are scaled again in the log domain
    (``logsumexp`` updates), so the result has the marginals it reports.

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
    log_K, _, a, b = _scaling_factors(log_K, p, q, max_iter, tol, check_every, 1.0)
    # a, b >= 0: log gives -inf on padding without masking.
    log_T = (log_K + torch.log(a)[:, :, None]).add_(torch.log(b)[:, None, :])
    lost = _lost_columns(a, b, q, _exp_floor(log_K.dtype) + _LOST_MARGIN)
    if lost.any():
        # Scalings out of the kernel's range (long runs on kernels of a wide range): these
        # problems are scaled again in the log domain.
        f, g = _log_domain_scaling(log_K[lost], p[lost], q[lost], max_iter, tol, check_every)
        log_T[lost] = log_K[lost] + f[:, :, None] + g[:, None, :]
    return log_T


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
    _, K, a, b = _scaling_factors(log_K, p, q, max_iter, tol, check_every, relaxation)
    return K * a[:, :, None] * b[:, None, :]


def _scaling_factors(log_K, p, q, max_iter, tol, check_every, relaxation):
    """The row- and column-normalised log-kernel, its exponential and the scalings ``(a, b)``."""
    # Every row, then every column, gets its maximum at 0 (an entry 1 in K), so no row or column
    # underflows entirely. Padding stays -inf: its maxima are raised to the lowest finite value.
    lowest = torch.finfo(log_K.dtype).min
    log_K = log_K - log_K.amax(dim=2, keepdim=True).clamp_min(lowest)
    log_K = log_K - log_K.amax(dim=1, keepdim=True).clamp_min(lowest)
    K = exp(log_K)
    tiny = torch.finfo(K.dtype).tiny
    tol = _marginal_tolerance(tol, K.dtype)
    # The problems still scaling, when some were set aside (converged); None while all are.
    active = None
    a_all = b_all = None
    K_active, p_active, q_active, a, b = K, p, q, None, None
    omega = None if relaxation == 1.0 else torch.full_like(p[:, :1], relaxation)
    best_error = None if omega is None else torch.full_like(p[:, 0], torch.inf)
    for iteration in range(max_iter):
        # p and q are 0 on padding, so are a and b there.
        row_sums = K_active.sum(2) if b is None else (K_active * b[:, None, :]).sum(2)
        check = b is not None and tol > 0 and iteration % check_every == 0
        if check or (b is not None and omega is not None):
            error = (a * row_sums - p_active).abs().sum(dim=1)
        if check:
            moving = error > tol
            if not moving.all():
                if active is None:
                    active = torch.arange(K.shape[0], device=K.device)
                    a_all, b_all = torch.zeros_like(p), torch.zeros_like(q)
                a_all, b_all = a_all.index_copy(0, active, a), b_all.index_copy(0, active, b)
                active = active[moving]
                if not len(active):
                    return log_K, K, a_all, b_all
                K_active, p_active, q_active = K_active[moving], p_active[moving], q_active[moving]
                a, b, row_sums, error = a[moving], b[moving], row_sums[moving], error[moving]
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
    if active is None:
        return log_K, K, a, b
    return log_K, K, a_all.index_copy(0, active, a), b_all.index_copy(0, active, b)


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
    keeps its potentials, as in the kernel iterations.
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
            still = ((rows - p).abs().sum(dim=1) > tol)[:, None]
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
