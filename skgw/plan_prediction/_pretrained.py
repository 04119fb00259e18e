"""Saving and loading trained :class:`~skgw.FUGWPlanPredictor` models (torch files)."""

import hashlib
import numbers
from importlib import resources

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._batching import resolve_device
from .._graphs import Graph, as_graphs
from .predictor import FUGWPlanPredictor

__all__ = ["load_predictor", "load_pretrained", "save_predictor"]

# Shipped models: file and SHA-256, checked on every load (a model retrained by
# benchmarks/train_ulot_sbm.py gets its new digest here).
PRETRAINED = {
    "sbm": ("ulot_sbm.pt", "96c6a99c84d2ec76f933f5d2920cd1df4348a8131a95797c91cd22e2ef932096"),
}
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
    """Write a fitted predictor (parameters, network weights, reference graph, curves) and a
    checksum of them, which :func:`load_predictor` verifies."""
    if not isinstance(predictor, FUGWPlanPredictor):
        kind = type(predictor).__name__
        raise TypeError(f"save_predictor writes a FUGWPlanPredictor, got {kind}.")
    check_is_fitted(predictor)
    params = predictor.get_params()
    params.pop("reference")
    reference = predictor.reference_
    contents = {
        "params": params,
        "state_dict": {k: v.cpu() for k, v in predictor.network_.state_dict().items()},
        "n_node_features": predictor.n_node_features_,
        "n_features": predictor.network_.first.project_h.in_features,
        "reference": [torch.tensor(a) for a in (reference.C, reference.p)]
        + ([] if reference.F is None else [torch.tensor(reference.F)]),
        "loss_curve": list(predictor.loss_curve_),
        "validation_loss_curve": list(predictor.validation_loss_curve_),
        "best_epoch": predictor.best_epoch_,
    }
    torch.save({**contents, "checksum": _content_digest(contents)}, path)


def load_predictor(path, *, device="auto", sha256=None):
    """A fitted :class:`~skgw.FUGWPlanPredictor` from a file of :func:`save_predictor`.

    The file is read with ``torch.load(weights_only=True)`` (no code in it is run) and checked
    before use: its contents must match the checksum :func:`save_predictor` wrote with them,
    the parameters must be valid for :class:`~skgw.FUGWPlanPredictor`, the weights
    must have the network's names, shapes and a floating dtype, with finite values, and the
    reference graph must be a valid graph with the model's feature dimension.

    Parameters
    ----------
    path : str or path-like
    device : str, default="auto"
    sha256 : str, default=None
        Expected SHA-256 digest (hexadecimal) of the file; a file that differs (corrupted or
        replaced) is refused before it is read.

    Returns
    -------
    predictor : FUGWPlanPredictor

    Raises
    ------
    ValueError
        The file is not one written by :func:`save_predictor`, or it is damaged; the message
        names the file and what is wrong.
    """
    if sha256 is not None:
        digest = _sha256(path)
        if digest != sha256.lower():
            raise ValueError(
                f"{path} has SHA-256 {digest}, expected {sha256}: the file is corrupted or is "
                "not the expected model."
            )
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch's unpickler raises anything on a foreign file
        raise ValueError(f"{path} is not a file written by save_predictor: {error!r}") from error
    if not isinstance(saved, dict) or not SAVED_KEYS <= saved.keys():
        raise ValueError(f"{path} is not a file written by save_predictor.")
    checksum = saved.pop("checksum", None)  # files of older versions have none
    if checksum is not None and checksum != _content_digest(saved):
        raise ValueError(
            f"{path} is damaged: its contents do not match the checksum written with them."
        )
    try:
        return _predictor_from(saved, device)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"{path} is not a valid saved predictor: {error}") from error


# Parameters renamed since files were first written: old name -> name now.
RENAMED_PARAMS = {"n_sinkhorn_iter": "sinkhorn_max_iter"}


