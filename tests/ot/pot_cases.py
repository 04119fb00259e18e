"""The inputs of POT's own Gromov-Wasserstein and FUGW tests (``test/gromov/test_gw.py``,
``test/gromov/test_fugw.py``), restated from their descriptions, with POT's values on them.

Each case is a dict of NumPy arrays ``C1, C2, p, q`` and, for the fused cases, ``M`` (the feature
cost) and ``alpha`` (POT's convention: the weight of the structure term, as in :mod:`skgw.ot`).
"""

import numpy as np
import ot
import torch


def _mirrored_points(random_state):
    """POT's 20 Gaussian points in the plane and the same points in reverse order, with their
    squared-distance matrices normalised to maximum 1 (optimum: the anti-identity)."""
    xs = ot.datasets.make_2D_samples_gauss(20, np.zeros(2), np.eye(2), random_state=random_state)
    xt = xs[::-1].copy()
    C1, C2 = ot.dist(xs, xs), ot.dist(xt, xt)
    return C1 / C1.max(), C2 / C2.max()


def _uniform(n):
    return ot.unif(n), ot.unif(n)


def gromov_case():
    """``test_gromov``: mirrored points, square loss."""
    C1, C2 = _mirrored_points(1)
    p, q = _uniform(20)
    return {"C1": C1, "C2": C2, "p": p, "q": q}


def _asymmetric_structures():
    rng = np.random.RandomState(0)
    C1 = rng.uniform(low=0.0, high=10, size=(20, 20))
    idx = np.arange(20)
    rng.shuffle(idx)
    return rng, C1, C1[idx, :][:, idx], idx


def asymmetric_gromov_case():
    """``test_asymmetric_gromov``: a random asymmetric matrix and its permutation (GW = 0)."""
    _, C1, C2, _ = _asymmetric_structures()
    p, q = _uniform(20)
    return {"C1": C1, "C2": C2, "p": p, "q": q}


def fgw_case(alpha=0.5):
    """``test_fgw``: mirrored points with mirrored random features, at trade-off ``alpha``."""
    C1, C2 = _mirrored_points(42)
    ys = np.random.RandomState(42).randn(20, 2)
    M = ot.dist(ys, ys[::-1].copy())
    p, q = _uniform(20)
    return {"C1": C1, "C2": C2, "p": p, "q": q, "M": M / M.max(), "alpha": alpha}


def asymmetric_fgw_case():
    """``test_asymmetric_fgw``: the asymmetric structures with permuted scalar features."""
    rng, C1, C2, idx = _asymmetric_structures()
    F1 = rng.uniform(low=0.0, high=10, size=(20, 1))
    p, q = _uniform(20)
    return {"C1": C1, "C2": C2, "p": p, "q": q, "M": ot.dist(F1, F1[idx, :]), "alpha": 0.5}


def classif_case(alpha=0.0):
    """Two of POT's test distributions, ``make_data_classif("3gauss")`` and ``("3gauss2")``, 20
    points each: structures and feature cost of the points, normalised to maximum 1 (``alpha = 0``
    is optimal transport, POT's ``ot.emd2``)."""
    Xs, _ = ot.datasets.make_data_classif("3gauss", 20, random_state=42)
    Xt, _ = ot.datasets.make_data_classif("3gauss2", 20, random_state=42)
    C1, C2, M = ot.dist(Xs), ot.dist(Xt), ot.dist(Xs, Xt)
    p, q = _uniform(20)
    return {"C1": C1 / C1.max(), "C2": C2 / C2.max(), "p": p, "q": q, "M": M / M.max(),
            "alpha": alpha}  # fmt: skip


BALANCED_CASES = {
    "gromov": gromov_case,
    "asymmetric_gromov": asymmetric_gromov_case,
    "fgw": fgw_case,
    "asymmetric_fgw": asymmetric_fgw_case,
    "fgw_alpha_0.25": lambda: fgw_case(0.25),
    "fgw_alpha_0.75": lambda: fgw_case(0.75),
    "ot_classif": classif_case,
    "fgw_classif_0.25": lambda: classif_case(0.25),
    "fgw_classif_0.5": lambda: classif_case(0.5),
    "fgw_classif_0.75": lambda: classif_case(0.75),
}


