"""Batched torch optimal-transport kernels over padded graph batches (no scikit-learn here).

Shapes follow one convention: ``B`` problems, structures ``(B, n, n)`` and ``(B, m, m)``, node
weights ``(B, n)`` and ``(B, m)`` that are zero on padded nodes, plans ``(B, n, m)``. Every
function here checks that its inputs are such a batch (floating tensors of one dtype on one
device, finite, with nonnegative weights and plans, of equal sums for the balanced solvers,
trade-offs given as a number or one per problem) and raises a ``TypeError`` or ``ValueError``
naming the argument otherwise, so that nothing is broadcast silently.
"""

from .badmm import fgw_plan_badmm
from .barycenter import barycenter_update, fgw_barycenter, solve_plans
from .fugw import fugw_loss, fugw_plan, kl_divergence, to_pot_parameters
from .gw import (
    feature_cost,
    fgw_gradient,
    fgw_loss,
    fgw_plan_ppa,
    gw_tensor_product,
    initial_plan,
)

__all__ = [
    "barycenter_update",
    "feature_cost",
    "fgw_barycenter",
    "fgw_gradient",
    "fgw_loss",
    "fgw_plan_badmm",
    "fgw_plan_ppa",
    "fugw_loss",
    "fugw_plan",
    "gw_tensor_product",
    "initial_plan",
    "kl_divergence",
    "solve_plans",
    "to_pot_parameters",
]
