"""report.md links its plots and names its inputs relative to its own folder, so the folder can be moved."""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from turbosim_hep.evaluation import markdown
from turbosim_hep.evaluation.plotting import plot_samples
from turbosim_hep.evaluation.report import make_samples, report_from_samples


@pytest.fixture(scope="module")
def samples(ttbar, toy_detector_fn):
    z, x = (a[:600] for a in ttbar)
    rng = np.random.default_rng(4)
    return make_samples(z, x, z + rng.normal(0.0, 2.0, z.shape), toy_detector_fn(z, rng))


def _links(text: str) -> list[str]:
    return re.findall(r"\]\(<?([^)>]+)>?\)", text)


def _report(samples, run: Path, n_files: int):
    (run / "data").mkdir(parents=True)
    (run / "model.pt").write_bytes(b"")
    files = [str(run / "data" / f"chunk-{i:04d}.root") for i in range(n_files)]
    return report_from_samples(samples, classifier=False, meta={"model": str(run / "model.pt"), "data": files})


def test_report_links_its_plots_by_relative_links_that_survive_moving_the_folder(samples, tmp_path, monkeypatch):
    from turbosim_hep.evaluation import plotting

    def save_unrendered(fig, stem, *, formats, **_):  # the file names plot_samples chooses, without the drawing
        paths = [Path(f"{stem}.{fmt}") for fmt in formats]
        for path in paths:
            path.write_bytes(b"")
        return paths

    monkeypatch.setattr(plotting, "save_figure", save_unrendered)
    run = tmp_path / "run"
    report = _report(samples, run, 240)
    plot_samples(samples, run / "eval" / "plots", formats=("png",), variables=[("Z", "b_py"), ("X", "m_tt")])
    report.write(run / "eval")
    shutil.move(run, tmp_path / "moved")
    folder = tmp_path / "moved" / "eval"
    text = (folder / "report.md").read_text(encoding="utf-8")

    links = _links(text)
    assert {"plots/overview.png", "plots/Z_b_py.png", "plots/X_m_tt.png"} <= set(links)
    assert "![" in text and "[m_tt](plots/X_m_tt.png)" in text
    for link in links:
        assert not Path(link).is_absolute() and (folder / link).exists(), link
    assert "plots/X_m_w_had.png" not in links, "a plot that was not made must not be linked"


def test_report_names_model_and_data_relative_to_its_folder_and_summarises_long_file_lists(samples, tmp_path):
    run = tmp_path / "run"
    text = _report(samples, run, 240).to_markdown(base=run / "eval")
    assert "- model: [../model.pt](../model.pt)" in text
    assert "- data: 240 files in [../data/](../data/) (`chunk-0000.root` … `chunk-0239.root`)" in text
    assert "chunk-0001.root" not in text and str(tmp_path) not in text
    short = _report(samples, tmp_path / "short", 2).to_markdown(base=tmp_path / "short")
    assert "[data/chunk-0000.root](data/chunk-0000.root), [data/chunk-0001.root](data/chunk-0001.root)" in short
    assert "## Plots" not in short


def test_inputs_without_a_relative_path_are_named_by_absolute_path(samples, tmp_path, monkeypatch):
    def other_drive(path, start):
        raise ValueError("path is on mount 'D:', start on mount 'C:'")

    monkeypatch.setattr(markdown.os.path, "relpath", other_drive)
    text = _report(samples, tmp_path / "run", 1).to_markdown(base=tmp_path / "run" / "eval")
    assert f"[{tmp_path / 'run' / 'model.pt'}]({(tmp_path / 'run' / 'model.pt').as_uri()})" in text
