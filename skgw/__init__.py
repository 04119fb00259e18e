"""skgw: scikit-learn compatible Gromov-Wasserstein learning on graphs."""

from ._graphs import Graph, as_graphs

__version__ = "0.1.0.dev0"

__all__ = ["Graph", "as_graphs"]
