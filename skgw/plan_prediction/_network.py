r"""The ULOT network: a GCN + cross-attention model of FUGW plans, conditioned on (alpha, rho).

Every layer sees, at each node, :math:`z_i = [c \,\|\, h_i]` with the conditioning vector
:math:`c = [\phi(\alpha), \rho, \log(\rho) / 9]`, :math:`\phi` a Fourier encoding of
:math:`\alpha` (:func:`fourier_encoding`). A layer computes

1. a self path :math:`m = \hat A\, \mathrm{ReLU}(\hat A z W_1) W_2` on each graph (GCN, with
   :math:`\hat A = D^{-1/2} (A + I) D^{-1/2}`);
2. a cross path: :math:`u = g(z_s)`, :math:`v = g(z_t)` (shared 2-layer MLP),
   :math:`S_{ij} = \cos(u_i, v_j) / \tau`, :math:`A_{st}` the row softmax and :math:`A_{ts}` the
   column softmax of :math:`S`; :math:`\mu_s = h_s - A_{st} h_t`,
   :math:`\mu_t = h_t - A_{ts}^\top h_s`;
3. a merge :math:`h' = \mathrm{MLP}([W_x h \,\|\, m \,\|\, W_\mu \mu \,\|\, c])`.

The plan is built from the last layer's logits :math:`S`, less a learnt multiple
:math:`\lambda(c) D` of the pair's feature cost when the graphs have features.

A first layer maps the node features to the hidden width; one weight-shared layer is then applied
``n_layers`` times. Node weights :math:`w = \sigma(v^\top z + b)` and the last layer's attention
give ULOT's plan

.. math:: P = \tfrac12 \left(\mathrm{diag}(w_s \odot p_s) A_{st}
          + A_{ts} \mathrm{diag}(w_t \odot p_t)\right),

whose row sums are close to :math:`w_s \odot p_s` (mass kept at each source node) and column sums
to :math:`w_t \odot p_t` (with uniform :math:`p = 1/n`, the paper's formula). With
``sinkhorn_max_iter > 0`` the last layer's logits are first scaled by Sinkhorn updates towards
these marginals (:func:`scaled_attention_plan`): the plan can then be as sharp as a transport plan
between noisy node features, which a softmax alone blurs, still at :math:`O(nm)` per update.
Padded nodes (mask False) never influence real ones, so a pair's plan does not depend on its
batch.

References
----------
.. [1] ULOT: amortised fused unbalanced GW transport plans between graphs (2025); the layer is
   restated in ``DESIGN.md`` section 2 and implemented here from that description.
"""

import math

import torch
from torch import nn

from ..ot._sinkhorn import masked_log

__all__ = ["ULOTNetwork", "fourier_encoding", "normalized_adjacency", "scaled_attention_plan"]

_MASKED_LOGIT = -1e4  # finite, so that no softmax of a padded slice is all -inf (NaN gradients)


def fourier_encoding(alpha, dim=10):
    r""":math:`\phi_j(\alpha) = \cos(\pi j \alpha)` for :math:`j < d/2`, else
    :math:`\sin(\pi j (1 - \alpha))`; ``alpha`` of shape (B,), result (B, dim)."""
    j = torch.arange(dim, dtype=alpha.dtype, device=alpha.device)
    half = dim // 2
    cosines = torch.cos(math.pi * j[:half] * alpha[:, None])
    sines = torch.sin(math.pi * j[half:] * (1.0 - alpha[:, None]))
    return torch.cat([cosines, sines], dim=1)


def normalized_adjacency(A, mask):
    r""":math:`D^{-1/2} (A + I) D^{-1/2}` of padded adjacencies ``(B, n, n)`` (zero on padding)."""
    eye = torch.diag_embed(mask.to(A.dtype))
    A_hat = A + eye
    degree = A_hat.sum(dim=2)
    inverse_sqrt = torch.where(degree > 0, degree.clamp_min(1e-12).rsqrt(), 0.0)
    return inverse_sqrt[:, :, None] * A_hat * inverse_sqrt[:, None, :]


def _masked_softmax(S, mask, dim):
    """Softmax of ``S`` over ``dim`` among the entries where ``mask`` is True; 0 elsewhere."""
    S = S.masked_fill(~mask, -torch.inf)
    out = torch.softmax(S, dim=dim)
    return torch.nan_to_num(out, nan=0.0)  # rows or columns of padding only: all -inf