def pot_value(case):
    """POT's exact solver on the case: conditional gradient (``ot.emd2`` when ``alpha = 0``)."""
    C1, C2, p, q = (case[k] for k in ("C1", "C2", "p", "q"))
    if "M" not in case:
        return ot.gromov.gromov_wasserstein2(C1, C2, p, q, "square_loss", G0=np.outer(p, q))
    if case["alpha"] == 0:
        return ot.emd2(p, q, case["M"])
    return ot.gromov.fused_gromov_wasserstein2(
        case["M"], C1, C2, p, q, "square_loss", alpha=case["alpha"], G0=np.outer(p, q)
    )


def as_torch(case, dtype=torch.float64):
    """The case as a batch of one problem: ``(C1, C2, p, q, D, alpha)`` tensors (``D`` None for
    GW)."""

    def batch(x):
        return torch.as_tensor(np.ascontiguousarray(x), dtype=dtype)[None]

    C1, C2, p, q = (batch(case[k]) for k in ("C1", "C2", "p", "q"))
    D = batch(case["M"]) if "M" in case else None
    return C1, C2, p, q, D, case.get("alpha", 1.0)


def sanity_case():
    """``test_sanity`` of ``test/gromov/test_fugw.py``: five mirrored points, a feature cost that
    is 0 on the anti-diagonal and 1 elsewhere, POT's ``alpha = 0.5`` and ``reg_marginals = 100``
    (one value for both marginals, which skgw's ``rho`` is), ``epsilon = 0``."""
    xs = ot.datasets.make_2D_samples_gauss(5, np.zeros(2), np.eye(2), random_state=4)
    xt = xs[::-1].copy()
    C1, C2 = ot.dist(xs, xs), ot.dist(xt, xt)
    M = np.ones((5, 5))
    np.fill_diagonal(np.fliplr(M), 0)
    p, q = _uniform(5)
    return {"C1": C1 / C1.max(), "C2": C2 / C2.max(), "p": p, "q": q, "M": M,
            "alpha_pot": 0.5, "reg_pot": 100.0}  # fmt: skip


def rho_limit_case(reg_pot):
    """``test_gromov``'s mirrored points as an unbalanced GW problem (no features), POT's
    ``reg_marginals = reg_pot``: the plan tends to the anti-identity and the loss to 0 as the
    marginal penalty grows."""
    return {**gromov_case(), "alpha_pot": 0.0, "reg_pot": reg_pot}


def pot_fugw_plan(case, max_iter=200):
    """POT's FUGW sample plan on the case, run to convergence (MM inner solver, KL)."""
    C1, C2, p, q = (case[k] for k in ("C1", "C2", "p", "q"))
    plan, _ = ot.gromov.fused_unbalanced_gromov_wasserstein(
        C1, C2, wx=p, wy=q, reg_marginals=case["reg_pot"], epsilon=0, alpha=case["alpha_pot"],
        M=case.get("M"), init_pi=np.outer(p, q), max_iter=max_iter, tol=1e-12,
        max_iter_ot=max_iter, tol_ot=1e-12,
    )  # fmt: skip
    return plan


def thual_parameters(case):
    """skgw's ``(alpha, rho)`` of a case given in POT's FUGW parameters."""
    alpha = 1.0 / (1.0 + case["alpha_pot"])
    return alpha, case["reg_pot"] * alpha


def unbalanced_ot_case(rho):
    """``classif_case``'s feature cost as unbalanced optimal transport (skgw's ``alpha = 0``),
    marginal penalty ``rho``: the value tends to ``ot.emd2``'s as ``rho`` grows."""
    return {**classif_case(0.0), "rho": rho}
