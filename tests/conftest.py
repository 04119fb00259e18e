from pathlib import Path

import pytest

TU_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "TU"


@pytest.fixture(scope="session")
def tu_data_home():
    """The shared TU Dortmund files (``../shared/data/TU`` beside the repository)."""
    if not TU_DATA.exists():
        pytest.skip("../shared/data/TU is not present")
    return TU_DATA