def scaled_attention_plan(S, log_a, log_b, max_iter):
    r"""Plan of attention logits ``S`` (B, n, m) and log target marginals ``log_a`` (B, n),
    ``log_b`` (B, m), ``-inf`` on padded nodes.

    Log-domain Sinkhorn from :math:`g = 0`, ``max_iter`` times :math:`f = \log a -
    \mathrm{LSE}_j(S + g)`, :math:`g = \log b - \mathrm{LSE}_i(S + f)`; then one more row update
    gives the row-exact plan :math:`P^r = e^{S + f' + g}` and one more column update the
    column-exact :math:`P^c = e^{S + f + g'}`; the plan is :math:`(P^r + P^c) / 2`. With
    ``max_iter = 0`` this is ULOT's :math:`\tfrac12(\mathrm{diag}(a) A_{st} + A_{ts}
    \mathrm{diag}(b))` (row and column softmax); each update sharpens it towards the entropic
    transport plan between ``a`` and ``b`` at cost :math:`O(nm)`. Marginals are taken in the log
    domain so that a node whose weight underflows keeps a finite :math:`f_i` (a row of zeros
    would otherwise give :math:`g = +\infty` and NaN). Zero on padding.
    """
    pair_mask = torch.isfinite(log_a)[:, :, None] & torch.isfinite(log_b)[:, None, :]
    S = S.masked_fill(~pair_mask, _MASKED_LOGIT)
    f = torch.zeros_like(log_a)
    g = torch.zeros_like(log_b)
    for _ in range(max_iter):
        f = log_a - torch.logsumexp(S + g[:, None, :], dim=2)
        g = log_b - torch.logsumexp(S + f[:, :, None], dim=1)
    row_exact = log_a - torch.logsumexp(S + g[:, None, :], dim=2)
    column_exact = log_b - torch.logsumexp(S + f[:, :, None], dim=1)
    P_rows = torch.exp(S + row_exact[:, :, None] + g[:, None, :])
    P_columns = torch.exp(S + f[:, :, None] + column_exact[:, None, :])
    return 0.5 * (P_rows + P_columns) * pair_mask


@torch.no_grad()
def _reset_linear(layer, generator):
    r"""PyTorch's default initialisation of an ``nn.Linear``, drawn from ``generator``: weights
    and bias uniform on :math:`[-1/\sqrt{d_{in}}, 1/\sqrt{d_{in}}]` (the weights as
    Kaiming-uniform with :math:`a = \sqrt 5`, in the same order of draws)."""
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    bound = 1.0 / math.sqrt(layer.in_features) if layer.in_features > 0 else 0.0
    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


class _ULOTLayer(nn.Module):
    """One GCN + cross-attention layer (module docstring, steps 1-3)."""

    def __init__(self, in_dim, hidden_dim, gcn_dim, attention_dim, condition_dim):
        super().__init__()
        z_dim = in_dim + condition_dim
        self.gcn1 = nn.Linear(z_dim, gcn_dim)
        self.gcn2 = nn.Linear(gcn_dim, gcn_dim)
        self.attention = nn.Sequential(
            nn.Linear(z_dim, attention_dim), nn.ReLU(), nn.Linear(attention_dim, attention_dim)
        )
        self.project_h = nn.Linear(in_dim, hidden_dim)
        self.project_mu = nn.Linear(in_dim, hidden_dim)
        self.merge = nn.Sequential(
            nn.Linear(2 * hidden_dim + gcn_dim + condition_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim),
        )
        self.log_temperature = nn.Parameter(torch.tensor(math.log(0.1)))

    def _self_path(self, z, A_hat):
        return A_hat @ self.gcn2(torch.relu(A_hat @ self.gcn1(z)))

    def forward(self, h_s, h_t, source, target, condition):
        c_s = condition[:, None, :].expand(-1, h_s.shape[1], -1)
        c_t = condition[:, None, :].expand(-1, h_t.shape[1], -1)
        z_s, z_t = torch.cat([c_s, h_s], dim=2), torch.cat([c_t, h_t], dim=2)
        u = nn.functional.normalize(self.attention(z_s), dim=2)
        v = nn.functional.normalize(self.attention(z_t), dim=2)
        S = (u @ v.transpose(1, 2)) / self.log_temperature.exp()
        pair_mask = source.mask[:, :, None] & target.mask[:, None, :]
        A_st = _masked_softmax(S, pair_mask, dim=2)
        A_ts = _masked_softmax(S, pair_mask, dim=1)
        mu_s = h_s - A_st @ h_t
        mu_t = h_t - A_ts.transpose(1, 2) @ h_s
        new = []
        for h, mu, z, c, graph in ((h_s, mu_s, z_s, c_s, source), (h_t, mu_t, z_t, c_t, target)):
            merged = torch.cat(
                [self.project_h(h), self._self_path(z, graph.A_hat), self.project_mu(mu), c],
                dim=2,
            )
            new.append(self.merge(merged) * graph.mask[:, :, None])
        return new[0], new[1], S


