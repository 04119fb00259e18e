import numpy as np
import torch

from skgw._batching import pad_graphs, resolve_device, size_buckets
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
