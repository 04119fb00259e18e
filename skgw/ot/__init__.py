"""Batched torch optimal-transport kernels over padded graph batches (no scikit-learn here)."""

from .gw import (
    feature_cost,
    fgw_gradient,
    fgw_loss,
    fgw_plan_badmm,
    fgw_plan_ppa,
    gw_tensor_product,
    initial_plan,
)

__all__ = [
    "feature_cost",
    "fgw_gradient",
    "fgw_loss",
    "fgw_plan_badmm",
    "fgw_plan_ppa",
    "gw_tensor_product",
    "initial_plan",
]
