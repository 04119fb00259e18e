"""skgw: scikit-learn compatible Gromov-Wasserstein learning on graphs."""

from ._graphs import Graph, as_graphs
from .factorization import GromovWassersteinFactorization

__version__ = "0.1.0.dev0"

__all__ = ["Graph", "GromovWassersteinFactorization", "as_graphs"]
