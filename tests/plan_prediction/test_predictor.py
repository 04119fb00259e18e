import hashlib
import pickle
import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.cluster import SpectralClustering
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import adjusted_rand_score

from skgw import FUGWPlanPredictor, Graph
from skgw.datasets import make_sbm_graphs
from skgw.ot import fugw_loss, fugw_plan
from skgw.plan_prediction import (
    load_predictor,
    load_pretrained,
    normalized_fugw_inputs,
    sample_trade_offs,
    save_predictor,
)
from skgw.plan_prediction import predictor as predictor_module

SMALL = dict(
    hidden_dim=16,
    gcn_dim=8,
    attention_dim=16,
    n_layers=2,
    max_iter=4,
    n_pairs_per_epoch=128,
    batch_size=32,
    n_validation_pairs=32,
    random_state=0,
    device="cpu",
)


def _apart(pairs):
    """Sources and targets of a list of (source, target) pairs: predict(X, Y)'s arguments."""
    return [source for source, _ in pairs], [target for _, target in pairs]


@pytest.fixture(scope="module")
def graphs():
    return make_sbm_graphs(30, n_nodes=(6, 12), random_state=0)[0]


@pytest.fixture(scope="module")
def fitted(graphs):
    return FUGWPlanPredictor(**SMALL).fit(graphs)


def test_fit_attributes_and_training(fitted):
    assert fitted.n_iter_ == 4 and len(fitted.validation_loss_curve_) == 4
    best = fitted.best_epoch_
    assert fitted.validation_loss_curve_[best] == min(fitted.validation_loss_curve_)
    assert fitted.validation_loss_curve_[best] < fitted.validation_loss_curve_[0] or best == 0
    assert fitted.n_node_features_ == 3 and isinstance(fitted.reference_, Graph)
    assert not hasattr(fitted, "n_features_in_")


def test_log_loss_objective_sharp_plan_head_and_cosine_schedule(graphs, fitted):
    params = dict(sinkhorn_max_iter=5, objective="log_loss", learning_rate_schedule="cosine")
    model = FUGWPlanPredictor(**{**SMALL, **params}).fit(graphs)
    # The curves are mean log losses, below log(max loss) < 0 on these normalised problems.
    assert np.all(np.isfinite(model.validation_loss_curve_))
    paper = FUGWPlanPredictor(**{**SMALL, "objective": "loss", "sinkhorn_max_iter": 0}).fit(graphs)
    assert max(model.validation_loss_curve_) < 0 < min(paper.validation_loss_curve_)
    pairs = [(graphs[k], graphs[k + 1]) for k in range(0, 10, 2)]
    losses = model.predict_loss(*_apart(pairs), alpha=0.5, rho=0.1)
    plans = model.predict(*_apart(pairs), alpha=0.5, rho=0.1)
    assert np.all(np.isfinite(losses)) and all(np.all(P >= 0) for P in plans)
    assert not np.allclose(losses, paper.predict_loss(*_apart(pairs), alpha=0.5, rho=0.1))


def test_predict_pairs_and_singles(graphs, fitted):
    plans = fitted.predict([graphs[0], graphs[2]], [graphs[1], graphs[3]])
    assert isinstance(plans, list) or plans.shape[0] == 2
    assert plans[0].shape == (graphs[0].n_nodes, graphs[1].n_nodes)
    assert all(np.all(plan >= 0) and plan.sum() <= 1 + 1e-6 for plan in plans)
    singles = fitted.predict(graphs[:3])
    m = fitted.reference_.n_nodes
    assert [plan.shape for plan in singles] == [(g.n_nodes, m) for g in graphs[:3]]
    same_size = [g for g in graphs if g.n_nodes == graphs[0].n_nodes][:2]
    assert fitted.predict(same_size).shape == (len(same_size), graphs[0].n_nodes, m)


