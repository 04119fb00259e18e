from importlib import resources
from pathlib import Path

import numpy as np
import pytest

TU_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "TU"


@pytest.fixture(scope="session")
def tu_data_home():
    """The shared TU Dortmund files (``../shared/data/TU`` beside the repository)."""
    if not TU_DATA.exists():
        pytest.skip("../shared/data/TU is not present")
    return TU_DATA


@pytest.fixture(scope="session")
def mutag_tu_home(tmp_path_factory):
    """A data folder holding MUTAG in the TU raw format, written from the copy skgw ships, so
    that the tests of the TU readers and scripts run without ``../shared/data/TU``."""
    home = tmp_path_factory.mktemp("tu")
    folder = home / "MUTAG"
    folder.mkdir()
    with resources.files("skgw.datasets").joinpath("data/MUTAG.npz").open("rb") as f:
        stored = np.load(f)
        tables = {key: stored[key].astype(np.int64) for key in stored.files}
    for key, suffix in (
        ("edges", "A"),
        ("graph_indicator", "graph_indicator"),
        ("graph_labels", "graph_labels"),
        ("node_labels", "node_labels"),
    ):
        rows = tables[key].reshape(len(tables[key]), -1)
        lines = [", ".join(str(v) for v in row) for row in rows]
        (folder / f"MUTAG_{suffix}.txt").write_text("\n".join(lines) + "\n")
    return home