def _predictor_from(saved, device):
    """The predictor described by the contents of a saved file, checked (``load_predictor``)."""
    params = saved["params"]
    if isinstance(params, dict):
        params = {RENAMED_PARAMS.get(name, name): value for name, value in params.items()}
    if not isinstance(params, dict) or not set(params) <= set(FUGWPlanPredictor().get_params()):
        raise ValueError("its parameters are not those of FUGWPlanPredictor.")
    predictor = FUGWPlanPredictor(**{**params, "device": device})
    predictor._validate_params()
    n_node_features, n_features = saved["n_node_features"], saved["n_features"]
    for name, value in (("n_node_features", n_node_features), ("n_features", n_features)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a nonnegative integer, got {value!r}.")
    if n_features != max(n_node_features, 1):
        raise ValueError(
            f"n_features={n_features} does not match n_node_features={n_node_features}."
        )
    network = predictor._build_network(n_features, 0, resolve_device(device), torch.float64)
    _check_state_dict(saved["state_dict"], network.state_dict())
    network.load_state_dict(saved["state_dict"])
    reference = saved["reference"]
    if not isinstance(reference, list) or len(reference) not in (2, 3):
        raise ValueError("the reference graph must be a list [C, p] or [C, p, F] of tensors.")
    if not all(isinstance(t, torch.Tensor) for t in reference):
        raise TypeError("the reference graph must be a list of tensors.")
    C, p, *F = (np.array(t.double().numpy()) for t in reference)
    F = F[0] if F else None
    (checked,) = as_graphs([{"C": C, "p": p, "F": F}])  # the checks; the saved p is kept as is
    if checked.n_node_features != n_node_features:
        raise ValueError(
            f"the reference graph has {checked.n_node_features} node features, the model "
            f"{n_node_features}."
        )
    curves = {key: saved[key] for key in ("loss_curve", "validation_loss_curve")}
    for key, curve in curves.items():
        if not isinstance(curve, list) or not all(isinstance(v, numbers.Real) for v in curve):
            raise ValueError(f"{key} must be a list of numbers.")
    best_epoch = saved["best_epoch"]
    if not isinstance(best_epoch, int) or not 0 <= best_epoch < max(len(curves["loss_curve"]), 1):
        raise ValueError(f"best_epoch={best_epoch!r} is not an epoch of the loss curve.")
    predictor.network_ = network.eval()
    predictor.n_node_features_ = n_node_features
    predictor.reference_ = Graph(C, p, F)
    predictor.loss_curve_ = curves["loss_curve"]
    predictor.validation_loss_curve_ = curves["validation_loss_curve"]
    predictor.best_epoch_ = best_epoch
    predictor.n_iter_ = len(predictor.loss_curve_)
    return predictor


def _check_state_dict(state_dict, expected):
    """``ValueError`` unless ``state_dict`` has the names and shapes of ``expected`` and finite
    floating tensors."""
    if not isinstance(state_dict, dict):
        raise ValueError("its weights are not a state dict.")
    missing, unexpected = expected.keys() - state_dict.keys(), state_dict.keys() - expected.keys()
    if missing or unexpected:
        raise ValueError(
            f"its weights do not fit the network: missing {sorted(missing)}, unexpected "
            f"{sorted(unexpected)}."
        )
    for name, value in state_dict.items():
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise ValueError(f"weight {name} is not a floating tensor.")
        if value.shape != expected[name].shape:
            raise ValueError(
                f"weight {name} has shape {tuple(value.shape)}, the network "
                f"{tuple(expected[name].shape)}."
            )
        if not torch.isfinite(value).all():
            raise ValueError(f"weight {name} has NaN or infinite entries.")


def _content_digest(contents):
    """SHA-256 of what :func:`save_predictor` writes: the weights' and the reference graph's
    bytes, and the text of everything else, so that a flipped bit anywhere is detected."""
    digest = hashlib.sha256()
    for key in sorted(contents):
        value = contents[key]
        digest.update(key.encode())
        if key == "state_dict":
            for name in sorted(value):
                digest.update(name.encode())
                digest.update(value[name].detach().cpu().contiguous().numpy().tobytes())
        elif key == "reference":
            for tensor in value:
                digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_pretrained(name="sbm", *, device="auto"):
    """The model shipped with skgw, trained by ``benchmarks/train_ulot_sbm.py``.

    Parameters
    ----------
    name : {"sbm"}, default="sbm"
        ``"sbm"``: trained on pairs of the ULOT paper's SBM graphs
        (:func:`skgw.datasets.make_sbm_graphs`, 30-58 nodes) with :math:`(\\alpha, \\rho)`
        drawn from ULOT's law. Its graphs have 3 node features per node, the one-hot SBM
        cluster of the node plus Gaussian noise; graphs of other kinds need 3 features too (in
        the node attribute ``"x"`` of networkx graphs, the ``F`` of the other formats).
    device : str, default="auto"

    Returns
    -------
    predictor : FUGWPlanPredictor
        Fitted, ready to ``predict``.

    Raises
    ------
    ValueError
        When the shipped file's SHA-256 is not the one recorded in ``PRETRAINED`` (a damaged
        installation).
    """
    if name not in PRETRAINED:
        raise ValueError(f"Unknown pretrained model {name!r}; available: {sorted(PRETRAINED)}.")
    filename, sha256 = PRETRAINED[name]
    with resources.as_file(resources.files(__package__) / "data" / filename) as path:
        return load_predictor(path, device=device, sha256=sha256)
