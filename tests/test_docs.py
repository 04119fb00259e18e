"""The API reference lists every public name of the package (re-exports once), and every code
block of the README and the quick-start page runs as a script."""

import importlib
import os
import re
import subprocess
import sys
import textwrap
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


ROOT = Path(__file__).resolve().parents[1]


def _code_blocks():
    """``(page, index, code)`` of every Python block of the README and the quick-start page."""
    blocks = []
    readme = (ROOT / "README.md").read_text()
    for k, code in enumerate(re.findall(r"```python\n(.*?)```", readme, flags=re.S)):
        blocks.append(("README.md", k, code))
    quickstart = (ROOT / "doc" / "quickstart.rst").read_text()
    pattern = r"\.\. code-block:: python\n\n((?:(?:    .*)?\n)+)"
    for k, code in enumerate(re.findall(pattern, quickstart)):
        blocks.append(("quickstart.rst", k, textwrap.dedent(code)))
    return blocks


@pytest.mark.parametrize(
    "page, index, code", _code_blocks(), ids=lambda value: str(value)[:14].strip()
)
def test_every_code_block_runs_as_a_script(page, index, code, tmp_path):
    # Verbatim, alone, in a fresh interpreter: names from earlier blocks are not there.
    script = tmp_path / "block.py"
    script.write_text(code)
    environment = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        env=environment,
    )
    assert result.returncode == 0, f"{page} block {index}:\n{code}\n{result.stderr[-3000:]}"


def test_the_pages_have_code_blocks():
    pages = [page for page, _, _ in _code_blocks()]
    assert pages.count("README.md") >= 3 and pages.count("quickstart.rst") >= 4
