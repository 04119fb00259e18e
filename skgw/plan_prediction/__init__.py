"""ULOT: amortised fused unbalanced GW plans (:class:`FUGWPlanPredictor`) and its network."""

from ._network import ULOTNetwork, scaled_attention_plan
from ._pretrained import load_predictor, load_pretrained, save_predictor
from ._problem import normalized_fugw_inputs
from .predictor import FUGWPlanPredictor, sample_trade_offs

__all__ = [
    "FUGWPlanPredictor",
    "ULOTNetwork",
    "load_predictor",
    "load_pretrained",
    "normalized_fugw_inputs",
    "sample_trade_offs",
    "scaled_attention_plan",
    "save_predictor",
]
