import math

import pytest
import torch

from skgw.ot._sinkhorn import exp, masked_log, sinkhorn_projection, sinkhorn_scaling


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_exp_is_exact_above_its_floor_and_zero_below(dtype):
    floor = math.log(torch.finfo(dtype).tiny) + 20.0
    x = torch.tensor([-torch.inf, floor - 50.0, floor, floor + 1.0, -3.0, 0.0, 2.5], dtype=dtype)
    result = exp(x)
    assert torch.equal(result[:3], torch.zeros(3, dtype=dtype))
    torch.testing.assert_close(result[3:], torch.exp(x[3:]), rtol=0, atol=0)
    assert torch.isnan(exp(torch.tensor([math.nan], dtype=dtype))).all()


def _kernels(seed, epsilon):
    """Peaked Sinkhorn kernels with padding: rows 7.., columns 5.. of the second problem."""
    generator = torch.Generator().manual_seed(seed)
    cost = torch.rand(2, 9, 7, generator=generator, dtype=torch.float64)
    p = torch.full((2, 9), 1 / 9, dtype=torch.float64)
    q = torch.full((2, 7), 1 / 7, dtype=torch.float64)
    p[1, 7:], q[1, 5:] = 0.0, 0.0
    p[1, :7], q[1, :5] = 1 / 7, 1 / 5
    log_K = -cost / epsilon + masked_log(p)[:, :, None] + masked_log(q)[:, None, :]
    return log_K, p, q


@pytest.mark.parametrize("relaxation", [1.0, 1.5, 1.8])
def test_sinkhorn_projection_reaches_the_sinkhorn_plan(relaxation):
    log_K, p, q = _kernels(0, epsilon=0.02)
    expected = torch.exp(sinkhorn_scaling(log_K, p, q, max_iter=5000, tol=1e-14))
    T = sinkhorn_projection(log_K, p, q, max_iter=5000, tol=1e-14, relaxation=relaxation)
    torch.testing.assert_close(T, expected, rtol=0, atol=1e-10)
    assert torch.equal(T[1, 7:], torch.zeros_like(T[1, 7:]))
    assert torch.equal(T[1, :, 5:], torch.zeros_like(T[1, :, 5:]))


def test_over_relaxation_needs_fewer_updates_on_peaked_kernels():
    log_K, p, q = _kernels(1, epsilon=0.005)

    def row_error(T):
        return (T.sum(2) - p).abs().sum(1).max().item()

    plain = row_error(sinkhorn_projection(log_K, p, q, max_iter=30))
    relaxed = row_error(sinkhorn_projection(log_K, p, q, max_iter=30, relaxation=1.8))
    assert relaxed < plain / 10


def test_sinkhorn_projection_stays_finite_on_underflowing_float32_kernels():
    log_K, p, q = _kernels(2, epsilon=1e-4)
    T = sinkhorn_projection(log_K.float(), p.float(), q.float(), max_iter=30, relaxation=1.8)
    assert torch.isfinite(T).all() and (T >= 0).all()
    # Columns that underflow entirely cannot be filled; no column gets more than its mass.
    assert (T.sum(1) <= q.float() * (1 + 1e-5)).all()


def _column_far_below_the_rows(dtype):
    """One problem whose column 2 lies 200 nats below every row maximum (underflows in K)."""
    generator = torch.Generator().manual_seed(3)
    log_K = -torch.rand(1, 5, 4, generator=generator, dtype=dtype)
    log_K[:, :, 2] -= 200.0
    p = torch.full((1, 5), 1 / 5, dtype=dtype)
    q = torch.full((1, 4), 1 / 4, dtype=dtype)
    return log_K, p, q


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_scaling_update_scales_every_column_when_one_underflows(dtype):
    # Normalised by its rows only, the kernel has no mass in column 2: its scaling once came out
    # as q / tiny, and the log-domain plan put e^85 times the column's mass there.
    log_K, p, q = _column_far_below_the_rows(dtype)
    log_T = sinkhorn_scaling(log_K, p, q, max_iter=1)
    T = torch.exp(log_T)
    torch.testing.assert_close(T.sum(1), q)
    # A diagonal scaling of K: log T - log K = f_i + g_j, so its double differences vanish.
    shift = (log_T - log_K).double()
    double_difference = shift - shift[:, :1, :] - shift[:, :, :1] + shift[:, :1, :1]
    atol = 4 * 200 * torch.finfo(dtype).eps  # rounding of log-values near -200
    torch.testing.assert_close(
        double_difference, torch.zeros_like(double_difference), atol=atol, rtol=0
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_long_scaling_runs_on_wide_kernels_reach_the_marginals(dtype):
    # Potentials beyond the range of the dtype: the kernel iterations diverge, the problem is
    # scaled again in the log domain.
    log_K, p, q = _kernels(4, epsilon=1e-3)
    log_T = sinkhorn_scaling(log_K.to(dtype), p.to(dtype), q.to(dtype), max_iter=2000, tol=1e-9)
    T = torch.exp(log_T)
    assert torch.isfinite(T).all()
    atol = 1e-5 if dtype == torch.float32 else 1e-9
    torch.testing.assert_close(T.sum(2), p.to(dtype), rtol=0, atol=atol)
    torch.testing.assert_close(T.sum(1), q.to(dtype), rtol=0, atol=atol)


def test_log_domain_scaling_of_a_problem_does_not_depend_on_its_batch():
    # Wide kernels take the log-domain path; a problem frozen by the tolerance stays frozen.
    log_K, p, q = _kernels(4, epsilon=1e-3)
    together = sinkhorn_scaling(log_K.float(), p.float(), q.float(), max_iter=3000, tol=1e-9)
    for index in range(2):
        alone = sinkhorn_scaling(
            log_K[index : index + 1].float(),
            p[index : index + 1].float(),
            q[index : index + 1].float(),
            max_iter=3000,
            tol=1e-9,
        )
        torch.testing.assert_close(alone[0], together[index], rtol=0, atol=0)
