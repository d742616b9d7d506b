"""The evaluation scores what users get: sorted jets as simulate() returns them, one noise stream per generated
sample, the model's own test split, and every event of a dedicated sample."""

from __future__ import annotations

import json
from types import SimpleNamespace

import awkward as ak
import numpy as np
import pytest

from tests.conftest import toy_features
from turbosim_hep.cli import main
from turbosim_hep.evaluation.samples import load_features
from turbosim_hep.evaluation.scoring import check_split, evaluate, run_model
from turbosim_hep.events.features import events_from_features, reco_to_features
from turbosim_hep.events.split import split_mask
from turbosim_hep.io.root import write_events
from turbosim_hep.model.transform import TurboSimTransform


@pytest.fixture
def sample(tmp_path):
    rng = np.random.default_rng(3)
    z, x = toy_features(600, rng), toy_features(600, rng, massless=True)
    path = tmp_path / "data.root"
    write_events(path, events_from_features(z=z, x=x, event=np.arange(600), run=5))
    return path


def test_jet_columns_are_those_of_simulate(model_path, sample):
    tf = TurboSimTransform.load(model_path, device="cpu")
    feats = load_features(sample, split=None)
    x_gen, *_ = run_model(tf, feats)
    events = events_from_features(z=feats.z, event=feats.event, run=feats.run)
    from_simulate = reco_to_features(tf.simulate(events))
    np.testing.assert_allclose(x_gen, from_simulate, rtol=1e-5, atol=1e-3)
    raw = tf._apply("simulate", feats.z, tf._keys("simulate", len(feats), feats.run, 1, feats.event, 0))
    assert not np.allclose(raw[:, 8:12], x_gen[:, 8:12])  # the untrained MLP's raw jet1 slot is not the leading jet


def test_each_generated_sample_has_its_own_noise_stream(model_path, sample):
    tf = TurboSimTransform.load(model_path, device="cpu")
    feats = load_features(sample, split=None)
    x_gen, z_gen, x_rec, z_rec = run_model(tf, feats)
    ids = {"run": feats.run, "luminosity_block": feats.luminosity_block, "event": feats.event}
    np.testing.assert_allclose(x_rec, tf.simulate_features(z_gen, stream="simulate_after_unfold", **ids), atol=1e-4)
    np.testing.assert_allclose(z_rec, tf.unfold_features(x_gen, stream="unfold_after_simulate", **ids), atol=1e-4)
    reused = tf.simulate_features(z_gen, stream="simulate", **ids)
    assert not np.allclose(x_rec, reused, atol=1e-4)


def _model(fractions=(0.7, 0.15, 0.15), files=(), used=("train", "validation")):
    loaded = SimpleNamespace(
        config=SimpleNamespace(split_fractions=fractions), provenance={"data": {"files": [{"path": f} for f in files]}}
    )
    return SimpleNamespace(loaded=loaded, split_fractions=fractions, used_splits=used)


@pytest.mark.parametrize("split", ["train", "validation"])
def test_scoring_a_split_the_model_trained_or_selected_on_is_refused(sample, split):
    with pytest.raises(ValueError, match="trained or selected on|split must be one of"):
        check_split(_model(), sample, split)


def test_split_all_on_a_training_file_is_refused(sample):
    with pytest.raises(ValueError, match="in its training data"):
        check_split(_model(files=[str(sample)]), sample, "all")
    assert check_split(_model(files=["/elsewhere/other.root"]), sample, "all") == (None, (0.7, 0.15, 0.15))


def test_the_test_split_uses_the_models_own_fractions(sample, model_path):
    read, fractions = check_split(_model(fractions=(0.4, 0.1, 0.5)), sample, "test")
    feats = load_features(sample, split=read, fractions=fractions)
    ids = load_features(sample, split=None)
    assert len(feats) == int(split_mask(ids.run, ids.event, "test", fractions=(0.4, 0.1, 0.5)).sum())
    assert len(feats) > int(split_mask(ids.run, ids.event, "test").sum())


def test_split_all_scores_every_event_of_a_file(model_path, sample, tmp_path):
    code = main(
        ["evaluate", str(model_path), str(sample), "--out", str(tmp_path / "ev"), "--split", "all", "--no-plots",
         "--no-classifier"]
    )  # fmt: skip
    assert code == 0
    meta = json.loads((tmp_path / "ev" / "report.json").read_text())["meta"]
    assert meta["n_events"] == len(ak.Array(load_features(sample, split=None).event)) == 600
    assert meta["split"] == "all"


def test_a_simulate_only_transform_is_scored_on_x_alone(sample, tmp_path):
    from tests.evaluation.conftest import toy_detector

    class SimulateOnly:
        directions = ("simulate",)
        split_fractions = (0.7, 0.15, 0.15)
        used_splits = ("train",)

        def simulate_features(self, z, *, run, luminosity_block, event, stream="simulate"):
            return toy_detector(z, np.random.default_rng(int(event.sum())))

    report = evaluate(SimulateOnly(), sample, out=tmp_path / "ev", split="validation", plots=False, classifier=False)
    t1 = report.table1["independent"]["sampled"]
    assert t1[:3] == [None, None, None] and all(v is not None for v in t1[3:])
