from pathlib import Path

import numpy as np
import pytest

from turbosim_hep.evaluation.plotting import comparison_figure, overview_figure, plot_comparison, plot_samples
from turbosim_hep.figures.style import auto_range, ratio_range, save_figure


def test_histograms_are_normalised_over_all_entries_and_ratio_is_drawn(rng):
    from matplotlib.figure import Figure

    t = rng.normal(size=5000)
    s = np.r_[rng.normal(size=4500), np.full(500, 50.0)]  # 10 % outside the range
    fig = Figure()
    ax, rax = fig.subplots(2, 1, sharex=True)
    out = plot_comparison(t, s, None, ax=ax, rax=rax, bins=20, range=(-4.0, 4.0), xlabel="x [GeV]")
    width = 8.0 / 20
    assert out["hists"]["truth"].values().sum() * width == pytest.approx(1.0, abs=1e-3)
    assert out["hists"]["sampled"].values().sum() * width == pytest.approx(0.9, abs=1e-3)
    assert set(out["ratio"]) >= {"band", "sampled", "unity"} and "reconstructed" not in out["ratio"]
    assert rax.get_xlabel() == "x [GeV]" and ax.get_xlabel() == ""


def test_auto_range_covers_the_bulk_of_the_truth(rng):
    t = np.r_[rng.normal(100.0, 10.0, 10_000), 1e6, np.nan]
    lo, hi = auto_range(t)
    assert 50 < lo < 80 and 120 < hi < 150


def test_figures_are_written_as_non_empty_png_and_pdf(tmp_path, rng):
    t, s, r = rng.exponential(50, 3000), rng.exponential(55, 3000), rng.exponential(52, 3000)
    fig = comparison_figure(t, s, r, xlabel="$p_T$ [GeV]")
    paths = save_figure(fig, tmp_path / "sub" / "pt", formats=("png", "pdf"))
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert all(p.stat().st_size > 5000 for p in paths)
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and paths[1].read_bytes()[:4] == b"%PDF"
    grid = overview_figure([("a", t, s, r), ("b", t, s, None), ("c", t, None, None)], ncols=2)
    assert sum(ax.get_visible() for ax in grid.axes) == 3
    assert save_figure(grid, tmp_path / "grid", formats=("png",))[0].stat().st_size > 5000
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.fixture(scope="module")
def samples(ttbar, toy_detector_fn):
    from turbosim_hep.evaluation.report import make_samples

    z, x = (a[:1000] for a in ttbar)
    rng = np.random.default_rng(8)
    return make_samples(z, x, z + rng.normal(0.0, 3.0, z.shape), toy_detector_fn(z, rng, jet_scale=1.05))


@pytest.fixture
def saved_figures(monkeypatch):
    """The figures ``plot_samples`` would save, by file stem (nothing is rendered)."""
    from turbosim_hep.evaluation import plotting

    figures = {}

    def save(fig, stem, **_):
        figures[Path(stem).name] = fig
        return []

    monkeypatch.setattr(plotting, "save_figure", save)
    return figures


def test_parton_level_plots_call_the_truth_parton_level_and_detector_level_plots_full_simulation(
    samples, saved_figures, tmp_path
):
    plot_samples(samples, tmp_path, variables=[("Z", "b_pz"), ("X", "jet1_E")], overview=False)
    z_main, z_ratio = saved_figures["Z_b_pz"].axes
    z_legend = [t.get_text() for t in z_main.get_legend().get_texts()]
    assert z_legend[0] == "Parton level (truth)" and not any("full sim" in t.lower() for t in z_legend)
    assert "full sim" not in z_ratio.get_ylabel().lower()
    x_main, x_ratio = saved_figures["X_jet1_E"].axes
    assert [t.get_text() for t in x_main.get_legend().get_texts()][0] == "Full simulation"
    assert x_ratio.get_ylabel() == "Model / full sim."


def test_every_axes_of_the_saved_figures_has_a_y_label(samples, saved_figures, tmp_path):
    plot_samples(samples, tmp_path, variables=[("Z", "b_pz"), ("X", "m_tt")])
    assert set(saved_figures) == {"Z_b_pz", "X_m_tt", "overview"}
    for name, fig in saved_figures.items():
        for ax in fig.axes:
            if ax.get_visible():
                assert ax.get_ylabel().strip(), f"{name}: axes of {ax.get_xlabel()!r} has no y label"
    assert saved_figures["X_m_tt"].axes[0].get_ylabel() == "Density [1/GeV]"


def _ratio_of(truth, sampled, **kw):
    from matplotlib.figure import Figure

    ax, rax = Figure().subplots(2, 1, sharex=True)
    out = plot_comparison(truth, sampled, ax=ax, rax=rax, bins=10, range=(0.0, 1.0), **kw)
    h_t, h_s = out["hists"]["truth"].values(), out["hists"]["sampled"].values()
    return rax, out["ratio"], h_s / h_t


def test_ratio_panel_range_follows_a_model_twice_the_truth(rng):
    # half of the truth lies outside the range, so a model with all its events inside is twice the truth there
    truth = np.r_[rng.uniform(0.0, 1.0, 5000), np.full(5000, 10.0)]
    rax, artists, ratio = _ratio_of(truth, rng.uniform(0.0, 1.0, 10_000))
    assert np.allclose(ratio, 2.0, rtol=0.2)
    lo, hi = rax.get_ylim()
    assert lo <= 0.5 and ratio.max() < hi <= 3.0
    assert not any(k.endswith(("_above", "_below")) for k in artists)
    assert 1.0 in rax.get_yticks() and hi not in rax.get_yticks()


def test_ratio_range_keeps_a_minimum_span_clips_and_marks_points_off_scale(rng):
    assert ratio_range([np.ones(20), np.array([np.nan, np.inf])]) == (0.5, 1.5)
    assert ratio_range([]) == (0.5, 1.5)
    assert 0.0 < ratio_range([np.full(20, 0.3)])[0] < 0.3
    assert ratio_range([np.full(20, 8.0)]) == (0.5, 3.0)
    truth = np.r_[rng.uniform(0.0, 1.0, 1000), np.full(7000, 10.0)]
    rax, artists, ratio = _ratio_of(truth, rng.uniform(0.0, 1.0, 8000))
    assert ratio.min() > 3.0 and rax.get_ylim()[1] == 3.0
    assert len(artists["sampled_above"].get_offsets()) == 10


def test_reco_mass_plots_show_the_peak_not_the_tail():
    from turbosim_hep.evaluation.plotting import plot_range
    from turbosim_hep.figures.style import auto_range

    rng = np.random.default_rng(4)
    m_t = np.r_[rng.normal(180.0, 25.0, 9000), rng.uniform(400.0, 1400.0, 1000)]  # the chi^2 tail, 10 %
    low, high = plot_range("X", "m_t_had", m_t)
    assert (low, high) == (50.0, 450.0) and (high - low) / 40 <= 10.0
    assert auto_range(m_t)[1] > 1300.0  # what the plots used before
    assert plot_range("Z", "m_t_had", m_t) == auto_range(m_t)
