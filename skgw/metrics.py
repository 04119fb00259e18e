"""Metrics for graph clustering."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import confusion_matrix
from sklearn.utils.validation import check_consistent_length, column_or_1d

__all__ = ["clustering_accuracy"]


def clustering_accuracy(labels_true, labels_pred):
    """Accuracy of a clustering under the best one-to-one matching of clusters to classes.

    .. math:: \\mathrm{acc} = \\max_{\\sigma} \\frac{1}{n} \\sum_i [y_i = \\sigma(c_i)]

    where :math:`\\sigma` ranges over injective maps from clusters to classes, found by the
    Hungarian algorithm on the contingency table. Any numbers of classes and clusters.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
    labels_pred : array-like of shape (n_samples,)

    Returns
    -------
    accuracy : float in [0, 1]

    Examples
    --------
    >>> from skgw.metrics import clustering_accuracy
    >>> clustering_accuracy([0, 0, 1, 1, 2], [1, 1, 0, 0, 0])
    0.8
    """
    labels_true = column_or_1d(labels_true)
    labels_pred = column_or_1d(labels_pred)
    check_consistent_length(labels_true, labels_pred)
    if len(labels_true) == 0:
        raise ValueError("clustering_accuracy needs at least one sample.")
    _, true_codes = np.unique(labels_true, return_inverse=True)
    _, pred_codes = np.unique(labels_pred, return_inverse=True)
    size = max(true_codes.max(), pred_codes.max()) + 1
    table = confusion_matrix(true_codes, pred_codes, labels=np.arange(size))
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / len(labels_true))
