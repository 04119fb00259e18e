import numpy as np
import pytest

from skgw.metrics import clustering_accuracy


def test_hungarian_matching_any_number_of_classes():
    assert clustering_accuracy([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0
    assert clustering_accuracy(["a", "a", "b", "c"], [2, 2, 2, 0]) == 0.75
    assert clustering_accuracy([0, 1, 2, 3], [0, 0, 0, 0]) == 0.25
    rng = np.random.RandomState(0)
    y = rng.randint(0, 4, 200)
    assert clustering_accuracy(y, (y + 1) % 4) == 1.0


def test_inconsistent_lengths():
    with pytest.raises(ValueError):
        clustering_accuracy([0, 1], [0])


def test_no_samples():
    with pytest.raises(ValueError, match="at least one sample"):
        clustering_accuracy([], [])
