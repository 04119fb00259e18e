"""skgw: scikit-learn compatible Gromov-Wasserstein learning on graphs."""

from ._graphs import Graph, as_graphs
from .cluster import GWBarycenterKMeans
from .factorization import GromovWassersteinFactorization
from .kernels import FGWKernel
from .pairwise import pairwise_gw_distances
from .plan_prediction import FUGWPlanPredictor

__version__ = "0.1.0.dev0"

__all__ = [
    "FGWKernel",
    "FUGWPlanPredictor",
    "GWBarycenterKMeans",
    "Graph",
    "GromovWassersteinFactorization",
    "as_graphs",
    "pairwise_gw_distances",
]
