"""The ablation table puts runs side by side on the unfolding's figures, with spreads and verdict marks."""

from __future__ import annotations

import numpy as np
import pytest

from turbosim_hep.evaluation.ablation import ablation_cells, ablation_markdown, ablation_records
from turbosim_hep.evaluation.scorecard import scorecard


@pytest.fixture(scope="module")
def runs(ttbar, toy_detector_fn):
    z, x = ttbar
    half = np.random.default_rng(21).random(len(z)) < 0.5
    x_tilde = toy_detector_fn(z, np.random.default_rng(22))
    blurred = z + 5.0 * np.random.default_rng(23).standard_normal(z.shape)
    return {
        "truth-unfolding": scorecard(z, x, {"x_tilde": x_tilde, "z_tilde": z}, half, classifier=False),
        "blurred": scorecard(z, x, {"x_tilde": x_tilde, "z_tilde": blurred}, half, classifier=False),
        "simulate-only": scorecard(z, x, {"x_tilde": x_tilde}, half, classifier=False),
    }


def test_one_row_per_run_and_the_verdicts_tell_the_runs_apart(runs):
    columns, cells = ablation_cells(runs)
    assert list(cells) == list(runs)
    assert len(columns) == len(set(columns)) and "off-shell" in columns and "m_w_had KS" in columns
    assert cells["truth-unfolding"]["off-shell"] == "0.00 % ✓"
    assert cells["blurred"]["off-shell"].endswith("✗") and cells["blurred"]["m_w_had KS"].endswith("✗")
    assert "±" in cells["blurred"]["m_w_had KS"]
    assert cells["simulate-only"]["off-shell"] == "–"


def test_the_markdown_has_one_line_per_run_or_per_figure_when_transposed(runs):
    text = ablation_markdown(runs)
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(runs)
    columns, _ = ablation_cells(runs)
    transposed = [line for line in ablation_markdown(runs, transpose=True).splitlines() if line.startswith("|")]
    assert len(transposed) == 2 + len(columns)


def test_a_baseline_column_counts_the_simulation_figures_worse_than_the_baselines(runs):
    _, cells = ablation_cells(runs, baseline="truth-unfolding")
    assert cells["blurred"]["sim worse than baseline"].startswith("0/")  # same simulation in both
    with pytest.raises(ValueError, match="baseline 'nope'"):
        ablation_cells(runs, baseline="nope")


def test_records_hold_every_figure_of_every_run(runs):
    records = ablation_records(runs)
    assert {r["run"] for r in records} == set(runs)
    assert {"value", "spread", "verdict", "column", "target"} <= set(records[0])
