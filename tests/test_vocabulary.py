"""One vocabulary across skgw: every public signature spells a concept one way, with one default
(doc/user_guide/glossary.rst)."""

import inspect
import pickle
import re

import numpy as np
import pytest
import torch

import skgw
import skgw.datasets
import skgw.ot
import skgw.plan_prediction

ESTIMATORS = [
    skgw.FGWKernel,
    skgw.FUGWPlanPredictor,
    skgw.GWBarycenterKMeans,
    skgw.GromovWassersteinFactorization,
]
# Old names that must not come back (glossary, "Renamed parameters").
RETIRED = {"beta", "gamma", "eps", "n_iter", "n_inner", "plan_init"}
ITERATION_COUNT = re.compile(r"^n_.*iter.*$|^n_sinkhorn.*$")


def _public_callables():
    """Every public function, estimator and estimator method of skgw, by a readable name."""
    found = {}
    for module in (skgw, skgw.ot, skgw.plan_prediction):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                found[f"{name}.__init__"] = obj.__init__
                for method, function in inspect.getmembers(obj, inspect.isfunction):
                    if not method.startswith("_") and function.__module__.startswith("skgw"):
                        found[f"{name}.{method}"] = function
            elif callable(obj):
                found[name] = obj
    return found


CALLABLES = _public_callables()


def _parameters(function):
    return inspect.signature(function).parameters.values()


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_names_follow_the_glossary(name):
    for parameter in _parameters(CALLABLES[name]):
        assert parameter.name not in RETIRED, f"{name}: retired name {parameter.name!r}"
        assert not ITERATION_COUNT.match(parameter.name), (
            f"{name}: iteration count {parameter.name!r} should be spelled *_max_iter"
        )
        default = parameter.default
        if parameter.name == "solver" and isinstance(default, str):
            assert default in ("ppa", "badmm"), f"{name}: solver names an algorithm"
        if parameter.name == "backend":
            assert default in ("pot", "torch"), f"{name}: backend is pot or torch"
        if parameter.name == "dtype" and name.split(".")[0] in {e.__name__ for e in ESTIMATORS}:
            assert default == "float32", f"{name}: dtype defaults to float32"
        if parameter.name == "dtype" and name == "pairwise_gw_distances":
            assert default == "float32"
        if parameter.name == "device":
            assert default in ("auto", "cpu"), f"{name}: device default {default!r}"
        if parameter.name == "verbose":
            assert default == 0, f"{name}: verbose defaults to 0"


def test_the_solver_backend_split_and_shared_spellings():
    names = {e.__name__: set(e().get_params()) for e in ESTIMATORS}
    assert "backend" in names["FGWKernel"] and "solver" not in names["FGWKernel"]
    assert "backend" in names["GWBarycenterKMeans"] and "solver" not in names["GWBarycenterKMeans"]
    assert "solver" in names["GromovWassersteinFactorization"]
    assert "bandwidth" in names["FGWKernel"]
    assert "label_weight" in names["GromovWassersteinFactorization"]
    for params in names.values():
        assert {"device", "dtype", "verbose", "structure"} <= params
    assert "backend" in inspect.signature(skgw.pairwise_gw_distances).parameters


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_device_takes_a_torch_device(estimator):
    model = estimator(device=torch.device("cpu"))
    model._validate_params()
    assert model._device() == torch.device("cpu")


def test_retired_names_raise_instead_of_changing_meaning():
    with pytest.raises(TypeError, match="beta"):
        skgw.FGWKernel(beta=0.5)
    with pytest.raises(TypeError, match="gamma"):
        skgw.GromovWassersteinFactorization(gamma=0.1)
    with pytest.raises(ValueError, match="Invalid parameter 'solver'"):
        skgw.FGWKernel().set_params(solver="torch")
    with pytest.raises(TypeError, match="sinkhorn_max_iter"):  # BADMM has no Sinkhorn steps
        skgw.GromovWassersteinFactorization(
            solver="badmm", solver_params={"sinkhorn_max_iter": 3}
        ).fit([np.ones((3, 3)) - np.eye(3)] * 3)
    with pytest.raises(TypeError, match="gamma"):
        skgw.pairwise_gw_distances(
            [np.eye(2), np.ones((2, 2))], backend="torch", solver_params={"gamma": 0.1}
        )


def test_a_fitted_predictor_moves_between_devices_and_pickles_on_the_cpu():
    graphs, _ = skgw.datasets.make_sbm_graphs(12, n_nodes=(6, 9), random_state=0)
    model = skgw.FUGWPlanPredictor(
        hidden_dim=8, gcn_dim=4, attention_dim=8, n_layers=1, max_iter=1, n_pairs_per_epoch=16,
        n_validation_pairs=4, device="cpu", random_state=0,
    ).fit(graphs)  # fmt: skip
    before = model.predict(graphs[:2], graphs[2:4])
    model.set_params(device="cpu:0").set_params(device=torch.device("cpu"))
    restored = pickle.loads(pickle.dumps(model))
    assert all(p.device.type == "cpu" for p in restored.network_.parameters())
    for after, plan in zip(restored.predict(graphs[:2], graphs[2:4]), before, strict=True):
        np.testing.assert_array_equal(after, plan)
