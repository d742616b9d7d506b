"""OTUS checkpoints and OtusTransform: round trip, refusal of foreign or edited files, order-independent noise,
and the evaluation report running on the baseline."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from turbosim_hep.baselines.otus.checkpoint import FORMAT, is_otus_checkpoint, load_otus, read_otus_checkpoint
from turbosim_hep.baselines.otus.transform import OtusTransform
from turbosim_hep.constants import LAYOUT_VERSION
from turbosim_hep.events.features import reco_as_stored
from turbosim_hep.simulation.noise import STREAMS, event_noise, row_keys


def test_checkpoint_holds_plain_data_and_round_trips(otus_checkpoint):
    content = torch.load(otus_checkpoint, weights_only=True)
    assert content["format"] == FORMAT and content["layout_version"] == LAYOUT_VERSION
    assert content["config"]["epochs"] == 3 and content["config"]["seed"] == 5
    assert {"data", "split_fractions", "split_events", "versions"} <= set(content["provenance"])
    loaded = load_otus(otus_checkpoint, device="cpu")
    state = loaded.model.state_dict()
    assert all(torch.equal(state[k], content["model"][k]) for k in content["model"])
    assert not loaded.model.training
    assert len(loaded.history["stage1"]) == 3 and set(loaded.validation) >= {"mse", "swd_z", "swd_x"}
    assert is_otus_checkpoint(otus_checkpoint)


def test_edited_checkpoint_is_refused(otus_checkpoint, tmp_path):
    content = torch.load(otus_checkpoint, weights_only=True)
    content["model"]["decoder.net.0.weight"][0, 0] += 1.0
    edited = tmp_path / "edited.pt"
    torch.save(content, edited)
    with pytest.raises(ValueError, match=r"edited\.pt.*integrity"):
        load_otus(edited)


def test_foreign_files_are_refused_with_the_file_named(tmp_path):
    turbo = tmp_path / "turbo.pt"
    torch.save({"format": "turbosim-hep checkpoint"}, turbo)
    with pytest.raises(ValueError, match=r"turbo\.pt.*not an OTUS baseline checkpoint"):
        read_otus_checkpoint(turbo)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match=r"junk\.pt.*not a loadable"):
        read_otus_checkpoint(junk)
    pickled = tmp_path / "code.pt"
    torch.save({"format": FORMAT, "payload": Fraction(1, 3)}, pickled)  # an arbitrary object: unsafe to load
    with pytest.raises(ValueError, match=r"code\.pt.*refused for safety"):
        read_otus_checkpoint(pickled)
    with pytest.raises(FileNotFoundError, match="missing"):
        read_otus_checkpoint(tmp_path / "missing.pt")
    assert not is_otus_checkpoint(turbo) and not is_otus_checkpoint(junk)


def test_other_layout_version_is_refused(otus_checkpoint, tmp_path):
    from turbosim_hep.io.safe_torch import content_digest as _digest

    content = torch.load(otus_checkpoint, weights_only=True)
    content["layout_version"] = LAYOUT_VERSION + 1
    content["digest"] = _digest(content)
    other = tmp_path / "other.pt"
    torch.save(content, other)
    with pytest.raises(ValueError, match=r"other\.pt.*layout version"):
        read_otus_checkpoint(other)


def test_transform_uses_per_event_noise_from_the_event_ids(otus_checkpoint, toy_sample):
    tf = OtusTransform.load(otus_checkpoint, device="cpu")
    z, x, event = toy_sample["z"][:300], toy_sample["x"][:300], toy_sample["event"][:300]
    out = tf.simulate_features(z, event=event)
    # the same events in another order and smaller batches give the same rows
    perm = np.random.default_rng(0).permutation(300)
    small = OtusTransform(tf.loaded, batch_size=7)
    np.testing.assert_array_equal(small.simulate_features(z[perm], event=event[perm]), out[perm])
    # and the network fed the documented noise reproduces it
    keys = row_keys(tf.seed, STREAMS["simulate"], np.ones(300), np.ones(300), event, np.zeros(300))
    with torch.no_grad():
        direct = tf.loaded.model.decoder(torch.from_numpy(z), torch.from_numpy(event_noise(keys, 18))).numpy()
    direct = reco_as_stored(direct)  # simulate_features returns what simulate() does: jets sorted by pT
    np.testing.assert_allclose(out, direct, rtol=1e-6, atol=1e-4)
    assert out.dtype == np.float32 and out.shape == (300, 24)
    # another oversampling index, stream or seed draws other noise
    assert np.abs(tf.simulate_features(z, event=event, sample=1) - out).max() > 1e-3
    assert np.abs(OtusTransform(tf.loaded, seed=99).simulate_features(z, event=event) - out).max() > 1e-3
    z_tilde = tf.unfold_features(x, event=event)
    assert z_tilde.shape == (300, 24) and np.isfinite(z_tilde).all()


def test_transform_needs_event_ids_and_well_shaped_features(otus_checkpoint):
    tf = OtusTransform.load(otus_checkpoint, device="cpu")
    with pytest.raises(ValueError, match="event ids"):
        tf.simulate_features(np.zeros((3, 24), np.float32))
    with pytest.raises(ValueError, match=r"shape \(n, 24\)"):
        tf.unfold_features(np.zeros((3, 20), np.float32), event=np.arange(3))


def test_evaluate_runs_on_the_otus_transform(otus_checkpoint, toy_sample, tmp_path):
    from turbosim_hep.evaluation.scoring import evaluate

    tf = OtusTransform.load(otus_checkpoint, device="cpu")
    report = evaluate(tf, toy_sample, out=tmp_path / "eval", plots=False, classifier=False)
    sampled = report.table1["independent"]["sampled"]
    assert len(sampled) == 10 and all(v is None or 0.0 <= v <= 1.0 for v in sampled)
    assert (tmp_path / "eval" / "report.md").exists()
    assert report.meta["model"] == "OtusTransform"
