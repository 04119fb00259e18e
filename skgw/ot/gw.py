r"""Batched (fused) Gromov-Wasserstein: losses, gradients, starting plans and the PPA solver.

All functions take padded batches: structures ``C1`` of shape ``(B, n, n)`` and ``C2`` of shape
``(B, m, m)``, node weights ``p`` ``(B, n)`` and ``q`` ``(B, m)`` that are zero on padded nodes,
plans ``T`` ``(B, n, m)``. Padded (zero-weight) nodes carry no mass and never change a result.

The square-loss GW tensor product uses Peyré et al. (2016), Proposition 1, in
:math:`O(n^2 m + n m^2)`:

.. math::
    (L(C_1, C_2) \otimes T)_{ij} = \sum_{kl} (C_{1,ik} - C_{2,jl})^2 T_{kl}
    = (C_1^{\odot 2} T 1)_i + (C_2^{\odot 2} T^\top 1)_j - 2 (C_1 T C_2^\top)_{ij}

computed with the marginals of ``T`` itself, so that the loss of any nonnegative ``T`` (unbalanced
ones included) is exact. The fused GW objective (Vayer et al. 2019) in POT's convention is

.. math:: \mathrm{FGW}_\alpha(T) = (1 - \alpha) \langle D, T \rangle
          + \alpha \langle L(C_1, C_2) \otimes T, T \rangle,
          \quad D_{ij} = \|F_{1,i} - F_{2,j}\|^2 .

References
----------
.. [1] Peyré, Cuturi, Solomon. Gromov-Wasserstein averaging of kernel and distance matrices.
   ICML 2016.
.. [2] Vayer, Chapel, Flamary, Tavenard, Courty. Optimal transport for structured data with
   application on graphs. ICML 2019.
.. [3] Xu. Gromov-Wasserstein factorization models for graph clustering. AAAI 2020
   (Algorithm 1: PPA, Algorithm 2: BADMM).
"""

import torch

from ._checks import (
    check_batch,
    check_in_unit_interval,
    check_iterations,
    check_per_problem,
    check_plan_range,
    check_positive_finite,
    check_tensors,
)
from ._convergence import marginal_error, solver_log, warn_unconverged
from ._sinkhorn import (
    exp,
    masked_log,
    round_to_marginals,
    sinkhorn_projection,
    sinkhorn_scaling,
)

__all__ = [
    "feature_cost",
    "fgw_gradient",
    "fgw_loss",
    "fgw_plan_ppa",
    "gw_tensor_product",
    "initial_plan",
]


# The names of check_batch's six arguments in the messages of the losses and linear operators,
# and in those of the solvers.
_PRODUCT_INPUTS = ("C1", "C2", "p", "q", "D", "T")
_SOLVER_INPUTS = ("C1", "C2", "p", "q", "D", "init")


def _check_alpha(alpha, n_problems):
    """``ValueError`` unless ``alpha`` is a number or one value per problem, in [0, 1]."""
    check_per_problem({"alpha": alpha}, n_problems)
    check_in_unit_interval("alpha", alpha)


def _check_solver_inputs(C1, C2, p, q, D, init, alpha, epsilon):
    """The checks of the balanced solvers and of their start: one padded batch (``init`` when it
    is a tensor), ``alpha`` in [0, 1] per problem, ``epsilon`` positive."""
    plans = init if isinstance(init, torch.Tensor) else None
    check_batch(C1, C2, p, q, D=D, plans=plans, balanced=True, names=_SOLVER_INPUTS)
    check_plan_range(p, q)
    _check_alpha(alpha, C1.shape[0])
    check_positive_finite("epsilon", epsilon)


def _as_batch_scalar(value, like):
    """A float or a ``(B,)`` tensor -> a ``(B, 1, 1)`` tensor broadcastable against plans."""
    value = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    return value.reshape(-1, 1, 1) if value.ndim else value