def test_per_call_trade_offs_change_the_plans(graphs, fitted):
    pair = [(graphs[0], graphs[1])]
    default = fitted.predict(*_apart(pair))[0]
    np.testing.assert_array_equal(fitted.predict(*_apart(pair), alpha=0.5, rho=1.0)[0], default)
    assert not np.allclose(fitted.predict(*_apart(pair), rho=1e-3)[0], default)
    for alpha in (1.5, np.nan):
        with pytest.raises(ValueError, match="alpha must be in"):
            fitted.predict(*_apart(pair), alpha=alpha)
    with pytest.raises(ValueError, match="rho must be positive"):
        fitted.predict(*_apart(pair), rho=np.nan)
    with pytest.raises(
        ValueError, match=r"rho must be a scalar or have one value per sample \(1\)"
    ):
        fitted.predict(*_apart(pair), rho=[1.0, 2.0])
    np.testing.assert_array_equal(fitted.predict(*_apart(pair), alpha=[0.5], rho=[1.0])[0], default)


def test_predicted_loss_is_the_fugw_loss_of_the_normalized_problem(graphs, fitted):
    P = fitted.predict([graphs[4]], [graphs[5]], alpha=0.3, rho=0.2)[0]
    inputs = normalized_fugw_inputs(graphs[4], graphs[5])
    expected = fugw_loss(
        torch.as_tensor(P)[None],
        *(torch.tensor(inputs[k])[None] for k in ("Cs", "Ct", "ws", "wt")),
        D=torch.as_tensor(inputs["D"])[None],
        alpha=0.3,
        rho=0.2,
    )
    loss = fitted.predict_loss([graphs[4]], [graphs[5]], alpha=0.3, rho=0.2)
    np.testing.assert_allclose(loss, expected.numpy(), rtol=1e-4)


def test_subset_order_formats_pickle_and_idempotence(graphs, fitted):
    pairs = [(graphs[i], graphs[i + 1]) for i in range(0, 12, 2)]
    full = fitted.predict(*_apart(pairs))
    order = [3, 0, 5, 1, 4, 2]
    reordered = fitted.predict(*_apart([pairs[i] for i in order]))
    for k, i in enumerate(order):
        np.testing.assert_allclose(reordered[k], full[i], atol=1e-7)
    np.testing.assert_allclose(fitted.predict(*_apart(pairs[2:3]))[0], full[2], atol=1e-7)
    singles = fitted.predict(graphs[:3])
    sparse = [(sp.csr_matrix(g.C), g.F) for g in graphs[:3]]
    networkx = []
    for g in graphs[:3]:
        G = nx.from_numpy_array(g.C)
        nx.set_node_attributes(G, dict(enumerate(g.F)), "x")
        networkx.append(G)
    for version in (sparse, networkx):
        for a, b in zip(fitted.predict(version), singles, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-7)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(*_apart(pairs))[0], full[0])
    again = clone(fitted).fit(graphs)
    np.testing.assert_array_equal(again.predict(*_apart(pairs))[0], full[0])


def test_rejects_other_feature_dimensions(fitted):
    with pytest.raises(ValueError, match="Graph 0: has 2 node features"):
        fitted.predict([(np.eye(3), np.ones((3, 2)))])


@pytest.mark.parametrize("inner", ["mm", "ibpp"])
def test_refine_warm_start_improves_and_counts_iterations(graphs, fitted, inner):
    pairs = [(graphs[i], graphs[i + 1]) for i in range(0, 8, 2)]
    predicted = fitted.predict_loss(*_apart(pairs), rho=0.5)
    refined, n_iter = fitted.refine(*_apart(pairs), rho=0.5, inner=inner, return_n_iter=True)
    assert n_iter.shape == (4,) and np.all(n_iter >= 1)
    for pair, plan, before in zip(pairs, refined, predicted, strict=True):
        inputs = {k: None if v is None else torch.as_tensor(v)[None]
                  for k, v in normalized_fugw_inputs(*pair).items()}  # fmt: skip
        after = fugw_loss(
            torch.as_tensor(plan)[None], inputs["Cs"], inputs["Ct"], inputs["ws"], inputs["wt"],
            D=inputs["D"], alpha=0.5, rho=0.5,
        )  # fmt: skip
        assert float(after) <= before + 1e-6


