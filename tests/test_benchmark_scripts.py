"""Every script of ``benchmarks/`` runs to its last line on a tiny problem.

The scripts' figures are measured by hand (doc/benchmarks.rst); these runs only keep them from
breaking as the package changes. Each is a subprocess, as a user would start it.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from skgw.plan_prediction import load_predictor

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# script -> (tiny arguments, a piece of the output's last part)
ON_SBM_GRAPHS = {
    "bench_ot_kernels.py": ("--pairs 2 --reference-pairs 1", "sbm  100     1"),
    "bench_ulot.py": (
        "--pairs 4 --sizes 20 24 --scaling-pairs 2 --pot-max-n 24 --warm-start-solvers mm "
        "--clustering-graphs 12",
        "(12 graphs, alpha=0.5, rho=0.1): ARI",
    ),
    "ulot_recipes.py": (
        "--graphs 20 --epochs 1 --pairs-per-epoch 16 --test-pairs 4",
        "skgw defaults  trained in",
    ),
}
ON_TU_DATA = {
    "bench_gw_starts.py": ("--pairs 4 --max-iter 3", "POT CG"),
    "bench_gwf_speed.py": ("--dataset MUTAG --epochs 1", "s per epoch (target"),
    "bench_pairwise.py": ("--dataset MUTAG --n-graphs 8 --n-jobs 1", "Pearson"),
    "gwbkm_objective.py": ("--dataset MUTAG --steps 1 --n-jobs 1", "step 1:"),
    "gwf_loss_curve.py": (
        "--datasets MUTAG --subsample 20 --max-iter 2 --n-components 3",
        "no higher than every earlier epoch: True",
    ),
    "reproduce_baselines.py": (
        "--datasets MUTAG --seeds 1 --subsample 40 --n-jobs 1",
        "GWB-KM          MUTAG",
    ),
    "reproduce_gwf_classification.py": (
        "--datasets MUTAG --solvers ppa --folds 0 --max-iter 1 --n-components 3",
        "MUTAG            by inner CV",
    ),
    "reproduce_gwf_clustering.py": (
        "--datasets MUTAG --solvers ppa --seeds 1 --subsample 40 --max-iter 1 --n-components 3",
        "per seed: 0:",
    ),
}


def _run(script, arguments):
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize("script", sorted(ON_SBM_GRAPHS))
def test_script_on_generated_graphs(script):
    arguments, last_output = ON_SBM_GRAPHS[script]
    assert last_output in _run(script, arguments.split())[-1000:]


@pytest.mark.parametrize("script", sorted(ON_TU_DATA))
def test_script_on_tu_data(script, mutag_tu_home):
    # MUTAG in the TU files, written from the shipped copy: no ../shared/data/TU needed.
    arguments, last_output = ON_TU_DATA[script]
    output = _run(script, [*arguments.split(), "--data-home", str(mutag_tu_home)])
    assert last_output in output[-1000:]


def test_training_script_writes_a_loadable_model(tmp_path):
    path = tmp_path / "model.pt"
    arguments = [*"--graphs 20 --epochs 1 --pairs-per-epoch 16 --output".split(), str(path)]
    assert "saved to" in _run("train_ulot_sbm.py", arguments)
    model = load_predictor(path, device="cpu")
    assert model.n_iter_ == 1 and model.n_node_features_ == 3


def test_every_script_is_covered():
    covered = set(ON_SBM_GRAPHS) | set(ON_TU_DATA) | {"train_ulot_sbm.py"}
    scripts = {p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_")}
    assert scripts == covered
