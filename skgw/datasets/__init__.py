"""Graph datasets: the TU Dortmund benchmarks, the embedded MUTAG, and SBM generators."""

from ._sbm import CLUSTER_SETS, make_sbm_graphs, make_sbm_pairs
from ._tudataset import get_data_home, load_mutag, load_tudataset

__all__ = [
    "CLUSTER_SETS",
    "get_data_home",
    "load_mutag",
    "load_tudataset",
    "make_sbm_graphs",
    "make_sbm_pairs",
]