def test_refine_warns_once_over_all_its_batches(graphs, fitted, monkeypatch):
    monkeypatch.setattr(predictor_module, "PREDICT_BATCH_SIZE", 2)
    pairs = [(graphs[i], graphs[i + 1]) for i in range(0, 10, 2)]
    with pytest.warns(ConvergenceWarning) as record:
        _, n_iter = fitted.refine(*_apart(pairs), rho=0.5, max_iter=1, return_n_iter=True)
    messages = [str(w.message) for w in record if issubclass(w.category, ConvergenceWarning)]
    assert len(messages) == 1 and messages[0].startswith("FUGWPlanPredictor.refine: 5 of 5")
    np.testing.assert_array_equal(n_iter, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted.solve(*_apart(pairs), rho=0.5, tol=0.0, max_iter=1)


def test_pairwise_plan_mass(graphs, fitted):
    masses = fitted.pairwise_plan_mass(graphs[:5], rho=0.05)
    np.testing.assert_allclose(masses, masses.T)
    plans = fitted.predict([graphs[1], graphs[3]], [graphs[3], graphs[1]], rho=0.05)
    np.testing.assert_allclose(masses[1, 3], (plans[0].sum() + plans[1].sum()) / 2, rtol=1e-6)
    assert fitted.pairwise_plan_mass(graphs[:2], graphs[2:5]).shape == (2, 3)


def test_plan_gradients_match_finite_differences(graphs):
    model = FUGWPlanPredictor(**{**SMALL, "max_iter": 1, "dtype": "float64"}).fit(graphs)
    g1, g2 = graphs[0], graphs[1]
    A1, F1 = torch.tensor(g1.C), torch.tensor(g1.F)
    A2, F2 = torch.tensor(g2.C), torch.tensor(g2.F)
    weights = torch.rand(g1.n_nodes, g2.n_nodes, generator=torch.Generator().manual_seed(0),
                         dtype=torch.float64)  # fmt: skip

    def objective(alpha, rho, F=F1):
        return (model.plan_tensor((A1, F), (A2, F2), alpha, rho) * weights).sum()

    alpha = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    rho = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    F = F1.clone().requires_grad_(True)
    objective(alpha, rho, F).backward()
    h = 1e-6
    for name, grad, shifted in (
        ("alpha", alpha.grad, lambda s: objective(0.4 + s, 0.3)),
        ("rho", rho.grad, lambda s: objective(0.4, 0.3 + s)),
    ):
        with torch.no_grad():
            numeric = (shifted(h) - shifted(-h)) / (2 * h)
        np.testing.assert_allclose(float(grad), float(numeric), rtol=1e-4, atol=1e-9, err_msg=name)
    assert F.grad is not None and torch.isfinite(F.grad).all() and F.grad.abs().sum() > 0


def test_plan_tensor_casts_float32_and_checks_its_inputs(graphs, fitted):
    g1, g2 = graphs[0], graphs[1]
    A1 = torch.tensor(g1.C, dtype=torch.float32)
    F1 = torch.tensor(g1.F, dtype=torch.float32, requires_grad=True)
    target = (g2.C, g2.F)  # arrays are accepted too
    P = fitted.plan_tensor((A1, F1), target, 0.5, 1.0)
    expected = fitted.predict([g1], [g2])[0]
    np.testing.assert_allclose(P.detach().numpy(), expected, rtol=1e-5, atol=1e-8)
    P.sum().backward()
    assert F1.grad is not None and F1.grad.dtype == torch.float32 and F1.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="alpha must be in"):
        fitted.plan_tensor((A1, F1), target, 1.5, 1.0)
    with pytest.raises(ValueError, match="rho must be positive"):
        fitted.plan_tensor((A1, F1), target, 0.5, torch.tensor(-1.0))
    with pytest.raises(ValueError, match="source: node features must have shape"):
        fitted.plan_tensor((A1, F1[:, :1]), target, 0.5, 1.0)
    with pytest.raises(ValueError, match="target: adjacency must be a nonempty square"):
        fitted.plan_tensor((A1, F1), (g2.C[:, :2], g2.F), 0.5, 1.0)
    with pytest.raises(TypeError, match="source must be a tuple"):
        fitted.plan_tensor(A1, target, 0.5, 1.0)
    with pytest.raises(ValueError, match=r"node features must have shape \(\d+, 3\), got None"):
        fitted.plan_tensor((A1, None), target, 0.5, 1.0)
    as_graph = fitted.plan_tensor(g1, g2, 0.5, 1.0)  # Graph objects are read as (C, F, p)
    np.testing.assert_allclose(as_graph.detach().numpy(), expected, rtol=1e-10)


