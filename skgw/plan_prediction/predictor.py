r"""FUGWPlanPredictor: ULOT, amortised fused unbalanced GW plans between graphs.

The network (:class:`~skgw.plan_prediction.ULOTNetwork`) is trained without labels: on pairs of
training graphs and trade-offs :math:`(\alpha, \rho)` drawn at random, it minimises the mean FUGW
loss (:func:`skgw.ot.fugw_loss`) of its predicted plans on the normalised problems of
:mod:`skgw.plan_prediction._problem`. A prediction then costs one forward pass,
:math:`O(n m)` per layer, instead of a solver's iterations.

Pairs are given explicitly: ``predict(X, Y)`` gives the plan from ``X[i]`` to ``Y[i]``, and
``predict(X)`` the plan from each graph of ``X`` to the reference graph ``reference_`` (template
alignment); ``fit(X, pairs=...)`` trains on given pairs of indices into ``X``. A 2-tuple is read
as one graph ``(C, F)``, as everywhere in skgw, never as a pair.
"""

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import GraphEstimatorMixin, shared_constraints
from .._batching import pair_buckets
from .._fit_state import keeps_fitted_state_on_error
from .._graphs import Graph, as_graphs, check_n_node_features, validate_graphs
from .._progress import progress
from .._training import train
from ..ot import fugw_loss
from ..ot._checks import check_in_unit_interval, check_positive_finite
from ..ot.fugw import FUGW_DEFAULTS, _checked_fugw_plan, warn_fugw_unconverged
from ._network import ULOTNetwork, normalized_adjacency
from ._problem import PairSide, pad_side, pair_feature_cost, prepare_graph

__all__ = ["FUGWPlanPredictor"]

PREDICT_BATCH_SIZE = 256
# Padded entries below which a batch of pairs is not cut by size (pair_buckets' min_entries).
MIN_BATCH_ENTRIES = 2**22
N_REFERENCE_CANDIDATES = 32
# Settings of skgw.ot.fugw_plan used by refine and solve unless given.
SOLVER_SETTINGS = frozenset(FUGW_DEFAULTS) | {"epsilon"}
"""The settings of :func:`skgw.ot.fugw_plan` that :meth:`FUGWPlanPredictor.refine` and
:meth:`FUGWPlanPredictor.solve` take (its defaults unless given)."""


def sample_trade_offs(n, rng):
    r"""ULOT's training law: :math:`\alpha \sim 0.05\,\delta_0 + 0.05\,\delta_1 + 0.9\,
    \mathrm{Beta}(1/2, 1/2)` and :math:`\rho = e^{-9U}`, :math:`U \sim \mathcal{U}[0, 1]`.

    Parameters
    ----------
    n : int
        Number of draws.
    rng : int, RandomState instance or None
        Seed or generator, as scikit-learn's ``random_state``.

    Returns
    -------
    alpha, rho : ndarray of shape (n,)
    """
    rng = check_random_state(rng)
    alpha = rng.beta(0.5, 0.5, size=n)
    corner = rng.random_sample(n)
    alpha = np.where(corner < 0.05, 0.0, np.where(corner < 0.1, 1.0, alpha))
    rho = np.exp(-9.0 * rng.random_sample(n))
    return alpha, rho


def _buckets(sources, targets, max_batch_size):
    """:func:`~skgw._batching.pair_buckets` of prepared (source, target) graphs."""
    return pair_buckets(
        [s.p.shape[0] for s in sources], [t.p.shape[0] for t in targets],
        max_batch_size=max_batch_size, min_entries=MIN_BATCH_ENTRIES,
    )  # fmt: skip


def _is_graph_object(item):
    return isinstance(item, (Graph, tuple, dict)) or hasattr(item, "nodes")


def _looks_like_pair(item):
    """A 2-tuple of graph objects (not of arrays, which is one graph ``(C, F)``)."""
    return isinstance(item, tuple) and len(item) == 2 and all(_is_graph_object(g) for g in item)


def _per_sample(name, value, n):
    """``value`` (a scalar or one value per sample) as an array of ``n`` floats."""
    value = np.asarray(value, dtype=float)
    if value.ndim > 1 or (value.ndim == 1 and value.shape[0] != n):
        raise ValueError(
            f"{name} must be a scalar or have one value per sample ({n}), got shape {value.shape}."
        )
    return np.broadcast_to(value, (n,))


