"""The shared base of the graph estimators: parameter constraints, input validation, tags,
torch device and dtype, and pickling with every tensor on the CPU."""

import copy

import torch
from sklearn.utils._param_validation import StrOptions

from ._batching import DTYPES, resolve_device, resolve_dtype
from ._graphs import NODE_WEIGHTS, STRUCTURES, validate_graphs

__all__ = ["GraphEstimatorMixin", "shared_constraints"]

_SHARED_CONSTRAINTS = {
    "structure": [StrOptions(set(STRUCTURES))],
    "node_weights": [StrOptions(set(NODE_WEIGHTS))],
    "device": [str, torch.device],
    "dtype": [StrOptions(set(DTYPES))],
    "solver_params": [dict, None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


def shared_constraints(*names):
    """The constraints of the parameters every graph estimator spells and checks alike: those
    of ``names``, or all of them when none is named."""
    return {name: _SHARED_CONSTRAINTS[name] for name in names or _SHARED_CONSTRAINTS}


class GraphEstimatorMixin:
    """Mixin of the graph estimators (before :class:`~sklearn.base.BaseEstimator` in the bases).

    ``_validated`` reads inputs with the estimator's ``structure`` and ``node_weights`` (and,
    after ``fit``, the node feature count of the training graphs, from ``_n_node_features``);
    ``_device`` and ``_dtype`` resolve the torch settings; a pickle holds every fitted tensor and
    torch module on the CPU, so a model fitted on a GPU loads on a machine without one (the
    estimator moves them to its ``device`` when it next uses them).
    """

    def _validated(self, X, reset):
        """The graphs of ``X`` (:func:`~skgw._graphs.validate_graphs`), checked against the
        training graphs' feature count unless ``reset``."""
        return validate_graphs(
            self,
            X,
            reset=reset,
            structure=self.structure,
            node_weights=self.node_weights,
            n_node_features=None if reset else self._n_node_features(),
        )

    def _n_node_features(self):
        """Node features per node of the training graphs (after ``fit``)."""
        raise NotImplementedError

    def _device(self):
        return resolve_device(self.device)

    def _dtype(self):
        return resolve_dtype(self.dtype)

    def __getstate__(self):
        state = super().__getstate__()
        return {name: _on_cpu(value) for name, value in state.items()}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float64"]
        return tags


def _on_cpu(value):
    """A tensor or torch module as a CPU copy; anything else as it is."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, torch.nn.Module):
        return copy.deepcopy(value).cpu()
    return value
