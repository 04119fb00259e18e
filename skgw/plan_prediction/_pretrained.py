"""Saving and loading trained :class:`~skgw.FUGWPlanPredictor` models (torch files)."""

import pickle
import struct
from importlib import resources

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._batching import resolve_device
from .._graphs import Graph
from .predictor import FUGWPlanPredictor

__all__ = ["load_predictor", "load_pretrained", "save_predictor"]

PRETRAINED = {"sbm": "ulot_sbm.pt"}
SAVED_KEYS = {
    "params",
    "state_dict",
    "n_node_features",
    "n_features",
    "reference",
    "loss_curve",
    "validation_loss_curve",
    "best_epoch",
}


def save_predictor(predictor, path):
    """Write a fitted predictor (parameters, network weights, reference graph, curves)."""
    if not isinstance(predictor, FUGWPlanPredictor):
        kind = type(predictor).__name__
        raise TypeError(f"save_predictor writes a FUGWPlanPredictor, got {kind}.")
    check_is_fitted(predictor)
    params = predictor.get_params()
    params.pop("reference")
    reference = predictor.reference_
    torch.save(
        {
            "params": params,
            "state_dict": {k: v.cpu() for k, v in predictor.network_.state_dict().items()},
            "n_node_features": predictor.n_node_features_,
            "n_features": predictor.network_.first.project_h.in_features,
            "reference": [torch.tensor(a) for a in (reference.C, reference.p)]
            + ([] if reference.F is None else [torch.tensor(reference.F)]),
            "loss_curve": list(predictor.loss_curve_),
            "validation_loss_curve": list(predictor.validation_loss_curve_),
            "best_epoch": predictor.best_epoch_,
        },
        path,
    )


def load_predictor(path, *, device="auto"):
    """A fitted :class:`~skgw.FUGWPlanPredictor` from a file of :func:`save_predictor`."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, struct.error) as error:
        raise ValueError(f"{path} is not a file written by save_predictor: {error}") from error
    if not isinstance(saved, dict) or not SAVED_KEYS <= saved.keys():
        raise ValueError(f"{path} is not a file written by save_predictor.")
    predictor = FUGWPlanPredictor(**{**saved["params"], "device": device})
    network = predictor._build_network(
        saved["n_features"], 0, resolve_device(device), torch.float64
    )
    network.load_state_dict(saved["state_dict"])
    predictor.network_ = network.eval()
    predictor.n_node_features_ = saved["n_node_features"]
    arrays = [np.array(t.double().numpy()) for t in saved["reference"]]
    predictor.reference_ = Graph(*arrays)
    predictor.loss_curve_ = saved["loss_curve"]
    predictor.validation_loss_curve_ = saved["validation_loss_curve"]
    predictor.best_epoch_ = saved["best_epoch"]
    predictor.n_iter_ = len(predictor.loss_curve_)
    return predictor


def load_pretrained(name="sbm", *, device="auto"):
    """The model shipped with skgw, trained by ``benchmarks/train_ulot_sbm.py``.

    Parameters
    ----------
    name : {"sbm"}, default="sbm"
        ``"sbm"``: trained on pairs of the ULOT paper's SBM graphs
        (:func:`skgw.datasets.make_sbm_graphs`, 30-58 nodes, 3 node features) with
        :math:`(\\alpha, \\rho)` drawn from ULOT's law.
    device : str, default="auto"

    Returns
    -------
    predictor : FUGWPlanPredictor
        Fitted, ready to ``predict``.
    """
    if name not in PRETRAINED:
        raise ValueError(f"Unknown pretrained model {name!r}; available: {sorted(PRETRAINED)}.")
    with resources.as_file(resources.files(__package__) / "data" / PRETRAINED[name]) as path:
        return load_predictor(path, device=device)
