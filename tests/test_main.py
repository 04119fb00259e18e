"""``python -m skgw``, the README's main job, on a small factorisation."""

import re

import pytest

from skgw.__main__ import main

SMALL = ["--n-components", "4", "--max-iter", "1", "--verbose", "0"]


def _results(output):
    """The figures printed after the timing line (the seconds vary from run to run)."""
    error = re.search(r"reconstruction error (\S+)", output).group(1)
    return [error] + output.split("reconstruction error")[1].splitlines()[1:]


def test_main_job_embeds_clusters_and_classifies_the_embedded_mutag(capsys):
    main(SMALL)
    output = capsys.readouterr().out
    assert output.startswith("MUTAG: 188 graphs, classes [-1, 1]")
    assert 0 < float(_results(output)[0]) < 1
    majority = float(re.search(r"majority class ([0-9.]+) %", output).group(1))
    assert majority == pytest.approx(100 * 125 / 188, abs=0.05)
    svc = float(re.search(r"on the embeddings: ([0-9.]+) \+-", output).group(1))
    assert svc > majority  # the embedding carries class information
    statistics = float(re.search(r"on graph statistics, [a-z, ]+: ([0-9.]+) \+-", output).group(1))
    assert statistics > majority
    first_epoch = float(re.search(r"; ([0-9.]+) in the first epoch", output).group(1))
    assert first_epoch >= float(_results(output)[0]) > 0


def test_main_job_help_is_plain_text_with_every_default(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert ":class:" not in text and "``" not in text
    for option in ("--device", "--n-jobs", "--verbose", "--n-components", "--max-iter"):
        assert option in text
    assert text.count("(default:") == 9


def test_main_job_reads_the_same_mutag_from_the_tu_files(capsys, mutag_tu_home):
    main(SMALL)
    embedded = capsys.readouterr().out
    main([*SMALL, "--data-home", str(mutag_tu_home)])
    assert _results(capsys.readouterr().out) == _results(embedded)
