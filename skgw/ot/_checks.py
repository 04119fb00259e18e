"""Input checks of the public kernels: one padded batch of problems, trade-offs in range,
iteration counts, plans whose entries the dtype can hold.

They run once, at the public boundary; the solvers' loops call unchecked private versions.
"""

import math
import numbers

import torch

from ._sinkhorn import _exp_floor

__all__ = [
    "check_batch",
    "check_in_unit_interval",
    "check_iterations",
    "check_nonnegative",
    "check_per_problem",
    "check_plan_range",
    "check_plan_support",
    "check_positive_finite",
    "check_shapes",
    "check_tensors",
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
