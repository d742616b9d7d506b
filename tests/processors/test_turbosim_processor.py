"""The processor runs unchanged under the three coffea executors and gives identical histograms."""

import json

import numpy as np
import pytest

from tests.conftest import toy_features
from turbosim_hep.events.features import events_from_features
from turbosim_hep.io.root import write_events


@pytest.fixture(scope="module")
def fileset(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(21)
    files = {}
    for i in range(2):
        z = toy_features(1500, rng)
        x = toy_features(1500, rng, massless=True)
        events = events_from_features(z=z, x=x, event=np.arange(i * 1500, (i + 1) * 1500))
        files[str(write_events(d / f"chunk-{i:04d}.root", events))] = "Events"
    path = d / "fileset.json"
    path.write_text(json.dumps({"ttbar": {"files": files}}))
    return path


def _run(fileset_path, model_path, executor):
    from coffea import processor
    from turbosim_hep.processors import TurboSimProcessor

    from turbosim_hep.io.nanoevents import TurboSimSchema

    fileset = json.loads(fileset_path.read_text())
    runner = processor.Runner(executor=executor, schema=TurboSimSchema, chunksize=700)
    return runner(fileset, TurboSimProcessor(model_path), treename="Events")


def _assert_same(a, b):
    assert a["ttbar"]["cutflow"] == b["ttbar"]["cutflow"]
    for name, h in a["ttbar"]["hists"].items():
        np.testing.assert_array_equal(h.values(), b["ttbar"]["hists"][name].values(), err_msg=name)


def test_three_executors_give_identical_histograms(fileset, model_path):
    from coffea import processor
    from dask.distributed import Client, LocalCluster

    from turbosim_hep.simulation.worker_cache import _cached

    _cached.cache_clear()
    iterative = _run(fileset, model_path, processor.IterativeExecutor())
    assert _cached.cache_info().misses == 1, "the model must be loaded once per process, not per chunk"
    out = iterative["ttbar"]
    assert out["cutflow"]["simulated"] == 3000
    for sample in ("full-sim", "turbo-sim"):
        assert out["hists"]["m_tt"][{"simulation": sample}].sum(flow=True) == 3000
        assert out["hists"]["jet1_E"][{"simulation": sample}].sum(flow=True) == 3000
    futures = _run(fileset, model_path, processor.FuturesExecutor(workers=2, status=False))
    _assert_same(iterative, futures)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            dask = _run(fileset, model_path, processor.DaskExecutor(client=client, status=False))
    _assert_same(iterative, dask)


def test_empty_chunk_gives_empty_but_shaped_histograms(fileset, model_path):
    from turbosim_hep.processors import TurboSimProcessor

    from turbosim_hep.io.nanoevents import open_nanoevents

    path = next(iter(json.loads(fileset.read_text())["ttbar"]["files"]))
    events = open_nanoevents(path)[:0]
    out = TurboSimProcessor(model_path).process(events)
    (result,) = out.values()
    assert result["cutflow"]["simulated"] == 0
    assert result["hists"]["m_tt"].sum() == 0


def test_bad_model_path_and_selection_are_clear_errors(fileset, tmp_path):
    from turbosim_hep.processors import TurboSimProcessor

    from turbosim_hep.io.nanoevents import open_nanoevents

    with pytest.raises(ValueError, match="selection"):
        TurboSimProcessor(tmp_path / "m.pt", selection="tight")
    path = next(iter(json.loads(fileset.read_text())["ttbar"]["files"]))
    with pytest.raises(FileNotFoundError, match="m.pt"):
        TurboSimProcessor(tmp_path / "m.pt").process(open_nanoevents(path, entry_stop=10))


def test_demo_processor_step_plots_the_masses_with_ratio_panels(fileset, model_path, tmp_path, monkeypatch):
    from turbosim_hep.cli import demo
    from turbosim_hep.figures import style

    figures, real_save = [], style.save_figure

    def save(fig, stem, **kw):
        figures.append(fig)
        return real_save(fig, stem, **kw)

    monkeypatch.setattr(style, "save_figure", save)
    cutflow = demo._run_processor(fileset, model_path, tmp_path)
    assert cutflow["ttbar"]["simulated"] == 3000
    assert (tmp_path / "ttbar_masses.png").stat().st_size > 5000
    (fig,) = figures
    assert len(fig.axes) == 8 and all(ax.get_ylabel() for ax in fig.axes)
    assert all("above range" in t.get_text() for ax in fig.axes[:4] for t in ax.get_legend().get_texts())


def test_unselected_input_fills_turbo_sim_with_the_passing_events_only(fileset, model_path, tmp_path):
    import awkward as ak
    from turbosim_hep.processors import TurboSimProcessor

    from tests.simulation.test_efficiency import constant_efficiency
    from turbosim_hep.io.nanoevents import open_nanoevents
    from turbosim_hep.model.transform import TurboSimTransform
    from turbosim_hep.simulation.efficiency_file import attach_efficiency

    eff_model = attach_efficiency(model_path, tmp_path / "model-eff.pt", constant_efficiency(0.3))
    path = next(iter(json.loads(fileset.read_text())["ttbar"]["files"]))
    events = open_nanoevents(path)
    (out,) = TurboSimProcessor(eff_model, selected_input=False).process(events).values()
    passed = ak.to_numpy(TurboSimTransform.load(eff_model, device="cpu").simulate(events, selected_input=False)
                         .passSelection)  # fmt: skip
    assert out["cutflow"]["simulated"] == len(events) == 1500
    assert out["cutflow"]["turbo-sim passSelection"] == passed.sum() and 350 < passed.sum() < 550
    assert out["hists"]["m_tt"][{"simulation": "turbo-sim"}].sum(flow=True) == passed.sum()
    assert out["hists"]["m_tt"][{"simulation": "full-sim"}].sum(flow=True) == 1500
    (selected,) = TurboSimProcessor(eff_model).process(events).values()
    assert selected["cutflow"]["simulated"] == 1500 and "turbo-sim passSelection" not in selected["cutflow"]
    with pytest.raises(ValueError, match="no selection-efficiency model"):
        TurboSimProcessor(model_path, selected_input=False).process(events)


def test_unfold_fills_truth_and_unfolded_parton_histograms_of_the_selected_events(fileset, model_path):
    from turbosim_hep.processors import LEVELS, PARTON_OBSERVABLES, TurboSimProcessor

    from turbosim_hep.evaluation.features import parton_observables
    from turbosim_hep.events.features import partons_to_features
    from turbosim_hep.io.nanoevents import open_nanoevents
    from turbosim_hep.model.transform import TurboSimTransform

    path = next(iter(json.loads(fileset.read_text())["ttbar"]["files"]))
    events = open_nanoevents(path)
    (out,) = TurboSimProcessor(model_path, unfold=True).process(events).values()
    assert out["cutflow"]["unfolded"] == 1500
    assert set(out["unfolded"]) == set(PARTON_OBSERVABLES) == {"m_tt", "top_pt_had", "top_pt_lep", "y_tt"}
    unfolded = partons_to_features(TurboSimTransform.load(model_path, device="cpu").unfold(events))
    for level, z in zip(LEVELS, (partons_to_features(events), unfolded), strict=True):
        observables = parton_observables(z)
        for name, h in out["unfolded"].items():
            one = h[{"level": level}]
            assert one.sum(flow=True) == 1500, (level, name)
            want = hist_of(one, observables[name])
            np.testing.assert_array_equal(one.values(flow=True), want, err_msg=f"{level} {name}")
    truth, unf = (out["unfolded"]["m_tt"][{"level": lv}].values() for lv in LEVELS)
    assert not np.array_equal(truth, unf)
    (plain,) = TurboSimProcessor(model_path).process(events).values()
    assert "unfolded" not in plain and "unfolded" not in plain["cutflow"]
    (empty,) = TurboSimProcessor(model_path, unfold=True).process(events[:0]).values()
    assert empty["cutflow"]["unfolded"] == 0 and set(empty["unfolded"]) == set(PARTON_OBSERVABLES)
    assert all(h.sum(flow=True) == 0 for h in empty["unfolded"].values())


def hist_of(h, values: np.ndarray) -> np.ndarray:
    """Counts of ``values`` in ``h``'s bins, flow included (NaN as overflow, as boost-histogram fills it)."""
    edges = h.axes[0].edges
    v = np.where(np.isnan(values), np.inf, values)
    inner = np.histogram(v[(v >= edges[0]) & (v < edges[-1])], bins=edges)[0]
    return np.r_[(v < edges[0]).sum(), inner, (v >= edges[-1]).sum()].astype(float)