class ULOTNetwork(nn.Module):
    """ULOT's plan model (module docstring).

    Parameters
    ----------
    n_features : int
        Node feature dimension (1 for graphs without features: they get a constant feature).
    hidden_dim : int, default=64
    gcn_dim : int, default=16
    attention_dim : int, default=64
    n_layers : int, default=5
        Applications of the weight-shared layer after the first one.
    alpha_encoding_dim : int, default=10
    sinkhorn_max_iter : int, default=0
        Sinkhorn updates of the plan head (:func:`scaled_attention_plan`); 0 is ULOT's plan.
    generator : torch.Generator, default=None
        Draws the initial weights (PyTorch's default initialisation of ``nn.Linear``), so that
        networks built in parallel threads do not share the global random state; None uses
        the global one.
    """

    def __init__(
        self,
        n_features,
        *,
        hidden_dim=64,
        gcn_dim=16,
        attention_dim=64,
        n_layers=5,
        alpha_encoding_dim=10,
        sinkhorn_max_iter=0,
        generator=None,
    ):
        super().__init__()
        self.alpha_encoding_dim = alpha_encoding_dim
        self.n_layers = n_layers
        self.sinkhorn_max_iter = sinkhorn_max_iter
        condition_dim = alpha_encoding_dim + 2
        sizes = (hidden_dim, gcn_dim, attention_dim, condition_dim)
        self.first = _ULOTLayer(n_features, *sizes)
        self.shared = _ULOTLayer(hidden_dim, *sizes)
        self.weight_head = nn.Linear(hidden_dim + condition_dim, 1)
        self.feature_cost_head = nn.Linear(condition_dim, 1)
        if generator is not None:
            for layer in self.modules():
                if isinstance(layer, nn.Linear):
                    _reset_linear(layer, generator)

    def condition(self, alpha, rho):
        """Conditioning vector :math:`[\\phi(\\alpha), \\rho, \\log(\\rho) / 9]`, (B, d + 2)."""
        encoding = fourier_encoding(alpha, self.alpha_encoding_dim)
        return torch.cat([encoding, rho[:, None], torch.log(rho)[:, None] / 9.0], dim=1)

    def _log_node_weights(self, h, condition, p):
        r""":math:`\log(\sigma(v^\top z + b)\, p)`, ``-inf`` where ``p = 0`` (padding)."""
        c = condition[:, None, :].expand(-1, h.shape[1], -1)
        logits = self.weight_head(torch.cat([c, h], dim=2))[:, :, 0]
        return nn.functional.logsigmoid(logits) + masked_log(p)

    def forward(self, source, target, alpha, rho, D=None):
        r"""Plans between the padded pairs.

        Parameters
        ----------
        source, target : PairSide
            Padded graphs: ``F`` (B, n, d) node features, ``A_hat`` (B, n, n) normalised
            adjacency, ``p`` (B, n) node weights, ``mask`` (B, n).
        alpha, rho : Tensor of shape (B,)
        D : Tensor of shape (B, n, m), default=None
            Normalised feature cost of the pairs (mean 1/10, :func:`._problem.pair_feature_cost`):
            the plan's logits get :math:`-\lambda(c) D` with a learnt
            :math:`\lambda(c) = 10\,\mathrm{softplus}(\theta^\top c + \theta_0)`, the
            entropic-transport form of the feature term. None: no such term.

        Returns
        -------
        P : Tensor of shape (B, n, m)
        """
        condition = self.condition(alpha, rho)
        h_s, h_t, S = self.first(source.F, target.F, source, target, condition)
        for _ in range(self.n_layers):
            h_s, h_t, S = self.shared(h_s, h_t, source, target, condition)
        log_a = self._log_node_weights(h_s, condition, source.p)
        log_b = self._log_node_weights(h_t, condition, target.p)
        if D is not None:
            scale = 10.0 * nn.functional.softplus(self.feature_cost_head(condition))
            S = S - scale[:, :, None] * D
        return scaled_attention_plan(S, log_a, log_b, self.sinkhorn_max_iter)
