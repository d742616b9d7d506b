import numpy as np
import pytest

from turbosim_hep.plotting import auto_range, comparison_figure, overview_figure, plot_comparison, save_figure


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
