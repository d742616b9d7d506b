"""Processor plots: full sim vs Turbo-Sim with a ratio panel, saying how much lies outside the plotted range."""

import importlib.util
from pathlib import Path

import hist
import numpy as np
import pytest
from turbosim_hep.processors.plots import flow_fractions, processor_figure

EXAMPLE = Path(__file__).parents[2] / "examples" / "run_processor.py"


def _masses(rng, names) -> dict:
    """Histograms as TurboSimProcessor fills them; Turbo-Sim has 2 % below and 5 % above (NaN included) the range."""
    sim = hist.axis.StrCategory(["full-sim", "turbo-sim"], name="simulation", label="Simulation")
    out = {}
    for name in names:
        h = hist.Hist(sim, hist.axis.Regular(50, 0.0, 400.0, name="value", label="$m$ [GeV]"))
        h.fill(simulation="full-sim", value=rng.normal(172.0, 20.0, 10_000))
        turbo = np.r_[rng.normal(180.0, 30.0, 9300), np.full(200, -5.0), np.full(300, 1e4), np.full(200, np.nan)]
        h.fill(simulation="turbo-sim", value=turbo)
        out[name] = h
    return out


def test_flow_fractions_count_nan_as_overflow(rng):
    h = _masses(rng, ["m"])["m"]
    assert flow_fractions(h[{"simulation": "turbo-sim"}]) == pytest.approx((0.02, 0.05))
    assert flow_fractions(h[{"simulation": "full-sim"}]) == pytest.approx((0.0, 0.0), abs=1e-3)


def test_processor_figure_has_ratio_panels_labels_and_outside_range_notes(rng):
    fig = processor_figure(_masses(rng, ["m_a", "m_b"]))
    main, ratio = fig.axes[:2], fig.axes[2:]  # row-major: the main panels, then the ratio panels
    assert len(main) == len(ratio) == 2
    for ax, rax in zip(main, ratio, strict=True):
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == [
            "Full simulation\n0 % below, 0 % above range",
            "Turbo-Sim\n2.0 % below, 5.0 % above range",
        ]
        assert ax.get_ylabel() == "Density [1/GeV]" and "full sim" in rax.get_ylabel()
        assert rax.get_xlabel() == "$m$ [GeV]" and not any(t.get_visible() for t in ax.get_xticklabels())
        assert rax.get_shared_x_axes().joined(ax, rax)
        lo, hi = rax.get_ylim()
        assert lo < 1.0 < hi and hi <= 3.0


def test_run_processor_example_writes_one_plot_per_mass(rng, tmp_path):
    from turbosim_hep.processors import MASSES

    spec = importlib.util.spec_from_file_location("run_processor_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    paths = example.plot(_masses(rng, MASSES), tmp_path / "ttbar")
    assert [p.name for p in paths] == [f"{name}.png" for name in MASSES]
    assert all(p.stat().st_size > 5000 for p in paths)


def test_ratio_panels_of_one_figure_share_one_range(rng):
    hists = _masses(rng, ["m_a"])
    wide = _masses(np.random.default_rng(3), ["m_b"])["m_b"]
    wide.fill(simulation="turbo-sim", value=np.full(3000, 390.0))  # a far worse model in one panel
    hists["m_b"] = wide
    fig = processor_figure(hists)
    ratio = fig.axes[2:]
    assert ratio[0].get_ylim() == ratio[1].get_ylim()


def test_processor_m_t_axes_hold_the_reconstructed_tail():
    from turbosim_hep.processors.turbosim_processor import MASSES

    for name in ("m_t_had", "m_t_lep"):
        _, bins, low, high = MASSES[name]
        assert high >= 600.0 and (high - low) / bins <= 5.0


def test_unfolding_figure_draws_truth_and_unfolded_with_an_unfolded_over_truth_panel(rng):
    from turbosim_hep.processors.plots import unfolding_figure

    level = hist.axis.StrCategory(["truth", "unfolded"], name="level", label="Parton level")
    hists = {}
    for name in ("m_tt", "top_pt_had"):
        h = hist.Hist(level, hist.axis.Regular(40, 0.0, 1500.0, name="value", label="parton $m$ [GeV]"))
        h.fill(level="truth", value=rng.normal(500.0, 100.0, 5000))
        h.fill(level="unfolded", value=np.r_[rng.normal(520.0, 120.0, 4900), np.full(100, np.nan)])
        hists[name] = h
    fig = unfolding_figure(hists)
    main, ratio = fig.axes[:2], fig.axes[2:]
    assert len(main) == len(ratio) == 2
    legend = [t.get_text() for t in main[0].get_legend().get_texts()]
    assert legend[0].startswith("Truth partons\n") and legend[1] == "Turbo-Sim unfolded\n0 % below, 2.0 % above range"
    assert all(rax.get_ylabel() == "Unfolded /\ntruth" for rax in ratio)
    with pytest.raises(KeyError, match="no histogram"):
        unfolding_figure(hists, ["y_tt"])
