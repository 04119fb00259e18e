r"""Gromov-Wasserstein factorization (GWF, Xu 2020): graphs as GW barycenters of learned atoms."""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from ._base import GraphEstimatorMixin, shared_constraints
from ._batching import check_dtype_range, pad_graphs, pad_stack, size_buckets
from ._features import FEATURE_SCALINGS, fit_feature_scaling, scale_graph_features
from ._fit_state import keeps_fitted_state_on_error
from ._graphs import Graph
from ._progress import progress
from ._training import train
from .ot.barycenter import _closed_form, _fgw_barycenter, _solve_plans, check_solver_params
from .ot.gw import _feature_cost, _fgw_loss

__all__ = ["GromovWassersteinFactorization"]

PAPER_EPSILON = {"ppa": 0.02, "badmm": 1.0}
"""The paper's gamma (0.01 for PPA, 1 for BADMM) as the ``epsilon`` of :mod:`skgw.ot`."""

SOLVER_DEFAULTS = {
    "ppa": {"max_iter": 50, "sinkhorn_max_iter": 1, "tol": 1e-5, "init": "product"},
    "badmm": {"max_iter": 50, "init": "product"},
}
"""The solvers' settings unless ``solver_params`` says otherwise: the paper's ``M = 50`` steps
and, for PPA, its single Sinkhorn scaling per step."""

VARIANT_DEFAULTS = {"reconstruction_plan": "solve", "atom_learning_rate": None, "atom_size": None}
"""The model as in the paper unless ``variant_params`` says otherwise."""

TRANSFORM_STEPS_PER_PLAN = 10
"""Adam steps on the embedding between two plan updates in ``transform`` (plans held fixed)."""


class _Atoms(torch.nn.Module):
    r"""The K atoms: structures :math:`U_k = \max(V_k, 0)` (symmetrised for undirected data),
    uniform node weights on each atom's real nodes, optional features :math:`H_k`."""

    def __init__(self, structures, features, sizes, symmetric):
        super().__init__()
        self.V = torch.nn.Parameter(structures)
        self.H = None if features is None else torch.nn.Parameter(features)
        n_max = structures.shape[1]
        mask = torch.arange(n_max, device=structures.device)[None, :] < sizes[:, None]
        self.register_buffer("q", mask.to(structures.dtype) / sizes[:, None].to(structures.dtype))
        self.register_buffer(
            "pair_mask", (mask[:, :, None] & mask[:, None, :]).to(structures.dtype)
        )
        self.symmetric = symmetric

    def structures(self):
        U = 0.5 * (self.V + self.V.transpose(1, 2)) if self.symmetric else self.V
        return U * self.pair_mask

    def features(self):
        return None if self.H is None else self.H * (self.q > 0)[:, :, None]

    @torch.no_grad()
    def project(self):
        """Keep the structures nonnegative after a gradient step (projected gradient)."""
        self.V.clamp_(min=0.0)


