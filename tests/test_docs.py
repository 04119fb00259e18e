"""The API reference lists every public name of the package (re-exports once)."""

import importlib
import re
from pathlib import Path

import pytest

API_PAGE = Path(__file__).resolve().parents[1] / "doc" / "api.rst"
PUBLIC_MODULES = ["skgw", "skgw.datasets", "skgw.metrics", "skgw.ot", "skgw.plan_prediction"]
DATA_CONSTANTS = {"skgw.datasets": {"CLUSTER_SETS"}}


def _documented():
    """``module.name`` for every autosummary entry, by the ``currentmodule`` above it."""
    documented, module = set(), None
    for line in API_PAGE.read_text().splitlines():
        match = re.match(r"\.\. currentmodule:: (\S+)", line.strip())
        if match:
            module = match.group(1)
        elif module and re.fullmatch(r"   [A-Za-z_]\w*", line):
            documented.add(f"{module}.{line.strip()}")
    return documented


def _resolve(dotted):
    module_name, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module_name), name)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_is_in_the_api_reference(module_name):
    module = importlib.import_module(module_name)
    public = set(module.__all__) - DATA_CONSTANTS.get(module_name, set())
    documented_objects = [_resolve(name) for name in _documented()]
    missing = [
        f"{module_name}.{name}"
        for name in sorted(public)
        if not any(getattr(module, name) is obj for obj in documented_objects)
    ]
    assert not missing, f"not in doc/api.rst: {missing}"
