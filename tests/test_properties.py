"""Property-based tests of the input layer and the kernels (hypothesis).

CI runs the ``"ci"`` profile: a fixed seed (derandomised) and a small budget. The ``"slow"``
profile draws more examples: ``HYPOTHESIS_PROFILE=slow python -m pytest tests/test_properties.py``.
"""

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skgw import as_graphs
from skgw._batching import pad_graphs
from skgw.ot import feature_cost, fgw_loss, fgw_plan_ppa, fugw_loss, fugw_plan

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("slow", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

finite = st.floats(0.0, 10.0, allow_nan=False, allow_infinity=False)


@st.composite
def graph_arrays(draw, min_nodes=1, max_nodes=7, n_features=2):
    """``(C, F, p)`` of a random weighted graph: symmetric nonnegative C, positive p."""
    n = draw(st.integers(min_nodes, max_nodes))
    C = draw(arrays(np.float64, (n, n), elements=finite))
    C = (C + C.T) / 2
    np.fill_diagonal(C, 0.0)
    F = draw(arrays(np.float64, (n, n_features), elements=st.floats(-5, 5)))
    p = draw(arrays(np.float64, n, elements=st.floats(0.05, 1.0)))
    return C, F, p


@st.composite
def generic_graph_arrays(draw, min_nodes=1, max_nodes=7):
    """:func:`graph_arrays` plus a perturbation drawn from a seeded generator: no two nodes alike
    (no automorphism), so that a solver's plans are defined by the problem, not by rounding."""
    C, F, p = draw(graph_arrays(min_nodes, max_nodes))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    noise = rng.random(C.shape)
    C = C + 0.5 * (noise + noise.T)
    np.fill_diagonal(C, 0.0)
    return C, F + 0.5 * rng.standard_normal(F.shape), p


def _tensors(graph_a, graph_b):
    first, second = pad_graphs([graph_a]), pad_graphs([graph_b])
    return first, second, feature_cost(first.F, second.F)


@given(st.lists(graph_arrays(), min_size=1, max_size=4))
def test_as_graphs_copies_normalises_and_never_mutates(items):
    originals = [tuple(a.copy() for a in item) for item in items]
    graphs = as_graphs(items)
    for graph, (C, F, p), (C0, F0, p0) in zip(graphs, items, originals, strict=True):
        for array, original in ((C, C0), (F, F0), (p, p0)):
            np.testing.assert_array_equal(array, original)  # the input is untouched
        np.testing.assert_array_equal(graph.C, C)
        assert not np.shares_memory(graph.C, C) and not graph.C.flags.writeable
        np.testing.assert_allclose(graph.p.sum(), 1.0)
        np.testing.assert_allclose(graph.p, p / p.sum())


invalid_edits = st.sampled_from(["nan", "inf", "negative", "non-square", "ragged-features"])


@given(st.lists(graph_arrays(min_nodes=2), min_size=1, max_size=4), invalid_edits, st.data())
def test_invalid_graphs_raise_errors_naming_the_graph(items, edit, data):
    bad = data.draw(st.integers(0, len(items) - 1))
    C, F, p = (a.copy() for a in items[bad])
    if edit == "nan":
        C[0, 1] = np.nan
    elif edit == "inf":
        F[0, 0] = np.inf
    elif edit == "negative":
        C[1, 0] = -1.0
    elif edit == "non-square":
        C = C[:, :-1]
    items = list(items)
    items[bad] = (C, [list(F[0]), list(F[1, :1])], p) if edit == "ragged-features" else (C, F, p)
    with pytest.raises(ValueError, match=f"^Graph {bad}: "):
        as_graphs(items)


@given(graph_arrays(), graph_arrays(), st.floats(0.0, 1.0), st.floats(0.05, 1.0))
def test_ppa_plans_are_finite_couplings(graph_a, graph_b, alpha, epsilon):
    first, second, D = _tensors(*as_graphs([graph_a, graph_b]))
    T = fgw_plan_ppa(first.C, second.C, first.p, second.p, D=D, alpha=alpha, epsilon=epsilon)
    assert torch.isfinite(T).all() and (T >= 0).all()
    torch.testing.assert_close(T.sum(2), first.p, rtol=0, atol=1e-6)
    torch.testing.assert_close(T.sum(1), second.p, rtol=0, atol=1e-6)
    assert fgw_loss(first.C, second.C, T, D, alpha).item() >= -1e-12


# On graphs with automorphic nodes (ties, which graph_arrays draws often) the product start is a
# symmetric stationary point, and rounding decides where a solver leaves it: a permutation or
# padding changes the rounding. These properties are checked on generic graphs.


@given(generic_graph_arrays(min_nodes=2), generic_graph_arrays(), st.floats(0.0, 1.0), st.randoms())
def test_ppa_is_permutation_equivariant(graph_a, graph_b, alpha, random):
    a, b = as_graphs([graph_a, graph_b])
    order = list(range(a.n_nodes))
    random.shuffle(order)
    (permuted,) = as_graphs([(a.C[np.ix_(order, order)], a.F[order], a.p[order])])
    first, second, D = _tensors(a, b)
    moved, _, D_moved = _tensors(permuted, b)
    T = fgw_plan_ppa(first.C, second.C, first.p, second.p, D=D, alpha=alpha)
    T_moved = fgw_plan_ppa(moved.C, second.C, moved.p, second.p, D=D_moved, alpha=alpha)
    torch.testing.assert_close(T_moved, T[:, order], rtol=1e-5, atol=1e-8)
    torch.testing.assert_close(
        fgw_loss(moved.C, second.C, T_moved, D_moved, alpha),
        fgw_loss(first.C, second.C, T, D, alpha),
        rtol=1e-5,
        atol=1e-10,
    )
    # The loss is a function of the plan that the permutation leaves unchanged.
    torch.testing.assert_close(
        fgw_loss(moved.C, second.C, T[:, order], D_moved, alpha),
        fgw_loss(first.C, second.C, T, D, alpha),
        rtol=1e-12,
        atol=1e-14,
    )


@given(*[generic_graph_arrays()] * 4, st.floats(0.0, 1.0))
def test_padding_does_not_change_ppa_or_fugw_plans(a, b, c, d, alpha):
    graphs = as_graphs([a, b, c, d])
    sources, targets = pad_graphs(graphs[:2]), pad_graphs(graphs[2:])
    D = feature_cost(sources.F, targets.F)
    problem = dict(D=D, alpha=alpha)
    plans = {
        "ppa": fgw_plan_ppa(sources.C, targets.C, sources.p, targets.p, **problem),
        "fugw": fugw_plan(sources.C, targets.C, sources.p, targets.p, **problem),
    }
    for k in range(2):
        first, second, D_alone = _tensors(graphs[k], graphs[2 + k])
        n, m = graphs[k].n_nodes, graphs[2 + k].n_nodes
        for name, plan in plans.items():
            assert (plan[k, n:] == 0).all() and (plan[k, :, m:] == 0).all()
            inside = plan[k : k + 1, :n, :m].contiguous()
            solver = fgw_plan_ppa if name == "ppa" else fugw_plan
            alone = solver(first.C, second.C, first.p, second.p, D=D_alone, alpha=alpha)
            if name == "ppa":
                losses = [fgw_loss(first.C, second.C, P, D_alone, alpha) for P in (inside, alone)]
            else:
                losses = [
                    fugw_loss(P, first.C, second.C, first.p, second.p, D=D_alone, alpha=alpha)
                    for P in (inside, alone)
                ]
            torch.testing.assert_close(*losses, rtol=1e-5, atol=1e-10)
            torch.testing.assert_close(inside, alone, rtol=1e-5, atol=1e-8)


@given(graph_arrays(), graph_arrays(), st.floats(0.0, 1.0), st.floats(1e-3, 1e3))
def test_fugw_plans_are_finite_and_their_loss_nonnegative(graph_a, graph_b, alpha, rho):
    first, second, D = _tensors(*as_graphs([graph_a, graph_b]))
    for inner in ("mm", "ibpp"):
        P = fugw_plan(first.C, second.C, first.p, second.p, D=D, alpha=alpha, rho=rho, inner=inner)
        assert torch.isfinite(P).all() and (P >= 0).all()
        loss = fugw_loss(P, first.C, second.C, first.p, second.p, D=D, alpha=alpha, rho=rho)
        assert torch.isfinite(loss).all() and loss.item() >= -1e-12