class GromovWassersteinFactorization(
    GraphEstimatorMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    r"""Gromov-Wasserstein factorization: embed graphs as barycentric weights over learned atoms.

    Each graph :math:`(C_i, \mu_i, F_i)` is approximated by the (fused) GW barycenter of ``K``
    atom graphs :math:`(U_k, H_k)` with weights :math:`\lambda_i = \mathrm{softmax}(z_i)`,
    computed by ``L`` steps of Algorithm 3 of Xu (2020) started at :math:`B^{(0)} = C_i`:

    .. math::
        B^{(l+1)}_i = \frac{\sum_k \lambda_{ik} T_{ik} U_k T_{ik}^\top}{\mu_i \mu_i^\top},
        \qquad T_{ik} = \mathrm{GWD}^{(M)}(B^{(l)}_i, U_k),

    and atoms and weights minimise the reconstruction discrepancy (paper eq. 12, fused eq. 16)

    .. math:: \sum_i \mathrm{FGW}_\alpha(B^{(L)}_i, C_i)
              + \beta \sum_{i \text{ labelled}} \mathrm{CE}(W z_i + b, y_i)

    by Adam, with every plan computed without gradient (envelope theorem). The embedding of a
    graph is :math:`\lambda_i`. Graphs are processed in padded mini-batches of similar sizes,
    all ``B x K`` barycenter problems of a batch in one batched solve.

    ``transform`` embeds any graphs with the atoms frozen by optimising :math:`z` from zero
    (uniform weights): ``transform_max_iter`` times, the plans are recomputed at the current
    weights, then held fixed for ``TRANSFORM_STEPS_PER_PLAN`` (10) Adam steps on :math:`z`, each
    a closed-form barycenter update (block-coordinate descent); ``fit_transform`` is ``fit``
    followed by ``transform``, so training and new graphs are embedded the same way and each
    graph's embedding depends on no other graph of the call.

    Parameters
    ----------
    n_components : int, default=30
        Number of atoms ``K``.
    solver : {"ppa", "badmm"}, default="ppa"
        GWD module: proximal point (Algorithm 1, :func:`skgw.ot.fgw_plan_ppa`) or Bregman ADMM
        (Algorithm 2, :func:`skgw.ot.fgw_plan_badmm`).
    epsilon : float, default=None
        The solver's proximal weight, in the units of :mod:`skgw.ot` (POT's for PPA); None takes
        the paper's: its PPA :math:`\gamma = 0.01` is ``epsilon=0.02``, its BADMM
        :math:`\gamma = 1` is ``epsilon=1``.
    alpha : float, default=0.5
        Fused GW trade-off (weight of the structure term; 0.5 weighs structure and features
        equally as in the paper); ignored for graphs without node features.
    feature_scaling : {"unit_total_variance", "standard"} or None, default="unit_total_variance"
        Affine map of the node features fitted on the training nodes and applied to every graph
        the model sees: each column centred and divided by its standard deviation
        (``"standard"``) and, by default, all varying columns further by the square root of their
        number :math:`r`, :math:`\tilde f_j = (f_j - m_j) / (\sigma_j \sqrt r)`, so that the
        squared feature distance of two random training nodes averages 2 whatever the units and
        the dimension. None uses the features as given, as the paper does. ``components_`` and
        ``inverse_transform`` give features in the input's units.
    barycenter_max_iter : int, default=2
        Barycenter steps ``L``.
    init : {"sample", "sample_by_size", "random"}, default="sample"
        Atoms start as ``K`` randomly chosen training graphs (paper's warm start), as ``K``
        training graphs drawn one from each of ``K`` equal-count bins of the graphs sorted by
        size (stratified sampling: the atoms' sizes follow the quantiles of the data's; as
        ``"sample"`` when ``K`` exceeds the number of graphs), or as random graphs (of
        ``variant_params["atom_size"]`` nodes, the median training graph size by default).
    max_iter : int, default=10
        Training epochs. The atoms kept are those at the end of the epoch of lowest mean
        training loss (``best_epoch_``), not necessarily the last.
    transform_max_iter : int, default=3
        Plan updates when embedding graphs (each followed by 10 Adam steps on :math:`z`).
    learning_rate : float, default=0.05
        Adam rate of the embeddings and of the atoms.
    batch_size : int, default=32
        Graphs per mini-batch (batches group graphs of similar sizes).
    label_weight : float, default=0.0
        Weight :math:`\beta` of the semi-supervised cross-entropy (paper eq. 14); used when
        ``y`` is passed to ``fit``, unlabelled graphs marked ``-1`` (sklearn's convention: a
        class named ``-1``, as in MUTAG, must be re-encoded first, e.g. with
        :class:`~sklearn.preprocessing.LabelEncoder`).
    structure : {"adjacency", "shortest_path"}, default="adjacency"
    node_weights : {"uniform", "degree"}, default="uniform"
        Input options, see :func:`skgw.as_graphs`.
    device : str or torch.device, default="auto"
        Torch device; ``"auto"`` picks CUDA when available.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the torch computations (``fit``, ``transform``, ``score``,
        ``inverse_transform``); embeddings, atoms and barycenter graphs come back in float64.
    solver_params : dict, default=None
        Settings of the solver beside ``epsilon``, updating the paper's: ``max_iter`` (steps
        ``M``, 50), ``init`` (start of every plan, :func:`skgw.ot.initial_plan`: ``"product"``
        as in the paper, ``"perturbed_product"``, which lets the plans tell apart the
        automorphic nodes of molecules at the price of a slight dependence on the node order, or
        ``"profile"``) and, for PPA, ``sinkhorn_max_iter`` (Sinkhorn updates per step, 1) and
        ``tol`` (a problem whose loss changes by less than ``tol`` in a step, relative to its
        product plan's, stops, 1e-5), for BADMM ``tol`` (primal residual, 1e-6); see
        :func:`skgw.ot.fgw_plan_ppa` and :func:`skgw.ot.fgw_plan_badmm`. A setting the solver
        does not take raises a ``TypeError``.
    variant_params : dict, default=None
        Departures from the paper's model, for reproducing other code (see the user guide's
        "Reproducing the paper"): ``reconstruction_plan`` (``"solve"``: the barycenter-graph plan
        of the loss is solved by the GWD module as in the paper; ``"identity"``: ``diag(mu_i)``,
        as in the authors' code), ``atom_learning_rate`` (Adam rate of the atoms, None: as
        ``learning_rate``; 0 keeps the atoms at their initial graphs, as the authors' code did at
        the time of the paper) and ``atom_size`` (size of the random atoms of ``init="random"``).
    random_state : int, RandomState instance or None, default=None
        Seeds the atoms drawn (or generated), the label head and the order of the
        mini-batches; an int makes ``fit`` reproducible.
    verbose : int, default=0
        When positive, progress bars of ``fit`` (epochs, with the loss) and ``transform``
        (graphs).

    Attributes
    ----------
    components_ : list of Graph
        The learned atoms (structure, uniform node weights, features).
    embedding_ : ndarray of shape (n_graphs, n_components)
        Weights of the training graphs as learned jointly with the atoms during ``fit`` (the
        :math:`\mathrm{softmax}(z_i)` the paper clusters), at the end of ``best_epoch_``;
        ``transform`` re-optimises the weights of any graphs against the kept atoms instead.
    loss_curve_ : list of float
        Mean training loss per epoch (each mini-batch's loss before its step).
    best_epoch_ : int
        Epoch whose atoms and weights were kept (0-based): the lowest of ``loss_curve_``.
    reconstruction_err_ : float
        Mean reconstruction discrepancy of the training graphs in ``best_epoch_``.
    n_iter_ : int
        Epochs run.
    feature_mean_, feature_scale_ : ndarray of shape (n_node_features,) or None
        The centre and divisor of the node features (None without ``feature_scaling`` or
        without node features).
    n_features_in_ : int
        Columns of a 2-D table seen at fit (point-cloud rows); absent for graph lists.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame seen at fit.

    See Also
    --------
    skgw.ot.fgw_barycenter : the batched barycenter module.

    References
    ----------
    .. [1] Xu. Gromov-Wasserstein factorization models for graph clustering. AAAI 2020.

    Examples
    --------
    >>> from skgw import GromovWassersteinFactorization
    >>> from skgw.datasets import make_sbm_graphs
    >>> graphs, y = make_sbm_graphs(12, n_nodes=(8, 12), random_state=0)
    >>> gwf = GromovWassersteinFactorization(n_components=3, max_iter=2, random_state=0)
    >>> gwf.fit_transform(graphs).shape
    (12, 3)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions(set(SOLVER_DEFAULTS))],
        "epsilon": [Interval(Real, 0, None, closed="neither"), None],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "feature_scaling": [StrOptions(set(FEATURE_SCALINGS)), None],
        "barycenter_max_iter": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"sample", "sample_by_size", "random"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "transform_max_iter": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "label_weight": [Interval(Real, 0, None, closed="left")],
        "variant_params": [dict, None],
        **shared_constraints(),
    }

    def __init__(
        self,
        n_components=30,
        *,
        solver="ppa",
        epsilon=None,
        alpha=0.5,
        feature_scaling="unit_total_variance",
        barycenter_max_iter=2,
        init="sample",
        max_iter=10,
        transform_max_iter=3,
        learning_rate=0.05,
        batch_size=32,
        label_weight=0.0,
        structure="adjacency",
        node_weights="uniform",
        device="auto",
        dtype="float32",
        solver_params=None,
        variant_params=None,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.solver = solver
        self.epsilon = epsilon
        self.alpha = alpha
        self.feature_scaling = feature_scaling
        self.barycenter_max_iter = barycenter_max_iter
        self.init = init
        self.max_iter = max_iter
        self.transform_max_iter = transform_max_iter
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.label_weight = label_weight
        self.structure = structure
        self.node_weights = node_weights
        self.device = device
        self.dtype = dtype
        self.solver_params = solver_params
        self.variant_params = variant_params
        self.random_state = random_state
        self.verbose = verbose

    # -- shared pieces -------------------------------------------------------------------------

    def _solver_params(self):
        """The solver's settings: the paper's, updated by ``epsilon`` and ``solver_params``."""
        epsilon = PAPER_EPSILON[self.solver] if self.epsilon is None else self.epsilon
        return {**SOLVER_DEFAULTS[self.solver], "epsilon": epsilon, **(self.solver_params or {})}

    def _variant(self, name):
        """A setting of ``variant_params`` (the paper's unless given)."""
        return {**VARIANT_DEFAULTS, **(self.variant_params or {})}[name]

    def _check_settings(self):
        """Errors in ``solver_params`` and ``variant_params``, once per call, before any work."""
        check_solver_params(self.solver, self._solver_params())
        variant = {**VARIANT_DEFAULTS, **(self.variant_params or {})}
        unknown = sorted(set(variant) - set(VARIANT_DEFAULTS))
        if unknown:
            raise ValueError(
                f"variant_params: unknown key(s) {unknown}; it takes {sorted(VARIANT_DEFAULTS)}."
            )
        checks = {
            "reconstruction_plan": lambda v: v in ("solve", "identity"),
            "atom_learning_rate": lambda v: v is None or (isinstance(v, Real) and v >= 0),
            "atom_size": lambda v: v is None or (isinstance(v, Integral) and v >= 1),
        }
        for key, valid in checks.items():
            if not valid(variant[key]):
                raise ValueError(f"variant_params[{key!r}] is invalid: {variant[key]!r}.")

    def _batches(self, graphs, device, dtype):
        """Padded batches of similar-size graphs, with their indices."""
        check_dtype_range(graphs, dtype)
        buckets = size_buckets([g.n_nodes for g in graphs], max_batch_size=self.batch_size)
        return [
            (index, pad_graphs([graphs[i] for i in index], device=device, dtype=dtype))
            for index in buckets
        ]

    @torch.no_grad()
    def _barycenter(self, atoms, weights, batch, n_iter, first_plans=None):
        """:func:`~skgw.ot.fgw_barycenter` of the batch's graphs over the atoms, no gradient:
        ``(C, F, plans)``."""
        C, F, plans, _ = _fgw_barycenter(
            weights,
            atoms.structures(),
            atoms.q,
            batch.C,
            batch.p,
            H=atoms.features(),
            F0=batch.F,
            alpha=self.alpha,
            max_iter=n_iter,
            solver=self.solver,
            solver_params=self._solver_params(),
            first_plans=first_plans,
        )
        return C, F, plans

    @torch.no_grad()
    def _plans(self, atoms, weights, batch, first_plans=None):
        """The plans of the reconstruction at the given weights, without gradient.

        Returns the barycenter-atom plans of the last barycenter step, ``(B, K, n, m)``, and the
        barycenter-graph plan ``(B, n, n)`` of eq. 12 / 16. ``first_plans``: see
        :meth:`_first_plans`.
        """
        C_B, F_B, plans = self._barycenter(
            atoms, weights, batch, self.barycenter_max_iter, first_plans
        )
        if self._variant("reconstruction_plan") == "identity":
            return plans, torch.diag_embed(batch.p)
        T, _ = _solve_plans(
            C_B,
            batch.C,
            batch.p,
            batch.p,
            F1=F_B,
            F2=batch.F,
            alpha=self.alpha,
            solver=self.solver,
            solver_params=self._solver_params(),
        )
        return plans, T

    def _first_plans(self, atoms, batch):
        """The first barycenter step's plans GWD(C_i, U_k): they do not depend on the weights."""
        uniform = atoms.q.new_full((len(batch.sizes), self.n_components), 1 / self.n_components)
        return self._barycenter(atoms, uniform, batch, n_iter=1)[2]

    def _reconstruction_loss(self, atoms, weights, batch, plans, T):
        """Per-graph FGW discrepancy between each graph and its barycenter, plans held fixed.

        Differentiable in the weights and the atoms (envelope theorem, eq. 12-13 / 16-17).
        """
        C_B, F_B = _closed_form(weights, atoms.structures(), plans, batch.p, atoms.features())
        D = None if batch.F is None else _feature_cost(F_B, batch.F)
        return _fgw_loss(C_B, batch.C, T, D, self.alpha)

    def _scaled(self, graphs, inverse=False):
        """``graphs`` with the fitted feature scaling applied (``inverse``: undone)."""
        return scale_graph_features(graphs, self.feature_mean_, self.feature_scale_, inverse)

    def _atoms_module(self, device, dtype):
        """The frozen atoms of a fitted model as a module on ``device``, features scaled."""
        components = self._scaled(self.components_)
        sizes = [g.n_nodes for g in components]
        options = {"device": device, "dtype": dtype}
        atoms = _Atoms(
            pad_stack([g.C for g in components], max(sizes), node_dims=2, **options),
            None
            if components[0].F is None
            else pad_stack([g.F for g in components], max(sizes), **options),
            torch.as_tensor(sizes, device=device),
            symmetric=False,
        )
        return atoms.requires_grad_(False)

    # -- fit -----------------------------------------------------------------------------------

    def _initial_atoms(self, graphs, rng, device, dtype, generator):
        K = self.n_components
        atom_size = self._variant("atom_size")
        if self.init != "random":
            if atom_size is not None:
                warnings.warn(
                    f"variant_params['atom_size']={atom_size} is ignored with init="
                    f"{self.init!r}: the atoms take the sizes of the sampled graphs (init='random' "
                    "uses it).",
                    UserWarning,
                    stacklevel=2,
                )
            atoms = [graphs[i] for i in self._sampled_graph_indices(graphs, rng)]
            sizes = np.array([g.n_nodes for g in atoms])
            batch = pad_graphs(atoms, device=device, dtype=dtype)
            return batch.C.clone(), None if batch.F is None else batch.F.clone(), sizes
        size = atom_size or int(np.median([g.n_nodes for g in graphs]))
        scale = float(np.mean([g.C.mean() for g in graphs])) * 2.0
        U = torch.rand(K, size, size, generator=generator, dtype=dtype) * scale
        U = (0.5 * (U + U.transpose(1, 2))).to(device)
        H = None
        if graphs[0].F is not None:
            all_features = np.vstack([g.F for g in graphs])
            mean = torch.as_tensor(all_features.mean(0), dtype=dtype)
            std = torch.as_tensor(all_features.std(0), dtype=dtype)
            noise = torch.randn(K, size, all_features.shape[1], generator=generator, dtype=dtype)
            H = (mean + std * noise).to(device)
        return U, H, np.full(K, size)

    def _sampled_graph_indices(self, graphs, rng):
        """Training graphs the atoms start from: ``K`` drawn at random, or one drawn from each
        of ``K`` equal-count strata of the graphs sorted by size (ties in random order)."""
        K = self.n_components
        if self.init == "sample" or K > len(graphs):
            return rng.choice(len(graphs), size=K, replace=K > len(graphs))
        sizes = np.array([g.n_nodes for g in graphs])
        shuffled = rng.permutation(len(graphs))
        by_size = shuffled[np.argsort(sizes[shuffled], kind="stable")]
        return np.array([rng.choice(stratum) for stratum in np.array_split(by_size, K)])

    @keeps_fitted_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the atoms (paper Algorithm 4, batched).

        Parameters
        ----------
        X : graphs
            A list of graphs, a 3-D array or a 2-D table (see :func:`skgw.as_graphs`).
        y : array-like of shape (n_graphs,), default=None
            Labels for the semi-supervised loss (used when ``label_weight > 0``), ``-1`` for
            unlabelled graphs.

        Returns
        -------
        self : object
        """
        graphs = self._validated(X, reset=True)
        self._check_settings()
        self.feature_mean_, self.feature_scale_ = fit_feature_scaling(graphs, self.feature_scaling)
        graphs = self._scaled(graphs)
        rng = check_random_state(self.random_state)
        device, dtype = self._device(), self._dtype()
        generator = torch.Generator().manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
        n_graphs, K = len(graphs), self.n_components

        U, H, sizes = self._initial_atoms(graphs, rng, device, dtype, generator)
        symmetric = all(np.array_equal(g.C, g.C.T) for g in graphs)
        atoms = _Atoms(U, H, torch.as_tensor(sizes, device=device), symmetric)
        batches = self._batches(graphs, device, dtype)
        # One parameter per batch: Adam skips parameters without gradient, so the embeddings
        # of graphs outside the current batch do not drift with stale momentum.
        z = [
            torch.nn.Parameter(torch.zeros(len(index), K, dtype=dtype, device=device))
            for index, _ in batches
        ]
        parameters = list(z)

        labels, head = None, None
        if y is not None and self.label_weight > 0:
            labels, head = self._label_head(y, n_graphs, device, dtype, generator)
            parameters += list(head.parameters())
        groups = [{"params": parameters}]
        atom_rate = self._variant("atom_learning_rate")
        atom_rate = self.learning_rate if atom_rate is None else atom_rate
        if atom_rate > 0:
            groups.append({"params": list(atoms.parameters()), "lr": atom_rate})
        else:
            atoms.requires_grad_(False)
        optimizer = torch.optim.Adam(groups, lr=self.learning_rate)
        # What the best epoch keeps: the atoms and the training graphs' logits.
        model = torch.nn.ModuleDict({"atoms": atoms, "logits": torch.nn.ParameterList(z)})

        def run_epoch(epoch):
            epoch_loss = 0.0
            for b in rng.permutation(len(batches)):
                index, batch = batches[b]
                optimizer.zero_grad()
                weights = torch.softmax(z[b], dim=1)
                plans, T = self._plans(atoms, weights.detach(), batch)
                losses = self._reconstruction_loss(atoms, weights, batch, plans, T)
                objective = losses.sum()
                if head is not None:
                    batch_labels = labels[torch.as_tensor(index, device=device)]
                    objective = objective + self._label_loss(head, z[b], batch_labels)
                objective.backward()
                optimizer.step()
                atoms.project()
                epoch_loss += float(losses.detach().sum())
            return epoch_loss / n_graphs

        history = train(run_epoch, self.max_iter, module=model, verbose=self.verbose, desc="GWF")
        self.loss_curve_ = history.loss_curve
        self.best_epoch_ = history.best_epoch
        self.components_ = self._scaled(self._atoms_to_graphs(atoms), inverse=True)
        self.embedding_ = np.zeros((n_graphs, K))
        for (index, _), logits in zip(batches, z, strict=True):
            self.embedding_[index] = torch.softmax(logits.detach(), dim=1).cpu().double().numpy()
        self.reconstruction_err_ = self.loss_curve_[self.best_epoch_]
        self.n_iter_ = len(self.loss_curve_)
        self._n_features_out = K
        return self

    def _label_head(self, y, n_graphs, device, dtype, generator):
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None), warn=True)
        if y.shape[0] != n_graphs:
            raise ValueError(f"y has {y.shape[0]} labels for {n_graphs} graphs.")
        labelled = y != -1
        encoded = np.full(n_graphs, -1)
        if labelled.any():
            check_classification_targets(y[labelled])
            encoded[labelled] = LabelEncoder().fit_transform(y[labelled])
        n_classes = max(int(encoded.max()) + 1, 2)
        head = torch.nn.Linear(self.n_components, n_classes, dtype=dtype)
        with torch.no_grad():
            head.weight.copy_(
                0.1 * torch.randn(head.weight.shape, generator=generator, dtype=dtype)
            )
            head.bias.zero_()
        return torch.as_tensor(encoded, device=device), head.to(device)

    def _label_loss(self, head, z, labels):
        """``label_weight`` times the summed cross-entropy of the labelled graphs (paper eq. 14)."""
        labelled = labels >= 0
        if not labelled.any():
            return 0.0
        return self.label_weight * torch.nn.functional.cross_entropy(
            head(z[labelled]), labels[labelled], reduction="sum"
        )

    @staticmethod
    def _atoms_to_graphs(atoms):
        U = atoms.structures().detach().cpu().double().numpy()
        H = atoms.features()
        H = None if H is None else H.detach().cpu().double().numpy()
        q = atoms.q.cpu().double().numpy()
        graphs = []
        for k in range(U.shape[0]):
            n = int(np.count_nonzero(q[k]))
            graphs.append(
                Graph(U[k, :n, :n].copy(), q[k, :n].copy(), None if H is None else H[k, :n].copy())
            )
        return graphs

    # -- transform -----------------------------------------------------------------------------

    def _embed(self, graphs):
        """Optimal weights and reconstruction losses of ``graphs`` with the atoms frozen."""
        self._check_settings()
        graphs = self._scaled(graphs)
        device, dtype = self._device(), self._dtype()
        atoms = self._atoms_module(device, dtype)
        embedding = np.zeros((len(graphs), self.n_components))
        losses = np.zeros(len(graphs))
        bar = progress(total=len(graphs), verbose=self.verbose, desc="GWF transform", unit="graph")
        for index, batch in self._batches(graphs, device, dtype):
            z = torch.zeros(len(index), self.n_components, dtype=dtype, device=device)
            z.requires_grad_(True)
            optimizer = torch.optim.Adam([z], lr=self.learning_rate)
            first_plans = self._first_plans(atoms, batch)
            for _ in range(self.transform_max_iter):
                plans, T = self._plans(atoms, torch.softmax(z.detach(), dim=1), batch, first_plans)
                for _ in range(TRANSFORM_STEPS_PER_PLAN):
                    optimizer.zero_grad()
                    weights = torch.softmax(z, dim=1)
                    # Summed (not averaged): each graph's gradient ignores the others.
                    self._reconstruction_loss(atoms, weights, batch, plans, T).sum().backward()
                    optimizer.step()
            with torch.no_grad():
                weights = torch.softmax(z, dim=1)
                loss = self._reconstruction_loss(
                    atoms, weights, batch, *self._plans(atoms, weights, batch, first_plans)
                )
            embedding[index] = weights.cpu().double().numpy()
            losses[index] = loss.cpu().double().numpy()
            bar.update(len(index))
        bar.close()
        return embedding, losses

    def _n_node_features(self):
        return self.components_[0].n_node_features

    def transform(self, X):
        """Embed graphs as their barycentric weights over the frozen atoms.

        Parameters
        ----------
        X : graphs

        Returns
        -------
        W : ndarray of shape (n_graphs, n_components)
            Rows on the simplex.
        """
        check_is_fitted(self)
        return self._embed(self._validated(X, reset=False))[0]

    def fit_transform(self, X, y=None):
        """Fit, then embed the training graphs with the learned atoms.

        Parameters
        ----------
        X : graphs
        y : array-like of shape (n_graphs,), default=None

        Returns
        -------
        W : ndarray of shape (n_graphs, n_components)
        """
        return self.fit(X, y).transform(X)

    def score(self, X, y=None):
        """Negative mean reconstruction discrepancy of ``X`` (higher is better).

        Parameters
        ----------
        X : graphs
        y : ignored

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        return -float(self._embed(self._validated(X, reset=False))[1].mean())

    def inverse_transform(self, X):
        """Barycenter graphs of the atoms for the given weights.

        Each barycenter starts from the atom of largest weight and takes ``barycenter_max_iter``
        steps of Algorithm 3, so it has that atom's size.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Weights; each row is normalised to sum to one.

        Returns
        -------
        graphs : list of Graph
        """
        check_is_fitted(self)
        self._check_settings()
        W = check_array(X, dtype=np.float64)
        if W.shape[1] != self.n_components:
            raise ValueError(f"X has {W.shape[1]} columns, expected {self.n_components}.")
        if np.any(W < 0) or np.any(W.sum(1) <= 0):
            raise ValueError("Weights must be nonnegative with a positive sum per row.")
        W = W / W.sum(1, keepdims=True)
        device, dtype = self._device(), self._dtype()
        atoms = self._atoms_module(device, dtype)
        components = self._scaled(self.components_)
        starts = [components[k] for k in np.argmax(W, axis=1)]
        batch = pad_graphs(starts, device=device, dtype=dtype)
        weights = torch.as_tensor(W, dtype=dtype, device=device)
        C_B, F_B, _ = self._barycenter(atoms, weights, batch, self.barycenter_max_iter)
        batch.C, batch.F = C_B, F_B
        return self._scaled(batch.unpad(), inverse=True)