def test_plan_tensor_of_a_model_without_features(graphs):
    structures = [Graph(g.C, g.p) for g in graphs]
    model = FUGWPlanPredictor(**{**SMALL, "max_iter": 1}).fit(structures)
    g1, g2 = structures[0], structures[1]
    expected = model.predict([g1], [g2], alpha=0.5, rho=0.3)[0]
    as_mappings = ({"C": g1.C, "p": g1.p}, {"C": g2.C, "p": g2.p})  # a pair of bare structures
    np.testing.assert_allclose(
        model.predict([as_mappings[0]], [as_mappings[1]], alpha=0.5, rho=0.3)[0], expected
    )
    for source, target in [(g1, g2), ((g1.C, None), (g2.C, None, g2.p))]:
        P = model.plan_tensor(source, target, 0.5, 0.3)
        np.testing.assert_allclose(P.detach().numpy(), expected, rtol=1e-10)
    empty = np.zeros((g1.n_nodes, 0))  # no feature columns
    P = model.plan_tensor((g1.C, empty), g2, 0.5, 0.3)
    np.testing.assert_allclose(P.detach().numpy(), expected, rtol=1e-10)


def test_pretrained_model_predicts_sbm_plans_and_clusters_by_mass():
    model = load_pretrained(device="cpu")
    graphs, y = make_sbm_graphs(30, random_state=1)
    plans = model.predict([graphs[0]], [graphs[1]], alpha=0.5, rho=1.0)
    assert plans.shape == (1, graphs[0].n_nodes, graphs[1].n_nodes)
    affinity = model.pairwise_plan_mass(graphs, alpha=0.5, rho=1e-2)
    labels = SpectralClustering(3, affinity="precomputed", random_state=0).fit_predict(affinity)
    assert adjusted_rand_score(y, labels) > 0.9  # chance: 0; 1.0 with the shipped model


