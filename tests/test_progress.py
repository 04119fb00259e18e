"""Progress bars of the long phases, and how often they write outside a terminal."""

import time

import pytest

from skgw import FGWKernel, GromovWassersteinFactorization, pairwise_gw_distances
from skgw._progress import LOG_INTERVAL, progress
from skgw.datasets import make_sbm_graphs
from skgw.plan_prediction import load_pretrained


@pytest.fixture(scope="module")
def graphs():
    return make_sbm_graphs(12, n_nodes=(6, 10), random_state=0)[0]


def _bar_lines(text, desc):
    """The redraws of the bar named ``desc`` (each starts with a carriage return or a line)."""
    return [part for part in text.replace("\r", "\n").splitlines() if part.startswith(desc)]


@pytest.mark.parametrize(
    "run, desc",
    [
        (
            lambda g: (
                GromovWassersteinFactorization(
                    n_components=2, max_iter=1, transform_max_iter=1, verbose=1, random_state=0
                )
                .fit(g)
                .transform(g)
            ),
            "GWF transform",
        ),
        (lambda g: pairwise_gw_distances(g[:5], verbose=1), "pairwise_gw_distances"),
        (lambda g: FGWKernel(verbose=1).fit(g[:3]).transform(g[:4]), "pairwise_gw_distances"),
    ],
)
def test_long_phases_show_a_bar_when_verbose(graphs, run, desc, capsys):
    run(graphs)
    lines = _bar_lines(capsys.readouterr().err, desc)
    assert lines and "100%" in lines[-1]


def test_the_predictors_batched_calls_show_a_bar(graphs, capsys, monkeypatch):
    import skgw.plan_prediction.predictor as predictor

    model = load_pretrained(device="cpu")  # verbose=1, as trained
    model.pairwise_plan_mass(graphs[:3])
    assert not _bar_lines(capsys.readouterr().err, "pairwise_plan_mass")  # one batch: no bar
    monkeypatch.setattr(predictor, "PREDICT_BATCH_SIZE", 4)
    model.pairwise_plan_mass(graphs[:6])
    lines = _bar_lines(capsys.readouterr().err, "pairwise_plan_mass")
    assert lines and "36/36" in lines[-1]


def test_outside_a_terminal_a_bar_writes_a_few_lines(capsys):
    # pytest's captured stderr is not a terminal: a bar updated for 1.5 s writes its first and
    # last states, not a line every 0.1 s as tqdm does by default.
    for _ in progress(range(300), verbose=1, desc="quick"):
        time.sleep(0.005)
    assert LOG_INTERVAL >= 10
    assert len(_bar_lines(capsys.readouterr().err, "quick")) <= 3
