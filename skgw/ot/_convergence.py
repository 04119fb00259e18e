"""What an iterative solver of :mod:`skgw.ot` reports per problem, and its one warning per call.

Every solver with ``return_log=True`` returns, beside its plans, a dict of tensors of shape
``(B,)``, as POT's ``log=True`` does:

``"n_iter"``
    Outer steps the problem took (int).
``"change"``
    The stopping quantity at the last check: the change of the loss in one step relative to the
    problem's unit (PPA, FUGW), or BADMM's primal residual.
``"marginal_error"``
    l1 error of the returned plan's marginals relative to its mass (0 for FUGW, whose marginals
    are penalised, not constrained).
``"converged"``
    Whether ``"change"`` fell below the solver's ``tol`` (bool).

A call in which some problem did not converge emits one
:class:`sklearn.exceptions.ConvergenceWarning` saying how many and by how much.
"""

import warnings

import torch
from sklearn.exceptions import ConvergenceWarning

__all__ = ["marginal_error", "solver_log", "warn_unconverged"]


def marginal_error(T, p, q):
    """l1 error of both marginals of the plans relative to their mass: ``(B,)``."""
    mass = p.sum(dim=1).clamp_min(torch.finfo(T.dtype).tiny)
    rows = (T.sum(dim=2) - p).abs().sum(dim=1)
    cols = (T.sum(dim=1) - q).abs().sum(dim=1)
    return (rows + cols) / mass


def solver_log(n_iter, change, tol, error):
    """The log dict of the module docstring (``error`` None for unconstrained marginals)."""
    return {
        "n_iter": n_iter,
        "change": change,
        "marginal_error": torch.zeros_like(change) if error is None else error,
        "converged": change <= tol,
    }


def warn_unconverged(log, solver, max_iter, tol, advice):
    """One ``ConvergenceWarning`` if some problem of the batch did not converge (none when
    ``tol`` is 0: the caller asked for ``max_iter`` steps).

    Parameters
    ----------
    log : dict
        As returned by :func:`solver_log`.
    solver : str
        The public function's name, for the message.
    max_iter, tol :
        The budget and the tolerance it ran under.
    advice : str
        What to change, for the message.
    """
    if tol == 0:  # no tolerance asked for: the budget was the criterion
        return
    converged = log["converged"]
    missed = int((~converged).sum())
    if not missed:
        return
    worst = float(log["change"][~converged].max())
    warnings.warn(
        f"{solver}: {missed} of {converged.numel()} problems did not converge in "
        f"max_iter={max_iter} steps (largest change {worst:.2e}, tol={tol:g}); {advice}",
        ConvergenceWarning,
        stacklevel=3,
    )
