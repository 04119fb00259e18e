import numpy as np
import pytest
import torch

from skgw import GromovWassersteinFactorization
from skgw._batching import pad_graphs, resolve_device, resolve_dtype, size_buckets
from skgw.datasets import make_sbm_graphs


def test_padding_round_trips():
    graphs, _ = make_sbm_graphs(5, n_nodes=(3, 9), random_state=0)
    batch = pad_graphs(graphs, dtype=torch.float64)
    assert batch.C.shape == (5, 9, 9) and batch.F.shape == (5, 9, 3)
    assert torch.all(batch.p[~batch.mask] == 0)
    assert torch.all(batch.C[~batch.mask] == 0)
    assert batch.unpad() == graphs


def test_size_buckets_limit_padding():
    sizes = np.array([15, 16, 95, 14, 15, 17, 90])
    buckets = size_buckets(sizes, max_batch_size=3)
    assert sorted(np.concatenate(buckets).tolist()) == list(range(7))
    for bucket in buckets:
        assert len(bucket) <= 3
        assert sizes[bucket].max() <= 1.25 * sizes[bucket].min() + 1


def test_resolve_device_auto():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_resolve_device_rejects_what_torch_cannot_use():
    with pytest.raises(ValueError, match="'gpu' is not a torch device"):
        resolve_device("gpu")
    assert resolve_device("cpu") == torch.device("cpu")
    missing = "cuda:0" if not torch.cuda.is_available() else f"cuda:{torch.cuda.device_count()}"
    with pytest.raises(ValueError, match="CUDA"):
        resolve_device(missing)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_estimator_on_missing_cuda_raises_value_error():
    graphs, _ = make_sbm_graphs(3, n_nodes=(5, 6), random_state=0)
    with pytest.raises(ValueError, match="CUDA is not available"):
        GromovWassersteinFactorization(n_components=2, max_iter=1, device="cuda").fit(graphs)


def test_resolve_dtype_takes_the_two_float_precisions_only():
    assert (
        resolve_dtype("float32") is torch.float32 and resolve_dtype(torch.float64) is torch.float64
    )
    for dtype in ("float16", torch.float16, "double", None):
        with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
            resolve_dtype(dtype)