class FUGWPlanPredictor(GraphEstimatorMixin, BaseEstimator):
    r"""Predict fused unbalanced GW transport plans between graphs (ULOT).

    Parameters
    ----------
    alpha : float in [0, 1], default=0.5
        FUGW trade-off between structure (1) and features (0) used by ``predict`` unless overridden
        per call.
    rho : float > 0, default=1.0
        Marginal relaxation used by ``predict`` unless overridden (small: mass is destroyed).
    hidden_dim, gcn_dim, attention_dim : int, default=64, 16, 64
        Network widths (:class:`~skgw.plan_prediction.ULOTNetwork`).
    n_layers : int, default=5
        Applications of the weight-shared layer.
    sinkhorn_max_iter : int, default=10
        Sinkhorn updates of the plan head on the last layer's attention logits
        (:func:`~skgw.plan_prediction.scaled_attention_plan`); 0 is ULOT's plan (row and column
        softmax), more updates give sharper plans at :math:`O(nm)` each.
    max_iter : int, default=50
        Training epochs.
    n_pairs_per_epoch : int, default=4096
        Random training pairs per epoch.
    batch_size : int, default=32
        Pairs per Adam step.
    learning_rate : float, default=2e-3
    learning_rate_schedule : {"constant", "cosine"}, default="cosine"
        ``"cosine"``: the rate decays as :math:`\eta_t = \eta (1 + \cos(\pi t / T)) / 2`
        over the ``max_iter`` epochs (cosine annealing).
    objective : {"loss", "log_loss"}, default="log_loss"
        What Adam minimises over a batch: the mean FUGW loss (ULOT), or the mean of its
        logarithm, whose gradient :math:`\nabla \mathcal{L} / \mathcal{L}` weighs every pair
        by its relative error, so that pairs of small loss (small ``rho``: most mass destroyed)
        are learnt as well as the others.
    trade_off_sampling : {"ulot", "fixed"}, default="ulot"
        ``"ulot"``: each training pair draws :math:`\alpha \sim 0.05\delta_0 + 0.05\delta_1 +
        0.9\,\mathrm{Beta}(1/2, 1/2)` and :math:`\rho = e^{-9U}` (one network for every
        trade-off); ``"fixed"``: train on the constructor's ``alpha`` and ``rho`` only.
    validation_fraction : float in [0, 1), default=0.1
        Share of the training graphs held out (of the pairs, when pairs are given); the
        validation loss (on fixed held-out pairs and trade-offs) selects the best epoch's
        weights. When fewer than two graphs would be held out or kept (``0`` included), the
        validation pairs are drawn from the training graphs.
    n_validation_pairs : int, default=256
        Validation pairs drawn from the held-out graphs (not used when pairs are given).
    structure : {"shortest_path", "adjacency"}, default="shortest_path"
        Structure of the FUGW loss: shortest-path distances of the graph (ULOT) or the given
        matrix; the network's GCN always uses the given matrix as adjacency.
    reference : graph, default=None
        Graph that single-graph samples are aligned to; when None, the training graph (of up to
        32 drawn at random) with the lowest mean predicted loss to the others.
    device : str or torch.device, default="auto"
        Torch device; ``"auto"`` picks CUDA when available. The network moves to the current
        ``device`` when used, so ``set_params(device=...)`` after ``fit`` works, and a pickle
        holds it on the CPU.
    dtype : {"float32", "float64"}, default="float32"
        Precision of training. The trained network is kept in float64 and predictions are
        computed in float64, so that a sample's plan does not depend (through float32 rounding
        of batched products) on the other samples of a call.
    random_state : int, RandomState instance or None, default=None
        Seeds the network initialisation, the pairs and the trade-offs.
    verbose : int, default=0
        When positive, a progress bar over the training epochs with the training and validation
        losses, and over the pairs of the calls that take more than one batch
        (``pairwise_plan_mass`` of many graphs, ``refine``, ``predict``).

    Attributes
    ----------
    network_ : ULOTNetwork
        The trained network (torch module, in eval mode).
    reference_ : Graph
    loss_curve_ : list of float
        Training ``objective`` per epoch (mean FUGW loss, or mean log loss).
    validation_loss_curve_ : list of float
        The same on the validation pairs.
    best_epoch_ : int
        Epoch whose weights were kept (0-based).
    n_iter_ : int
        Epochs run.
    n_node_features_ : int
        Node feature dimension of the training graphs (0 without features).
    n_features_in_ : int
        Number of columns of 2-D input (point-cloud rows) seen at fit; absent for graph lists.

    Notes
    -----
    The paper's recipe is ``sinkhorn_max_iter=0, objective="loss", batch_size=256,
    learning_rate=1e-3, learning_rate_schedule="constant"``. The defaults are ours: on SBM
    graphs, for the same two minutes of training on a 2-core CPU (with a constant rate), they
    bring the median excess of the predicted plans' losses over a solver's from +288 % to +20 %
    (``benchmarks/train_ulot_sbm.py`` trains the shipped model with them).

    Examples
    --------
    >>> from skgw import FUGWPlanPredictor
    >>> from skgw.datasets import make_sbm_graphs
    >>> graphs, _ = make_sbm_graphs(20, n_nodes=(8, 12), random_state=0)
    >>> model = FUGWPlanPredictor(max_iter=2, n_pairs_per_epoch=64, random_state=0).fit(graphs)
    >>> plans = model.predict([graphs[0]], [graphs[1]], alpha=0.3, rho=0.1)
    >>> plans.shape == (1, graphs[0].n_nodes, graphs[1].n_nodes)
    True
    """

    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0, 1, closed="both")],
        "rho": [Interval(numbers.Real, 0, None, closed="neither")],
        "hidden_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "gcn_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "attention_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_layers": [Interval(numbers.Integral, 0, None, closed="left")],
        "sinkhorn_max_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_pairs_per_epoch": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"constant", "cosine"})],
        "objective": [StrOptions({"loss", "log_loss"})],
        "trade_off_sampling": [StrOptions({"ulot", "fixed"})],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "n_validation_pairs": [Interval(numbers.Integral, 1, None, closed="left")],
        "reference": "no_validation",
        **shared_constraints("structure", "device", "dtype", "random_state", "verbose"),
    }

    def __init__(
        self,
        alpha=0.5,
        rho=1.0,
        *,
        hidden_dim=64,
        gcn_dim=16,
        attention_dim=64,
        n_layers=5,
        sinkhorn_max_iter=10,
        max_iter=50,
        n_pairs_per_epoch=4096,
        batch_size=32,
        learning_rate=2e-3,
        learning_rate_schedule="cosine",
        objective="log_loss",
        trade_off_sampling="ulot",
        validation_fraction=0.1,
        n_validation_pairs=256,
        structure="shortest_path",
        reference=None,
        device="auto",
        dtype="float32",
        random_state=None,
        verbose=0,
    ):
        self.alpha = alpha
        self.rho = rho
        self.hidden_dim = hidden_dim
        self.gcn_dim = gcn_dim
        self.attention_dim = attention_dim
        self.n_layers = n_layers
        self.sinkhorn_max_iter = sinkhorn_max_iter
        self.max_iter = max_iter
        self.n_pairs_per_epoch = n_pairs_per_epoch
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.objective = objective
        self.trade_off_sampling = trade_off_sampling
        self.validation_fraction = validation_fraction
        self.n_validation_pairs = n_validation_pairs
        self.structure = structure
        self.reference = reference
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # -- samples -------------------------------------------------------------------------------

    def _graphs(self, name, X, reset):
        """The graphs of ``X`` (named ``name`` in the messages), checked against the training
        graphs' feature count unless ``reset``."""
        if isinstance(X, (list, tuple)):
            for i, item in enumerate(X):
                if _looks_like_pair(item):
                    raise TypeError(
                        f"{name}[{i}] is a 2-tuple of graphs; a 2-tuple is one graph (C, F). For "
                        "the plan from graph a to graph b, pass the sources and the targets "
                        "apart: predict([a], [b]) (fit: fit(graphs, pairs=[(i, j)]))."
                    )
        expected = None if reset else self.n_node_features_
        return validate_graphs(self, X, reset=reset, n_node_features=expected)

    def _n_node_features(self):
        return self.n_node_features_

    def _checked_pairs(self, pairs, n_graphs):
        """``pairs`` as an ``(n_pairs, 2)`` array of indices into the ``n_graphs`` graphs."""
        index = np.asarray(pairs)
        if index.ndim != 2 or index.shape[1] != 2 or len(index) == 0:
            raise ValueError(
                f"pairs must have shape (n_pairs, 2) (source and target indices into X), got "
                f"shape {index.shape}."
            )
        if not np.issubdtype(index.dtype, np.integer) or index.min() < 0 or index.max() >= n_graphs:
            raise ValueError(f"pairs must hold integer indices in [0, {n_graphs}) into X.")
        return index

    def _trade_offs(self, n, alpha, rho):
        """Per-sample (alpha, rho) arrays: the call's values (scalars or arrays) or the defaults."""
        alpha = _per_sample("alpha", self.alpha if alpha is None else alpha, n)
        rho = _per_sample("rho", self.rho if rho is None else rho, n)
        check_in_unit_interval("alpha", alpha)
        check_positive_finite("rho", rho)
        return alpha, rho

    # -- the network on batches of pairs ---------------------------------------------------------

    @staticmethod
    def _padded(sources, targets, device, dtype):
        """The padded sides and the normalised feature cost of a batch of prepared pairs."""
        source, target = pad_side(sources, device, dtype), pad_side(targets, device, dtype)
        return source, target, pair_feature_cost(source, target, sources[0].has_features)

    def _predicted_losses(self, sources, targets, alpha, rho, device, dtype):
        """Normalised FUGW losses of the network's plans of one batch of prepared pairs (with
        their gradient in the network's weights)."""
        source, target, D = self._padded(sources, targets, device, dtype)
        P = self.network_(source, target, alpha, rho, D)  # training: on the fit's device
        return fugw_loss(P, source.S, target.S, source.p, target.p, D=D, alpha=alpha, rho=rho)

    def _pairs(self, X, Y=None):
        """Prepared (source, target) graphs of every sample: ``(X[i], Y[i])``, or ``(X[i],
        reference_)`` when ``Y`` is None."""
        sources = [prepare_graph(g, self.structure) for g in self._graphs("X", X, reset=False)]
        if Y is None:
            reference = prepare_graph(self.reference_, self.structure)
            return [(source, reference) for source in sources]
        targets = [prepare_graph(g, self.structure) for g in self._graphs("Y", Y, reset=False)]
        if len(targets) != len(sources):
            raise ValueError(
                f"X has {len(sources)} graphs and Y {len(targets)}: predict(X, Y) pairs X[i] with "
                "Y[i]."
            )
        return list(zip(sources, targets, strict=True))

    def _network(self):
        """The trained network on the estimator's current ``device``."""
        return self.network_.to(self._device())

    def _batched(self, pairs, alpha, rho, function, desc="FUGWPlanPredictor", plans="predicted"):
        """Apply ``function(source, target, P, alpha, rho, D)`` batch by batch (no gradient),
        with a progress bar over the pairs when ``verbose`` and there is more than one batch.

        ``P`` is the network's plans (``plans="predicted"``), None (``plans=None``: the network
        is not run), or the given list of one plan per pair, padded.
        """
        device, dtype, network = self._device(), torch.float64, self._network()
        alphas, rhos = self._trade_offs(len(pairs), alpha, rho)
        results = []
        buckets = _buckets([s for s, _ in pairs], [t for _, t in pairs], PREDICT_BATCH_SIZE)
        bar = progress(
            total=len(pairs), verbose=self.verbose and len(buckets) > 1, desc=desc, unit="pair"
        )
        for chosen in buckets:
            a = torch.as_tensor(alphas[chosen], dtype=dtype, device=device)
            r = torch.as_tensor(rhos[chosen], dtype=dtype, device=device)
            with torch.no_grad():
                source, target, D = self._padded(
                    [pairs[k][0] for k in chosen], [pairs[k][1] for k in chosen], device, dtype
                )
                if isinstance(plans, str):
                    P = network(source, target, a, r, D)
                elif plans is None:
                    P = None
                else:
                    P = torch.zeros(len(chosen), source.S.shape[1], target.S.shape[1], dtype=dtype)
                    for b, k in enumerate(chosen):
                        P[b, : plans[k].shape[0], : plans[k].shape[1]] = torch.as_tensor(plans[k])
                    P = P.to(device)
                values = function(source, target, P, a, r, D)
            results.extend(zip(chosen, values, strict=True))
            bar.update(len(chosen))
        bar.close()
        results.sort(key=lambda item: item[0])
        return [value for _, value in results]

    # -- fit -----------------------------------------------------------------------------------

    def _build_network(self, n_features, seed, device, dtype):
        network = ULOTNetwork(
            n_features,
            hidden_dim=self.hidden_dim,
            gcn_dim=self.gcn_dim,
            attention_dim=self.attention_dim,
            n_layers=self.n_layers,
            sinkhorn_max_iter=self.sinkhorn_max_iter,
            generator=torch.Generator().manual_seed(seed),
        )
        return network.to(device=device, dtype=dtype)

    def _draw(self, n, rng):
        if self.trade_off_sampling == "ulot":
            return sample_trade_offs(n, rng)
        return np.full(n, float(self.alpha)), np.full(n, float(self.rho))

    def _objective(self, loss):
        """Training objective of a batch of FUGW losses (``objective``)."""
        if self.objective == "log_loss":
            return torch.log(loss + torch.finfo(loss.dtype).tiny).mean()
        return loss.mean()

    def _batch_objective(self, prepared, pairs, alphas, rhos, device, dtype, backward=False):
        """Mean objective of a batch of training pairs (indices into ``prepared``), computed on
        sub-batches of similar sizes (:func:`~skgw._batching.pair_buckets`) and, with
        ``backward``, its gradient accumulated on the network's parameters."""
        sources, targets = [prepared[i] for i in pairs[:, 0]], [prepared[j] for j in pairs[:, 1]]
        total = 0.0
        for chosen in _buckets(sources, targets, len(pairs)):
            a = torch.as_tensor(alphas[chosen], dtype=dtype, device=device)
            r = torch.as_tensor(rhos[chosen], dtype=dtype, device=device)
            loss = self._predicted_losses(
                [sources[k] for k in chosen], [targets[k] for k in chosen], a, r, device, dtype
            )
            objective = self._objective(loss) * (len(chosen) / len(pairs))
            if backward:
                objective.backward()
            total += float(objective.detach())
        return total

    def _mean_objective(self, prepared, pairs, alphas, rhos, device, dtype):
        total = 0.0
        for start in range(0, len(pairs), self.batch_size):
            chosen = slice(start, start + self.batch_size)
            total += self._batch_objective(
                prepared, pairs[chosen], alphas[chosen], rhos[chosen], device, dtype
            ) * len(pairs[chosen])
        return total / len(pairs)

    def _split(self, n_graphs, given_pairs, rng):
        """Training graphs (or pairs) and validation pairs.

        Returns ``(train_graphs, train_pairs, validation_pairs)``: with given pairs a share of
        them is held out; otherwise a share of the graphs is, and random pairs of it validate.
        """
        order = rng.permutation(n_graphs)
        if given_pairs is not None:
            n_held_out = int(round(self.validation_fraction * len(given_pairs)))
            held_out = rng.permutation(len(given_pairs))[:n_held_out]
            train_pairs = np.delete(given_pairs, held_out, axis=0)
            return None, train_pairs, given_pairs[held_out] if len(held_out) else train_pairs
        n_validation = int(round(self.validation_fraction * n_graphs))
        if n_validation >= 2 and n_graphs - n_validation >= 2:
            validation_graphs, train_graphs = order[:n_validation], order[n_validation:]
        else:
            validation_graphs = train_graphs = order
        validation_pairs = rng.choice(validation_graphs, size=(self.n_validation_pairs, 2))
        return train_graphs, None, validation_pairs

    @keeps_fitted_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, pairs=None):
        """Train the network on random pairs of the graphs of ``X`` (or on the given pairs).

        Parameters
        ----------
        X : graphs
            Any input of :func:`~skgw.as_graphs`.
        y : ignored
        pairs : array-like of shape (n_pairs, 2), default=None
            Training pairs as (source, target) indices into ``X``; None draws random pairs of
            the graphs of ``X`` every epoch.

        Returns
        -------
        self : FUGWPlanPredictor
        """
        graphs = self._graphs("X", X, reset=True)
        given_pairs = None if pairs is None else self._checked_pairs(pairs, len(graphs))
        self.n_node_features_ = graphs[0].n_node_features
        rng = check_random_state(self.random_state)
        device, dtype = self._device(), self._dtype()
        prepared = [prepare_graph(g, self.structure) for g in graphs]
        train_graphs, train_pairs, validation_pairs = self._split(len(graphs), given_pairs, rng)
        validation_alpha, validation_rho = self._draw(len(validation_pairs), rng)

        network = self._build_network(
            prepared[0].F.shape[1], rng.randint(np.iinfo(np.int32).max), device, dtype
        )
        self.network_ = network
        optimizer = torch.optim.Adam(network.parameters(), lr=self.learning_rate)
        schedule = None
        if self.learning_rate_schedule == "cosine":
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, self.max_iter)

        def run_epoch(epoch):
            if train_pairs is None:
                pairs = rng.choice(train_graphs, size=(self.n_pairs_per_epoch, 2))
            else:
                pairs = train_pairs[rng.randint(len(train_pairs), size=self.n_pairs_per_epoch)]
            alphas, rhos = self._draw(len(pairs), rng)
            total = 0.0
            for start in range(0, len(pairs), self.batch_size):
                chosen = slice(start, start + self.batch_size)
                optimizer.zero_grad()
                objective = self._batch_objective(
                    prepared, pairs[chosen], alphas[chosen], rhos[chosen], device, dtype,
                    backward=True,
                )  # fmt: skip
                optimizer.step()
                total += objective * len(pairs[chosen])
            return total / len(pairs)

        def validate():
            return self._mean_objective(
                prepared, validation_pairs, validation_alpha, validation_rho, device, dtype
            )

        history = train(
            run_epoch, self.max_iter, module=network, validate=validate, schedule=schedule,
            verbose=self.verbose, desc="FUGWPlanPredictor",
        )  # fmt: skip
        self.loss_curve_ = history.loss_curve
        self.validation_loss_curve_ = history.validation_loss_curve
        self.best_epoch_ = history.best_epoch
        self.n_iter_ = len(self.loss_curve_)
        self.network_ = network.double().eval()
        self.reference_ = self._choose_reference(graphs, prepared, rng)
        return self

    def _choose_reference(self, graphs, prepared, rng):
        if self.reference is not None:
            reference = as_graphs([self.reference])[0]
            check_n_node_features([reference], self.n_node_features_)
            return reference
        candidates = rng.permutation(len(graphs))[:N_REFERENCE_CANDIDATES]
        pairs = [(prepared[i], prepared[j]) for i in candidates for j in candidates]
        losses = self._batched(pairs, None, None, lambda *args: self._losses(*args))
        mean = np.reshape(losses, (len(candidates), len(candidates))).mean(axis=1)
        return graphs[candidates[int(np.argmin(mean))]]

    @staticmethod
    def _losses(source, target, P, alpha, rho, D):
        loss = fugw_loss(P, source.S, target.S, source.p, target.p, D=D, alpha=alpha, rho=rho)
        return loss.double().cpu().numpy()

    # -- predictions ---------------------------------------------------------------------------

    @staticmethod
    def _unpadded(source, target, P):
        return [
            P[b, :n, :m].double().cpu().numpy()
            for b, (n, m) in enumerate(zip(source.sizes, target.sizes, strict=True))
        ]

    @staticmethod
    def _stacked(plans):
        if len({plan.shape for plan in plans}) == 1:
            return np.stack(plans)
        return plans

    def predict(self, X, Y=None, alpha=None, rho=None):
        """Predicted FUGW plans from each graph of ``X`` to the graph of ``Y`` of the same index,
        or to ``reference_``.

        Parameters
        ----------
        X : graphs
            The sources: any input of :func:`~skgw.as_graphs`.
        Y : graphs, default=None
            The targets, one per source; None aligns every source to ``reference_``.
        alpha, rho : float or array-like of shape (n_samples,), default=None
            Trade-offs of this call, one for all samples or one per sample (the constructor's
            when None).

        Returns
        -------
        plans : ndarray of shape (n_samples, n_source, n_target), or list of ndarray
            A list when the plans' shapes differ.
        """
        check_is_fitted(self)
        plans = self._batched(
            self._pairs(X, Y), alpha, rho, lambda s, t, P, *_: self._unpadded(s, t, P)
        )
        return self._stacked(plans)

    def predict_loss(self, X, Y=None, alpha=None, rho=None):
        """Normalised FUGW loss of the predicted plan of each sample, ndarray (n_samples,).

        Parameters as in :meth:`predict`.
        """
        check_is_fitted(self)
        return np.asarray(self._batched(self._pairs(X, Y), alpha, rho, self._losses))

    def refine(self, X, Y=None, alpha=None, rho=None, *, return_n_iter=False, **solver_params):
        """Plans of our FUGW solver (:func:`skgw.ot.fugw_plan`) warm-started at the predictions.

        Parameters
        ----------
        X, Y, alpha, rho
            As in :meth:`predict`.
        return_n_iter : bool, default=False
            Also return the solver's block-coordinate steps per sample.
        **solver_params
            Settings of :func:`skgw.ot.fugw_plan` (its defaults unless given): ``max_iter``,
            ``inner_max_iter``, ``inner``, ``proximal_weight``, ``tol``, ``inner_tol``,
            ``epsilon``. Samples whose solve did not converge raise one ``ConvergenceWarning``
            for the call, whatever the number of batches.

        Returns
        -------
        plans : ndarray or list of ndarray
        n_iter : ndarray of shape (n_samples,), only with ``return_n_iter``

        See Also
        --------
        solve : The same solver from its own start.

        Notes
        -----
        FUGW is not convex: the solver ends in the local minimum whose basin holds its start. On
        the shipped model's SBM pairs the predicted start saves most steps where the features
        weigh (``alpha < 0.8``); near ``alpha = 1`` it can keep a matching of the nodes inside
        clusters that the default start (the product of the node weights) would not, and end a
        few per cent higher (the documentation's benchmarks page, "Warm start").
        """
        return self._solver_plans(X, Y, alpha, rho, True, solver_params, return_n_iter)

    def solve(self, X, Y=None, alpha=None, rho=None, *, return_n_iter=False, **solver_params):
        """Plans of our FUGW solver (:func:`skgw.ot.fugw_plan`) on the samples' problems, from
        the solver's own start (the product of the node weights), to compare with ``predict``.

        The problems are those the predictions solve (normalised as in
        :mod:`skgw.plan_prediction`), so :meth:`plan_loss` scores both alike. Parameters and
        returns as in :meth:`refine`.

        Examples
        --------
        >>> from skgw.datasets import make_sbm_graphs
        >>> from skgw.plan_prediction import load_pretrained
        >>> model = load_pretrained()
        >>> graphs, _ = make_sbm_graphs(4, random_state=0)
        >>> sources, targets = graphs[:2], graphs[2:]
        >>> predicted = model.predict(sources, targets, 0.5, 0.1)
        >>> solved = model.solve(sources, targets, 0.5, 0.1)
        >>> model.plan_loss(sources, targets, plans=predicted, alpha=0.5, rho=0.1).shape
        (2,)
        """
        return self._solver_plans(X, Y, alpha, rho, False, solver_params, return_n_iter)

    def _solver_plans(self, X, Y, alpha, rho, warm_start, solver_params, return_n_iter):
        """:meth:`refine` (``warm_start``) or :meth:`solve`."""
        check_is_fitted(self)
        unknown = set(solver_params) - SOLVER_SETTINGS
        if unknown:
            raise TypeError(
                f"Unknown solver setting(s) {sorted(unknown)}; skgw.ot.fugw_plan takes "
                f"{sorted(SOLVER_SETTINGS)} here."
            )

        settings = {**FUGW_DEFAULTS, **solver_params}

        def solve(source, target, P, a, r, D):
            plans, log = _checked_fugw_plan(
                source.S, target.S, source.p, target.p, D, P, alpha=a, rho=r, **settings
            )
            logs = [{key: value[b] for key, value in log.items()} for b in range(len(plans))]
            return list(zip(self._unpadded(source, target, plans), logs, strict=True))

        desc, start = ("refine", "predicted") if warm_start else ("solve", None)
        results = self._batched(self._pairs(X, Y), alpha, rho, solve, desc=desc, plans=start)
        # One warning for the call, over all its batches.
        log = {key: torch.stack([entry[key] for _, entry in results]) for key in results[0][1]}
        warn_fugw_unconverged(log, f"FUGWPlanPredictor.{desc}", settings)
        plans = self._stacked([plan for plan, _ in results])
        if return_n_iter:
            return plans, log["n_iter"].cpu().numpy()
        return plans

    def plan_loss(self, X, Y=None, *, plans, alpha=None, rho=None):
        """Normalised FUGW loss (:func:`skgw.ot.fugw_loss`) of given plans on the samples'
        problems: those of :meth:`predict`, :meth:`refine`, :meth:`solve`, or any other solver's.

        Parameters
        ----------
        X, Y, alpha, rho
            As in :meth:`predict`.
        plans : ndarray of shape (n_samples, n_source, n_target), or list of ndarray
            One nonnegative plan per sample, of the shape of its pair.

        Returns
        -------
        loss : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        pairs = self._pairs(X, Y)
        if len(plans) != len(pairs):
            raise ValueError(f"{len(plans)} plans for {len(pairs)} samples.")
        checked = []
        for k, ((source, target), plan) in enumerate(zip(pairs, plans, strict=True)):
            plan = np.asarray(plan, dtype=np.float64)
            expected = (source.p.shape[0], target.p.shape[0])
            if plan.shape != expected:
                raise ValueError(f"Plan {k}: shape {plan.shape}, sample {k}'s pair is {expected}.")
            if not np.isfinite(plan).all() or (plan < 0).any():
                raise ValueError(f"Plan {k}: entries must be finite and nonnegative.")
            checked.append(plan)
        return np.asarray(self._batched(pairs, alpha, rho, self._losses, plans=checked))

    def pairwise_plan_mass(self, X, Y=None, alpha=None, rho=None):
        """Total mass of the predicted plans between graphs: a similarity matrix.

        Parameters
        ----------
        X : graphs
        Y : graphs, default=None
            None: ``X`` itself, and the matrix is symmetrised
            (:math:`(m(P_{ij}) + m(P_{ji})) / 2`), usable as a precomputed affinity.
        alpha, rho : float, default=None

        Returns
        -------
        masses : ndarray of shape (n_X, n_Y)
        """
        check_is_fitted(self)
        first = [prepare_graph(g, self.structure) for g in self._graphs("X", X, reset=False)]
        second = first
        if Y is not None:
            second = [prepare_graph(g, self.structure) for g in self._graphs("Y", Y, reset=False)]
        pairs = [(s, t) for s in first for t in second]

        def plan_masses(source, target, P, *_):
            return P.sum(dim=(1, 2)).double().cpu().numpy()

        masses = self._batched(pairs, alpha, rho, plan_masses, desc="pairwise_plan_mass")
        matrix = np.reshape(masses, (len(first), len(second)))
        return (matrix + matrix.T) / 2 if Y is None else matrix

    def plan_tensor(self, source, target, alpha, rho):
        """The plan of one pair as a differentiable torch tensor.

        Gradients flow to every tensor argument: ``alpha`` and ``rho`` (0-d tensors), node
        features and adjacency structures (so that trade-offs can be tuned, or a graph moved, by
        gradient descent). The network's own weights are not trained by this call.

        Parameters
        ----------
        source, target : tuple of Tensor or Graph
            ``(A, F)`` or ``(A, F, p)``: adjacency (n, n), node features (n, d), node weights
            (n,) (uniform when omitted); tensors of any float dtype or arrays, cast to float64 on
            the model's device (the casts are differentiable). ``F`` is None (or of shape
            (n, 0)) for a model fitted on graphs without features. A :class:`~skgw.Graph` is
            read as ``(C, F, p)``.
        alpha, rho : float or 0-d Tensor
            Checked as in :meth:`predict` (``ValueError`` outside their ranges).

        Returns
        -------
        P : Tensor of shape (n, m)

        Examples
        --------
        >>> import torch
        >>> from skgw.plan_prediction import load_pretrained
        >>> model = load_pretrained()
        >>> A = torch.triu((torch.rand(6, 6) < 0.5).double(), 1); A = A + A.T
        >>> F = torch.rand(6, 3, dtype=torch.float64)
        >>> alpha = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        >>> P = model.plan_tensor((A, F), (A, F), alpha, 0.5)
        >>> P.sum().backward(); alpha.grad is not None
        True
        """
        check_is_fitted(self)
        device, network = self._device(), self._network()
        sides = []
        for name, graph in (("source", source), ("target", target)):
            A, F, p = self._checked_tensors(name, graph, device)
            mask = torch.ones(1, A.shape[0], dtype=torch.bool, device=device)
            sides.append(
                PairSide(F[None], normalized_adjacency(A[None], mask), None, p[None], mask,
                         np.array([A.shape[0]]))
            )  # fmt: skip
        alpha, rho = (_float64_tensor(value, device).reshape(1) for value in (alpha, rho))
        check_in_unit_interval("alpha", alpha)
        check_positive_finite("rho", rho)
        D = pair_feature_cost(sides[0], sides[1], self.n_node_features_ > 0)
        return network(sides[0], sides[1], alpha, rho, D)[0]

    def _checked_tensors(self, name, graph, device):
        """``(A, F)`` or ``(A, F, p)`` as float64 tensors on ``device``, ``p`` uniform if absent."""
        if isinstance(graph, Graph):
            graph = (graph.C, graph.F, graph.p)
        if not isinstance(graph, (tuple, list)) or len(graph) not in (2, 3):
            kind = type(graph).__name__
            raise TypeError(f"{name} must be a tuple (A, F) or (A, F, p) or a Graph, got {kind}.")
        A, F, *p = (None if x is None else _float64_tensor(x, device) for x in graph)
        n = A.shape[0] if A.ndim else 0
        if A.ndim != 2 or A.shape[1] != n or n == 0:
            shape = tuple(A.shape)
            raise ValueError(f"{name}: adjacency must be a nonempty square matrix, got {shape}.")
        expected = (n, self.n_node_features_)
        if self.n_node_features_ == 0 and (F is None or tuple(F.shape) == expected):
            F = A.new_ones((n, 1))  # without features, the network's input is one constant column
        elif F is None or tuple(F.shape) != expected:
            got = None if F is None else tuple(F.shape)
            raise ValueError(f"{name}: node features must have shape {expected}, got {got}.")
        p = p[0] if p and p[0] is not None else A.new_full((n,), 1.0 / n)
        if tuple(p.shape) != (n,):
            raise ValueError(f"{name}: node weights must have shape ({n},), got {tuple(p.shape)}.")
        for what, values in (("adjacency", A), ("node features", F), ("node weights", p)):
            if not torch.isfinite(values).all():
                raise ValueError(f"{name}: NaN or infinite entries in the {what}.")
        if (A < 0).any():
            raise ValueError(f"{name}: adjacency has negative entries.")
        if (p < 0).any() or not p.sum() > 0:
            raise ValueError(f"{name}: node weights must be nonnegative with a positive sum.")
        return A, F, p


def _float64_tensor(value, device):
    """Float64 on ``device``: a differentiable cast of a tensor, a copy of anything else."""
    if isinstance(value, torch.Tensor):
        return value.to(device=device, dtype=torch.float64)
    return torch.tensor(np.asarray(value, dtype=np.float64), device=device)