def gw_tensor_product(C1, C2, T):
    r"""The square-loss tensor product :math:`L(C_1, C_2) \otimes T`, shape ``(B, n, m)``.

    Linear in ``T``, which may be any ``(B, n, m)`` tensor (of either sign).
    """
    check_batch(C1, C2, plans=T, signed_plans=True, names=_PRODUCT_INPUTS)
    return square_loss_product(C1, C2, T)


def square_loss_product(C1, C2, T):
    """:func:`gw_tensor_product` without the input checks, for the solvers' inner loops."""
    return _tensor_product(C1, C2, C1 * C1, C2 * C2, T)


def _tensor_product(C1, C2, C1_squared, C2_squared, T):
    r""":func:`gw_tensor_product` with the squared structures precomputed.

    ``C1_squared=None`` leaves out the term :math:`(C_1^{\odot 2} T 1) 1^\top`, which is
    constant along each row.
    """
    # (C2^2 T^T 1)^T - 2 C1 T C2^T in one batched product with accumulation.
    product = torch.baddbmm(
        (C2_squared @ T.sum(dim=1)[:, :, None]).transpose(1, 2),
        C1 @ T,
        C2.transpose(1, 2),
        alpha=-2.0,
    )
    if C1_squared is None:
        return product
    return product + C1_squared @ T.sum(dim=2)[:, :, None]


def feature_cost(F1, F2):
    r"""Squared Euclidean feature cost :math:`D_{ij} = \|F_{1,i} - F_{2,j}\|^2`, ``(B, n, m)``.

    ``F1`` of shape ``(B, n, d)`` and ``F2`` of shape ``(B, m, d)``: finite floating tensors of
    one dtype and device.
    """
    check_tensors({"F1": F1, "F2": F2})
    if F1.ndim != 3 or F2.ndim != 3 or F1.shape[0] != F2.shape[0] or F1.shape[2] != F2.shape[2]:
        raise ValueError(
            "F1 and F2 must have shapes (B, n, d) and (B, m, d), got "
            f"{tuple(F1.shape)} and {tuple(F2.shape)}."
        )
    return _feature_cost(F1, F2)


def _feature_cost(F1, F2):
    """:func:`feature_cost` without the input checks."""
    squared = (F1 * F1).sum(-1)[:, :, None] + (F2 * F2).sum(-1)[:, None, :]
    return (squared - 2.0 * F1 @ F2.transpose(1, 2)).clamp_min(0.0)


def fgw_loss(C1, C2, T, D=None, alpha=1.0):
    r"""Fused GW loss of the plans, one value per problem.

    .. math:: (1 - \alpha) \langle D, T \rangle + \alpha \langle L(C_1, C_2) \otimes T, T \rangle

    Parameters
    ----------
    C1 : Tensor of shape (B, n, n)
    C2 : Tensor of shape (B, m, m)
    T : Tensor of shape (B, n, m)
        Any nonnegative plans (their own marginals are used).
    D : Tensor of shape (B, n, m), default=None
        Feature cost; None for plain GW (then ``alpha`` is ignored and taken as 1).
    alpha : float or Tensor of shape (B,), default=1.0

    Returns
    -------
    loss : Tensor of shape (B,)
        Differentiable in every argument.
    """
    check_batch(C1, C2, D=D, plans=T, names=_PRODUCT_INPUTS)
    _check_alpha(alpha, C1.shape[0])
    return _fgw_loss(C1, C2, T, D, alpha)


def _fgw_loss(C1, C2, T, D=None, alpha=1.0):
    """:func:`fgw_loss` without the input checks, for the loops of the solvers and estimators."""
    gw = (square_loss_product(C1, C2, T) * T).sum(dim=(1, 2))
    if D is None:
        return gw
    alpha = torch.as_tensor(alpha, dtype=T.dtype, device=T.device)
    return (1.0 - alpha) * (D * T).sum(dim=(1, 2)) + alpha * gw