def test_save_and_load_round_trip(graphs, fitted, tmp_path):
    path = tmp_path / "model.pt"
    save_predictor(fitted, path)
    restored = load_predictor(path, device="cpu")
    pairs = [(graphs[0], graphs[1]), (graphs[2], graphs[3])]
    expected = fitted.predict(*_apart(pairs), alpha=0.3, rho=0.2)
    for P, P_expected in zip(
        restored.predict(*_apart(pairs), alpha=0.3, rho=0.2), expected, strict=True
    ):
        np.testing.assert_array_equal(P, P_expected)
    assert restored.loss_curve_ == list(fitted.loss_curve_)
    assert restored.best_epoch_ == fitted.best_epoch_
    with pytest.raises(TypeError, match="writes a FUGWPlanPredictor, got str"):
        save_predictor("model", tmp_path / "other.pt")
    with pytest.raises(NotFittedError):
        save_predictor(FUGWPlanPredictor(), tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_text("not a model")
    with pytest.raises(ValueError, match="junk.pt is not a file written by save_predictor"):
        load_predictor(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "tensors.pt")
    with pytest.raises(ValueError, match="tensors.pt is not a file written by save_predictor"):
        load_predictor(tmp_path / "tensors.pt")


def test_training_law_and_normalized_inputs_check_their_arguments(graphs):
    alpha, rho = sample_trade_offs(2000, 0)
    np.testing.assert_array_equal(alpha, sample_trade_offs(2000, np.random.RandomState(0))[0])
    assert 0.03 < np.mean(alpha == 0.0) < 0.07 and 0.03 < np.mean(alpha == 1.0) < 0.07
    assert np.all((rho >= np.exp(-9.0)) & (rho <= 1.0))
    inputs = normalized_fugw_inputs((graphs[0].C, graphs[0].F), graphs[1])  # any single graph
    assert inputs["D"].shape == (graphs[0].n_nodes, graphs[1].n_nodes)
    with pytest.raises(ValueError, match="structure must be one of"):
        normalized_fugw_inputs(graphs[0], graphs[1], structure="distances")
    with pytest.raises(ValueError, match="Graph 1: has 0 node features while graph 0 has 3"):
        normalized_fugw_inputs(graphs[0], graphs[1].C)
    with pytest.raises(ValueError, match="Graph 1: has 2 node features while graph 0 has 3"):
        normalized_fugw_inputs(graphs[0], (graphs[1].C, graphs[1].F[:, :2]))


def test_fit_on_given_pairs_with_fixed_trade_offs_and_reference(graphs):
    # With validation_fraction=0 the validation pairs are the given pairs themselves, and with
    # fixed trade-offs their objective is the mean log loss of the kept network's predictions at
    # the constructor's (alpha, rho).
    pairs = [(graphs[k], graphs[k + 1]) for k in range(0, 20, 2)]
    params = dict(alpha=0.3, rho=0.1, trade_off_sampling="fixed", validation_fraction=0.0)
    model = FUGWPlanPredictor(**{**SMALL, **params, "reference": graphs[25]})
    model.fit(graphs[:20], pairs=[(k, k + 1) for k in range(0, 20, 2)])
    kept = model.validation_loss_curve_[model.best_epoch_]
    np.testing.assert_allclose(kept, np.mean(np.log(model.predict_loss(*_apart(pairs)))), rtol=1e-4)
    other = np.mean(np.log(model.predict_loss(*_apart(pairs), alpha=0.9, rho=1.0)))
    assert not np.isclose(kept, other, rtol=1e-2)
    np.testing.assert_array_equal(model.reference_.C, graphs[25].C)
    assert model.predict([graphs[3]])[0].shape == (graphs[3].n_nodes, graphs[25].n_nodes)
    with pytest.raises(ValueError, match="Graph 0: has 0 node features, the model was fitted"):
        FUGWPlanPredictor(**{**SMALL, "reference": graphs[0].C}).fit(graphs)


def test_non_finite_validation_loss_stops_training(graphs, monkeypatch):
    losses = iter([-1.0, -2.0, np.nan, -3.0])
    monkeypatch.setattr(FUGWPlanPredictor, "_mean_objective", lambda *args: next(losses))
    with pytest.warns(RuntimeWarning, match="became nan at epoch 2.*epoch 1 are kept"):
        model = FUGWPlanPredictor(**SMALL).fit(graphs)
    assert model.n_iter_ == 2 and model.best_epoch_ == 1
    assert model.validation_loss_curve_ == [-1.0, -2.0]
    assert all(np.all(np.isfinite(P)) for P in model.predict(graphs[:3]))
    losses = iter([np.inf])
    with pytest.raises(FloatingPointError, match="became inf at epoch 0"):
        FUGWPlanPredictor(**SMALL).fit(graphs)


@pytest.mark.parametrize(
    "spoil, message",
    [
        (
            lambda A, F, p: (np.where(np.eye(len(A)) > 0, np.nan, A), F, p),
            "NaN or infinite entries in the adjacency",
        ),
        (lambda A, F, p: (A, F * np.inf, p), "NaN or infinite entries in the node features"),
        (lambda A, F, p: (-A, F, p), "adjacency has negative entries"),
        (lambda A, F, p: (A, F, np.zeros_like(p)), "node weights must be nonnegative"),
        (lambda A, F, p: (A, F, p - p.max()), "node weights must be nonnegative"),
    ],
)
def test_f3_plan_tensor_checks_the_numbers(graphs, fitted, spoil, message):
    # NaN structures and all-zero weights used to give an all-NaN plan, negative weights a plan.
    g = graphs[0]
    with pytest.raises(ValueError, match="source: " + message):
        fitted.plan_tensor(spoil(g.C, g.F, g.p), graphs[1], 0.5, 1.0)


def _fit_and_predict(graphs, seed):
    model = FUGWPlanPredictor(**{**SMALL, "max_iter": 2, "random_state": seed}).fit(graphs)
    return model.predict([graphs[0]], [graphs[1]])


def test_f10_fits_in_threads_are_the_serial_fits(graphs):
    # The network used to be initialised from the global torch RNG, seeded in each thread.
    from concurrent.futures import ThreadPoolExecutor

    serial = [_fit_and_predict(graphs, seed) for seed in range(3)]
    for _ in range(2):
        with ThreadPoolExecutor(3) as pool:
            threaded = list(pool.map(lambda seed: _fit_and_predict(graphs, seed), range(3)))
        for seed in range(3):
            np.testing.assert_array_equal(threaded[seed], serial[seed])


def test_f11_an_interrupted_refit_keeps_the_previous_model(graphs, monkeypatch):
    model = FUGWPlanPredictor(**{**SMALL, "max_iter": 2}).fit(graphs)
    state = dict(vars(model))
    before = model.predict([graphs[0]], [graphs[1]])
    calls = []

    def interrupted(self, loss):
        calls.append(1)
        if len(calls) > 2:
            raise KeyboardInterrupt
        return loss.mean()

    monkeypatch.setattr(FUGWPlanPredictor, "_objective", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.set_params(random_state=1).fit(graphs)
    monkeypatch.undo()
    assert vars(model).keys() == state.keys()
    assert all(vars(model)[key] is value for key, value in state.items() if key != "random_state")
    np.testing.assert_array_equal(model.predict([graphs[0]], [graphs[1]]), before)
    # An interrupted first fit leaves no fitted attribute behind.
    fresh = FUGWPlanPredictor(**SMALL)
    monkeypatch.setattr(FUGWPlanPredictor, "_objective", interrupted)
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(graphs)
    with pytest.raises(NotFittedError):
        fresh.predict(graphs[:1])


def test_f12_one_large_graph_does_not_pad_the_others(fitted, graphs, monkeypatch):
    # Every pair used to be padded to the largest graph of its batch of 256.
    import skgw.plan_prediction.predictor as predictor

    large = make_sbm_graphs(1, n_nodes=(120, 120), random_state=1)[0]
    samples = list(graphs[:20]) + large
    widths = []
    pad_side = predictor.pad_side

    def recording(sides, device, dtype):
        side = pad_side(sides, device, dtype)
        widths.append((len(sides), side.S.shape[1]))
        return side

    monkeypatch.setattr(predictor, "pad_side", recording)
    monkeypatch.setattr(predictor, "MIN_BATCH_ENTRIES", 0)  # the tiny graphs' batches are cut too
    plans = fitted.predict(samples)
    monkeypatch.undo()
    padded = sum(b * n * n for b, n in widths)
    assert padded < 2 * (sum(g.n_nodes**2 for g in samples) + len(samples) * 12**2)
    # The same plans as predicted one at a time.
    for k in (0, 20):
        np.testing.assert_allclose(plans[k], fitted.predict([samples[k]])[0], atol=1e-12)
    # Training batches are cut the same way, with the gradient of the whole batch.
    model = FUGWPlanPredictor(**{**SMALL, "max_iter": 1}).fit(list(graphs[:12]) + large)
    monkeypatch.setattr(predictor, "MIN_BATCH_ENTRIES", 2**40)  # one padded batch
    whole = FUGWPlanPredictor(**{**SMALL, "max_iter": 1}).fit(list(graphs[:12]) + large)
    np.testing.assert_allclose(model.loss_curve_, whole.loss_curve_, rtol=1e-4)


def test_f13_a_text_file_is_not_a_model(tmp_path):
    # torch's unpickler let a KeyError escape on a text file.
    (tmp_path / "notes.txt").write_text("hello world\n" * 10)
    with pytest.raises(ValueError, match="notes.txt is not a file written by save_predictor"):
        load_predictor(tmp_path / "notes.txt")


def _saved(fitted, tmp_path):
    save_predictor(fitted, tmp_path / "model.pt")
    return torch.load(tmp_path / "model.pt", weights_only=True)


def _first_weight(saved):
    return next(iter(saved["state_dict"]))


@pytest.mark.parametrize(
    "spoil, message",
    [
        (lambda s: s["state_dict"].__setitem__(_first_weight(s), torch.zeros(3, 3)), "has shape"),
        (lambda s: s["state_dict"].pop(_first_weight(s)), "missing \\['first"),
        (lambda s: s["state_dict"].__setitem__("extra", torch.zeros(1)), "unexpected \\['extra"),
        (lambda s: s.__setitem__("n_features", 7), "n_features=7 does not match"),
        (lambda s: s.__setitem__("n_node_features", -1), "n_node_features must be"),
        (lambda s: s["params"].__setitem__("hidden_dim", -1), "'hidden_dim' parameter"),
        (lambda s: s["params"].__setitem__("colour", "red"), "parameters are not those"),
        (lambda s: s["reference"].pop(), "reference graph has 0 node features"),
        (lambda s: s["reference"][1].mul_(-1.0), "Graph 0: node weights are negative"),
        (lambda s: s.__setitem__("best_epoch", 99), "best_epoch=99"),
        (lambda s: s["state_dict"][_first_weight(s)].fill_(float("nan")), "has NaN or infinite"),
    ],
)
def test_f14_f15_saved_models_are_checked_on_load(fitted, tmp_path, spoil, message):
    # Wrong shapes, missing tensors, bad parameters gave raw torch errors; NaN weights loaded.
    saved = _saved(fitted, tmp_path)
    saved.pop("checksum")  # a file without checksum, as older versions wrote, is still checked
    spoil(saved)
    torch.save(saved, tmp_path / "spoiled.pt")
    with pytest.raises(ValueError, match="spoiled.pt is not a valid saved predictor: .*" + message):
        load_predictor(tmp_path / "spoiled.pt")


def test_f15_flipped_bytes_are_detected(fitted, tmp_path):
    saved = _saved(fitted, tmp_path)
    name = _first_weight(saved)
    flipped = saved["state_dict"][name].clone()
    flipped.view(-1)[0] = torch.nextafter(flipped.view(-1)[0], torch.tensor(np.inf))
    saved["state_dict"][name] = flipped
    torch.save(saved, tmp_path / "flipped.pt")
    with pytest.raises(ValueError, match="flipped.pt is damaged"):
        load_predictor(tmp_path / "flipped.pt")
    # Bytes flipped in the file itself: the file's digest differs from the one expected.
    raw = bytearray((tmp_path / "model.pt").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "raw.pt").write_bytes(bytes(raw))
    digest = hashlib.sha256((tmp_path / "model.pt").read_bytes()).hexdigest()
    assert load_predictor(tmp_path / "model.pt", sha256=digest).n_iter_ == fitted.n_iter_
    with pytest.raises(ValueError, match="raw.pt has SHA-256 .* expected"):
        load_predictor(tmp_path / "raw.pt", sha256=digest)


def test_the_shipped_model_is_checked_against_its_digest(monkeypatch, tmp_path):
    from skgw.plan_prediction import _pretrained

    filename, digest = _pretrained.PRETRAINED["sbm"]
    assert load_pretrained(device="cpu").n_node_features_ == 3
    monkeypatch.setitem(_pretrained.PRETRAINED, "sbm", (filename, "0" * 64))
    with pytest.raises(ValueError, match="ulot_sbm.pt has SHA-256 " + digest):
        load_pretrained(device="cpu")


def test_solve_and_plan_loss_compare_predictions_with_the_solver(fitted, graphs):
    samples = [(graphs[0], graphs[1]), (graphs[2], graphs[3]), (graphs[4], fitted.reference_)]
    predicted = fitted.predict(*_apart(samples), alpha=0.4, rho=0.5)
    np.testing.assert_allclose(
        fitted.plan_loss(*_apart(samples), plans=predicted, alpha=0.4, rho=0.5),
        fitted.predict_loss(*_apart(samples), alpha=0.4, rho=0.5),
        rtol=1e-10,
    )
    solved, steps = fitted.solve(
        *_apart(samples), alpha=0.4, rho=0.5, max_iter=200, return_n_iter=True
    )
    source, target = (fitted._pairs(*_apart(samples))[0][side] for side in (0, 1))
    tensors = [torch.tensor(a)[None] for a in (source.S, target.S, source.p, target.p)]
    alone = fugw_plan(*tensors, D=None if not source.has_features else _pair_cost(source, target),
                      alpha=0.4, rho=0.5, max_iter=200)  # fmt: skip
    np.testing.assert_allclose(solved[0], alone[0].numpy(), atol=1e-10)
    assert steps.shape == (3,) and (steps >= 1).all()
    losses = fitted.plan_loss(*_apart(samples), plans=solved, alpha=0.4, rho=0.5)
    assert np.isfinite(losses).all() and (losses > 0).all()
    with pytest.raises(ValueError, match="Plan 1: shape"):
        fitted.plan_loss(
            *_apart(samples), plans=[solved[0], solved[0], solved[2]], alpha=0.4, rho=0.5
        )
    with pytest.raises(ValueError, match="Plan 0: entries must be finite and nonnegative"):
        fitted.plan_loss(
            *_apart(samples), plans=[-solved[0], solved[1], solved[2]], alpha=0.4, rho=0.5
        )
    with pytest.raises(ValueError, match="2 plans for 3 samples"):
        fitted.plan_loss(*_apart(samples), plans=solved[:2], alpha=0.4, rho=0.5)


def _pair_cost(source, target):
    from skgw.plan_prediction._problem import pad_side, pair_feature_cost

    return pair_feature_cost(
        pad_side([source], "cpu", torch.float64), pad_side([target], "cpu", torch.float64), True
    )


def test_a_networkx_pair_without_features_is_told_where_they_go(fitted):
    pair = (nx.cycle_graph(5), nx.path_graph(6))
    with pytest.raises(ValueError, match="fitted on graphs with 3 per node.*node attribute 'x'"):
        fitted.predict(*_apart([pair]))
    for graph in pair:
        nx.set_node_attributes(graph, {v: np.ones(3) for v in graph}, "x")
    assert fitted.predict(*_apart([pair])).shape == (1, 5, 6)


def test_pairs_are_given_explicitly(graphs, fitted):
    with pytest.raises(TypeError, match=r"X\[0\] is a 2-tuple of graphs.*predict\(\[a\], \[b\]\)"):
        fitted.predict([(graphs[0], graphs[1])])
    with pytest.raises(ValueError, match="X has 2 graphs and Y 1"):
        fitted.predict(graphs[:2], graphs[2:3])
    for pairs in ([(0, 40)], [(0.5, 1)], np.zeros((0, 2), dtype=int), [0, 1]):
        with pytest.raises(ValueError, match="pairs must"):
            FUGWPlanPredictor(**SMALL).fit(graphs, pairs=pairs)
    plans = fitted.predict(graphs[:2], graphs[2:4])
    assert plans[1].shape == (graphs[1].n_nodes, graphs[3].n_nodes)