def _product_plan_loss(C1, C2, p, q, F1=None, F2=None, alpha=1.0):
    r"""FGW loss of the product plans :math:`p q^\top`, from per-graph moments in :math:`O(n^2)`.

    .. math:: \alpha \big(p^\top C_1^{\odot 2} p + q^\top C_2^{\odot 2} q
              - 2\, (p^\top C_1 p)(q^\top C_2 q)\big)
              + (1 - \alpha) \big(\textstyle\sum_i p_i \|F_{1,i}\|^2
              + \sum_j q_j \|F_{2,j}\|^2 - 2\, (F_1^\top p) \cdot (F_2^\top q)\big)

    (the second term only with features and ``alpha`` not 1).
    """

    def quadratic_form(C, w):
        return ((C @ w[:, :, None])[:, :, 0] * w).sum(1)

    gw = (
        quadratic_form(C1 * C1, p)
        + quadratic_form(C2 * C2, q)
        - 2.0 * quadratic_form(C1, p) * quadratic_form(C2, q)
    )
    if F1 is None or (isinstance(alpha, float) and alpha == 1.0):
        return gw
    mean_1, mean_2 = (F1 * p[:, :, None]).sum(1), (F2 * q[:, :, None]).sum(1)
    features = (
        ((F1 * F1).sum(2) * p).sum(1)
        + ((F2 * F2).sum(2) * q).sum(1)
        - 2.0 * (mean_1 * mean_2).sum(1)
    )
    alpha = torch.as_tensor(alpha, dtype=gw.dtype, device=gw.device)
    return alpha * gw + (1.0 - alpha) * features


def _loss_unit(C1, C2, p, q, D=None, alpha=1.0):
    r"""The FGW loss of the product plans :math:`p q^\top` (the mean cost of a random matching)
    in :math:`O(n^2)`, with the feature term :math:`p^\top D q`; 1 where it is 0 (equal constant
    graphs, whose product plan is optimal). The scale-free unit of the solvers' stopping tests
    and of BADMM's default weight, shape ``(B,)``."""
    scale = _product_plan_loss(C1, C2, p, q)
    if D is not None:
        weight = torch.as_tensor(alpha, dtype=C1.dtype, device=C1.device)
        linear = ((D @ q[:, :, None])[:, :, 0] * p).sum(dim=1)
        scale = weight * scale + (1.0 - weight) * linear
    return torch.where(scale > 0, scale, 1.0)


def fgw_gradient(C1, C2, T, D=None, alpha=1.0):
    r"""Gradient of :func:`fgw_loss` in ``T`` for plans with fixed marginals.

    .. math:: \alpha \,(L(C_1, C_2) \otimes T + L(C_1^\top, C_2^\top) \otimes T)
              + (1 - \alpha) D

    which is :math:`2 \alpha L \otimes T + (1 - \alpha) D` for symmetric structures. Linear in
    ``T`` up to the constant term, so ``T`` may be of either sign.
    """
    check_batch(C1, C2, D=D, plans=T, signed_plans=True, names=_PRODUCT_INPUTS)
    _check_alpha(alpha, C1.shape[0])
    return _gradient_operator(C1, C2, D, alpha)(T)


def _gradient_operator(C1, C2, D, alpha, *, scale=1.0, up_to_row_constants=False):
    r"""``T -> scale * fgw_gradient(C1, C2, T, D, alpha)``, everything independent of ``T`` hoisted.

    ``scale``: float or Tensor of shape (B, 1, 1). ``up_to_row_constants=True`` leaves out the
    term :math:`(C_1^{\odot 2} T 1) 1^\top`, constant along each row: a row-wise shift of the
    gradient changes no Sinkhorn-scaled kernel, so the proximal point steps do not need it.
    """
    symmetric = torch.equal(C1, C1.transpose(1, 2)) and torch.equal(C2, C2.transpose(1, 2))
    alpha = _as_batch_scalar(1.0 if D is None else alpha, C1)
    pairs = [(C1, C2)] if symmetric else [(C1, C2), (C1.transpose(1, 2), C2.transpose(1, 2))]
    weight = 2.0 * alpha * scale / len(pairs)
    linear = None if D is None else (1.0 - alpha) * scale * D
    squares = [(None if up_to_row_constants else A * A, B * B) for A, B in pairs]

    def gradient(T):
        quadratic = sum(
            _tensor_product(A, B, A_sq, B_sq, T)
            for (A, B), (A_sq, B_sq) in zip(pairs, squares, strict=True)
        )
        if linear is None:
            return weight * quadratic
        return torch.addcmul(linear, weight, quadratic)

    return gradient


# Quantiles of the distance distributions compared by the "profile" start.
_PROFILE_QUANTILES = 32
# Relative size of the perturbation of the "perturbed_product" start.
_PERTURBATION = 1e-3


def _index_noise(n, m, device, dtype):
    """A fixed pseudo-random pattern in [-1, 1) over the index pairs ``(i, j)``: ``(n, m)``.

    An integer hash of ``i`` and ``j`` alone, so that a problem's pattern does not depend on the
    padding, the batch, the device or a random state.
    """
    i = torch.arange(n, device=device)[:, None]
    j = torch.arange(m, device=device)[None, :]
    x = i * 1_000_003 + j + 1
    for _ in range(2):
        x = ((x ^ (x >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    x = x ^ (x >> 16)
    return (x.to(dtype) / 2.0**31) - 1.0


def _distance_quantiles(C, p, n_quantiles):
    """Quantile functions of the rows of ``C`` under the weights ``p``: ``(B, n, n_quantiles)``."""
    values, order = torch.sort(C, dim=2)
    weights = torch.gather(p[:, None, :].expand_as(C), 2, order)
    cumulative = torch.cumsum(weights, dim=2).contiguous()
    levels = (torch.arange(n_quantiles, dtype=C.dtype, device=C.device) + 0.5) / n_quantiles
    levels = levels.expand(*C.shape[:2], n_quantiles).contiguous()
    index = torch.searchsorted(cumulative, levels).clamp_max(C.shape[2] - 1)
    return torch.gather(values, 2, index)


def initial_plan(
    C1, C2, p, q, *, D=None, alpha=1.0, init="product", epsilon=0.01, n_quantiles=_PROFILE_QUANTILES
):
    r"""Starting plans of the GW solvers.

    ``"product"``
        :math:`T_0 = p q^\top`, as in the paper. Solvers started there can stall on it for graphs
        whose nodes all look alike (first-order stationary point).
    ``"perturbed_product"``
        :math:`T_0 = p q^\top \odot e^{10^{-3} \xi}`, :math:`\xi_{ij} \in [-1, 1)` a fixed
        pseudo-random pattern of the indices. The PPA and BADMM steps commute with the
        automorphisms of either graph (node permutations :math:`\sigma` with
        :math:`C_{\sigma(i)\sigma(k)} = C_{ik}` and :math:`p_{\sigma(i)} = p_i`), so from a
        start that they leave unchanged, as :math:`p q^\top` and ``"profile"`` are, every plan
        gives automorphic nodes the same row: a path or a cycle is then not matched to itself
        (GW(G, G) > 0). The perturbation breaks that symmetry; the price is that the plans
        depend, slightly, on the order of the nodes.
    ``"profile"``
        Entropic OT (regularisation ``epsilon``) on the cost
        :math:`\alpha\, W_2^2(\mathrm{row}_i(C_1)_\# p, \mathrm{row}_j(C_2)_\# q)
        + (1 - \alpha) D_{ij}`: the squared Wasserstein distance between the distributions of the
        distances seen from node :math:`i` and from node :math:`j` (the "third lower bound" of
        Mémoli 2011), estimated on ``n_quantiles`` quantiles. It matches nodes with the same
        distance profile and lets the solvers recover a node permutation (GW(G, G) -> 0).

    Parameters
    ----------
    C1, C2, p, q, D, alpha :
        One balanced problem per batch entry, as in :func:`fgw_plan_ppa`.
    init : {"product", "perturbed_product", "profile"}, default="product"
    epsilon : float, default=0.01
        Entropic regularisation of ``"profile"``.
    n_quantiles : int, default=32
        Quantiles of the distance distributions of ``"profile"``.

    Returns
    -------
    T0 : Tensor of shape (B, n, m)
        Column marginals ``q`` (``"perturbed_product"``: to 0.1 %); row marginals ``p``
        (``"profile"``: to the accuracy of 1000 Sinkhorn updates, which small ``epsilon`` may not
        reach; ``"perturbed_product"``: to 0.1 %); the solvers project anyway.
    """
    _check_solver_inputs(C1, C2, p, q, D, None, alpha, epsilon)
    if not (isinstance(n_quantiles, int) and n_quantiles >= 1):
        raise ValueError(f"n_quantiles must be a positive integer, got {n_quantiles!r}.")
    return _initial_plan(C1, C2, p, q, D, alpha, init, epsilon, n_quantiles)


def _initial_plan(C1, C2, p, q, D, alpha, init, epsilon, n_quantiles=_PROFILE_QUANTILES):
    """:func:`initial_plan` without the input checks, for the solvers (which made them)."""
    if init in ("product", "perturbed_product"):
        T0 = p[:, :, None] * q[:, None, :]
        if init == "perturbed_product":
            T0 = T0 * torch.exp(_PERTURBATION * _index_noise(*T0.shape[1:], T0.device, T0.dtype))
        return T0
    if init != "profile":
        raise ValueError(f"init must be 'product', 'perturbed_product' or 'profile', got {init!r}.")
    Q1 = _distance_quantiles(C1, p, n_quantiles)
    Q2 = _distance_quantiles(C2, q, n_quantiles)
    cost = _feature_cost(Q1, Q2) / n_quantiles
    if D is not None:
        alpha = _as_batch_scalar(alpha, cost)
        cost = alpha * cost + (1.0 - alpha) * D
    log_K = -cost / epsilon + masked_log(p)[:, :, None] + masked_log(q)[:, None, :]
    return exp(sinkhorn_scaling(log_K, p, q, max_iter=1000, tol=1e-9))


# Final projection onto Pi(p, q): over-relaxed Sinkhorn updates (sinkhorn_projection).
_PROJECTION_MAX_ITER = 30
_PROJECTION_RELAXATION = 1.8


class _ProximalProblem:
    """The data of a batch of PPA problems, with the scaled gradient operator, sliceable."""

    def __init__(self, C1, C2, p, q, D, alpha, epsilon, scale=None):
        self.C1, self.C2, self.p, self.q, self.D = C1, C2, p, q, D
        self.alpha, self.epsilon = alpha, epsilon
        self.scaled_gradient = _gradient_operator(
            C1, C2, D, alpha, scale=1.0 / epsilon, up_to_row_constants=True
        )
        self.C1_squared = C1 * C1
        # The unit of the stopping test.
        self.scale = _loss_unit(C1, C2, p, q, D, alpha) if scale is None else scale

    def loss(self, T, scaled_gradient):
        r""":func:`fgw_loss` of the plans ``T`` from their ``scaled_gradient(T)``, in
        :math:`O(nm + n^2)` beyond it.

        The gradient without its row constants is :math:`G = (2 \alpha L' \otimes T
        + (1 - \alpha) D) / \varepsilon` with :math:`L' \otimes T = L \otimes T
        - (C_1^{\odot 2} r) 1^\top`, :math:`r = T 1` (for asymmetric structures, the mean of
        the two orientations, whose row terms have the same quadratic form), so

        .. math:: \mathrm{FGW}_\alpha(T) = \tfrac{1}{2} \big(\varepsilon \langle G, T \rangle
                  + (1 - \alpha) \langle D, T \rangle\big) + \alpha\, r^\top C_1^{\odot 2} r,

        exact for any nonnegative ``T``.
        """
        r = T.sum(dim=2)
        row_term = ((self.C1_squared @ r[:, :, None])[:, :, 0] * r).sum(dim=1)
        epsilon = self.epsilon
        if isinstance(epsilon, torch.Tensor) and epsilon.ndim:
            epsilon = epsilon.reshape(-1)
        inner = epsilon * (scaled_gradient * T).sum(dim=(1, 2))
        if self.D is None:
            return 0.5 * inner + row_term
        alpha = torch.as_tensor(self.alpha, dtype=T.dtype, device=T.device)
        return 0.5 * (inner + (1.0 - alpha) * (self.D * T).sum(dim=(1, 2))) + alpha * row_term

    def subset(self, keep):
        """The problems where the boolean ``keep`` (B,) is true."""

        def rows(x):
            return x[keep] if isinstance(x, torch.Tensor) and x.ndim > 0 else x

        fields = (self.C1, self.C2, self.p, self.q, self.D, self.alpha, self.epsilon, self.scale)
        return _ProximalProblem(*(rows(x) for x in fields))


# The kernel's own defaults, accurate on POT's test cases (tests/ot/test_pot_parity.py); the
# estimators pass the settings they were tuned with.
PPA_DEFAULTS = {
    "epsilon": 0.05,
    "max_iter": 500,
    "sinkhorn_max_iter": 100,
    "sinkhorn_tol": 1e-5,
    "tol": 1e-5,
    "marginal_tol": 1e-9,
    "init": "product",
}
# Steps between two convergence checks of the outer loop (one host synchronisation each).
_CHECK_EVERY = 5


@torch.no_grad()
def fgw_plan_ppa(
    C1,
    C2,
    p,
    q,
    *,
    D=None,
    alpha=1.0,
    epsilon=PPA_DEFAULTS["epsilon"],
    max_iter=PPA_DEFAULTS["max_iter"],
    sinkhorn_max_iter=PPA_DEFAULTS["sinkhorn_max_iter"],
    sinkhorn_tol=PPA_DEFAULTS["sinkhorn_tol"],
    tol=PPA_DEFAULTS["tol"],
    marginal_tol=PPA_DEFAULTS["marginal_tol"],
    init=PPA_DEFAULTS["init"],
    return_log=False,
):
    r"""FGW plans by the proximal point algorithm (Xu 2020, Algorithm 1), log-domain, batched.

    Each outer step is a KL-proximal (mirror-descent) step on the FGW objective:

    .. math:: T_{t+1} = \arg\min_{T \in \Pi(p, q)} \langle G(T_t), T \rangle
              + \varepsilon \mathrm{KL}(T \| T_t)
              = \mathrm{diag}(a)\, [T_t \odot e^{-G(T_t) / \varepsilon}]\, \mathrm{diag}(b)

    with :math:`G` the gradient of :func:`fgw_loss` (:func:`fgw_gradient`; for GW it is twice
    the paper's :math:`C_{st} - 2 C_s T C_t^\top`, so the paper's :math:`\gamma` is
    ``epsilon / 2``; ``epsilon`` is the ``epsilon`` of POT's
    ``ot.gromov.entropic_gromov_wasserstein(..., solver="PPA")``). On a linear problem
    (``alpha = 0``) :math:`t` exact steps give the entropic plan of regularisation
    :math:`\varepsilon / t`, so the plans approach an exact optimal plan as the steps go on.

    The scaling :math:`(a, b)` of each step is solved by stabilised Sinkhorn updates
    (:func:`~skgw.ot._sinkhorn.sinkhorn_scaling`) warm-started at the previous step's scalings,
    which tend to the dual potentials as the plans converge, until the row marginals are within
    ``sinkhorn_tol`` (at most ``sinkhorn_max_iter`` updates); late steps need one or two. A
    problem stops once its loss changes by less than ``tol`` in a step, relative to the loss of
    the product plan :math:`p q^\top` (the mean cost of a random matching, the problem's unit),
    checked every 5 steps and at the last; the final plans are projected onto
    :math:`\Pi(p, q)` by over-relaxed Sinkhorn updates and rounded, so that their marginals are
    exact to rounding error whatever ``epsilon``.

    Parameters
    ----------
    C1, C2, p, q : Tensor
        Padded batch, see the module docstring.
    D : Tensor of shape (B, n, m), default=None
        Feature cost (:func:`feature_cost`); None for GW.
    alpha : float or Tensor of shape (B,), default=1.0
        FGW trade-off (ignored without ``D``).
    epsilon : float or Tensor of shape (B, 1, 1), default=0.05
        Proximal weight, in POT's units (step size ``1 / epsilon``); float32 is stable down to
        ``1e-3`` (log domain). Small values make greedy steps towards sparse plans, which on GW
        can end in worse local optima; large ones need more steps.
    max_iter : int, default=500
        Outer steps at most.
    sinkhorn_max_iter : int, default=100
        Sinkhorn updates per step at most (the paper: 1, run as 1).
    sinkhorn_tol : float, default=1e-5
        Row-marginal error (l1, relative to the mass) at which a step's Sinkhorn updates stop.
    tol : float, default=1e-5
        Change of the loss in one step, relative to the loss of :math:`p q^\top`, below which a
        problem has converged; 0 runs ``max_iter`` steps.
    marginal_tol : float, default=1e-9
        Relative l1 marginal error at which the final projection stops (at most 30 over-relaxed
        Sinkhorn updates, :func:`~skgw.ot._sinkhorn.sinkhorn_projection`); what is left is
        removed by :func:`~skgw.ot._sinkhorn.round_to_marginals`.
    init : str or Tensor of shape (B, n, m), default="product"
        ``"product"``, ``"perturbed_product"`` or ``"profile"`` (see :func:`initial_plan`); a
        tensor warm-starts from the given plans.
    return_log : bool, default=False
        Also return the per-problem log of :mod:`skgw.ot._convergence` (steps, last relative
        loss change, marginal error, convergence).

    Returns
    -------
    T : Tensor of shape (B, n, m)
        Plans in :math:`\Pi(p, q)` (to rounding error), zero on padding.
    log : dict of Tensor of shape (B,)
        Only with ``return_log``.

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        Once per call, if some problem's loss still changed by more than ``tol`` at
        ``max_iter``.
    """
    _check_solver_inputs(C1, C2, p, q, D, init, alpha, epsilon)
    settings = {
        "epsilon": epsilon, "max_iter": max_iter, "sinkhorn_max_iter": sinkhorn_max_iter,
        "sinkhorn_tol": sinkhorn_tol, "tol": tol, "marginal_tol": marginal_tol,
    }  # fmt: skip
    check_ppa_params(**settings)
    T, log = _fgw_plan_ppa(C1, C2, p, q, D=D, alpha=alpha, init=init, **settings)
    warn_unconverged(
        log, "fgw_plan_ppa", max_iter, tol, "raise max_iter, or epsilon for larger steps."
    )
    return (T, log) if return_log else T


def check_ppa_params(**params):
    """``ValueError`` unless the settings of :func:`fgw_plan_ppa` given in ``params`` are in
    range (the others, ``init`` among them, are checked where they are used)."""
    params = {**PPA_DEFAULTS, **params}
    check_positive_finite("epsilon", params["epsilon"])
    check_iterations({"max_iter": params["max_iter"]})
    check_iterations({"sinkhorn_max_iter": params["sinkhorn_max_iter"]}, minimum=1)
    for name in ("sinkhorn_tol", "tol", "marginal_tol"):
        check_positive_finite(name, params[name], allow_zero=True)


@torch.no_grad()
def _fgw_plan_ppa(
    C1, C2, p, q, *, D=None, alpha=1.0, epsilon=PPA_DEFAULTS["epsilon"],
    max_iter=PPA_DEFAULTS["max_iter"], sinkhorn_max_iter=PPA_DEFAULTS["sinkhorn_max_iter"],
    sinkhorn_tol=PPA_DEFAULTS["sinkhorn_tol"], tol=PPA_DEFAULTS["tol"],
    marginal_tol=PPA_DEFAULTS["marginal_tol"], init=PPA_DEFAULTS["init"],
):  # fmt: skip
    """:func:`fgw_plan_ppa` without the input checks and the warning: ``(T, log)``."""
    if not isinstance(init, torch.Tensor):
        init = _initial_plan(C1, C2, p, q, D, alpha, init, epsilon)
    # No mass on zero-weight nodes, whatever the initial plans say (Sinkhorn relies on it).
    support = (p > 0)[:, :, None] & (q > 0)[:, None, :]
    log_T = masked_log(init).masked_fill(~support, -torch.inf)
    batch = C1.shape[0]
    n_iter = torch.zeros(batch, dtype=torch.long, device=C1.device)
    change = torch.full((batch,), torch.inf, dtype=C1.dtype, device=C1.device)
    # Problems still moving: the loop runs on them only (converged ones are set aside).
    active = torch.arange(batch, device=C1.device)
    problem = _ProximalProblem(C1, C2, p, q, D, alpha, epsilon)
    log_T_active, potentials = log_T, None
    previous = None  # the loss of the last step's plans, (B_active,)
    for iteration in range(max_iter):
        # exp rather than the scaled kernel: no subnormal entries to slow the products down.
        T = exp(log_T_active)
        gradient = problem.scaled_gradient(T)
        # The loss only where a check compares two consecutive steps.
        measure = iteration >= max_iter - 2 or (
            tol > 0 and iteration % _CHECK_EVERY >= _CHECK_EVERY - 2
        )
        current = problem.loss(T, gradient) if measure else None
        log_T_active, potentials = sinkhorn_scaling(
            log_T_active - gradient,
            problem.p,
            problem.q,
            max_iter=sinkhorn_max_iter,
            tol=sinkhorn_tol,
            check_every=_CHECK_EVERY,
            potentials=potentials,
            return_potentials=True,
        )
        last = iteration == max_iter - 1
        check = (previous is not None and current is not None) and (
            last or (tol > 0 and iteration % _CHECK_EVERY == _CHECK_EVERY - 1)
        )
        if not check:
            previous = current
            continue
        step_change = (previous - current).abs() / problem.scale
        change[active] = step_change
        n_iter[active] = iteration + 1
        moving = step_change > tol
        previous = current
        if last or not moving.all():
            log_T = log_T.index_copy(0, active, log_T_active)
            if last:
                break
            active, log_T_active = active[moving], log_T_active[moving]
            if not len(active):
                break
            potentials = tuple(x[moving] for x in potentials)
            previous = None
            problem = problem.subset(moving)
    else:  # a single step: no change measured
        log_T = log_T.index_copy(0, active, log_T_active)
        n_iter[active] = max_iter
    # Final projection onto Pi(p, q): Sinkhorn, then exact rounding of what it left.
    T = sinkhorn_projection(
        log_T,
        p,
        q,
        max_iter=_PROJECTION_MAX_ITER,
        tol=marginal_tol,
        relaxation=_PROJECTION_RELAXATION,
    )
    T = round_to_marginals(T, p, q)
    return T, solver_log(n_iter, change, tol, marginal_error(T, p, q))
