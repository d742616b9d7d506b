import awkward as ak
import numpy as np
import pytest

from tests.conftest import toy_features
from turbosim_hep.events.features import events_from_features, reco_to_features
from turbosim_hep.events.validity import validate
from turbosim_hep.io.root import read_events, write_events
from turbosim_hep.model.transform import TurboSimTransform
from turbosim_hep.simulation.noise import event_noise, event_noise_reference, row_keys


@pytest.fixture
def partons():
    z = toy_features(300, np.random.default_rng(5))
    return events_from_features(z=z, event=np.arange(10_000, 10_300), run=3)


def test_noise_kernel_matches_its_numpy_twin_and_is_standard_normal():
    keys = row_keys(1, 1, 1, 1, np.arange(20_000), 0)
    fast = event_noise(keys, 25)
    np.testing.assert_allclose(fast[:500], event_noise_reference(keys[:500], 25), rtol=0, atol=1e-5)
    assert abs(fast.mean()) < 0.01 and abs(fast.std() - 1) < 0.01
    assert np.corrcoef(fast[:, 0], fast[:, 1])[0, 1] < 0.03


def test_simulate_writes_the_generator_layout(model_path, partons):
    tf = TurboSimTransform.load(model_path, device="cpu")
    reco = tf.simulate(partons)
    assert set(ak.fields(reco)) == {"run", "luminosityBlock", "event", "Electron", "MET", "Jet"}
    validate(reco)
    assert np.all(ak.num(reco["Jet"]) == 4) and np.all(ak.num(reco["Electron"]) == 1)
    pt = ak.to_numpy(reco["Jet"]["pt"])
    assert np.all(np.diff(pt, axis=1) <= 0)
    assert np.isfinite(ak.to_numpy((reco.Jet[:, 0] + reco.Jet[:, 1]).mass)).all()
    np.testing.assert_array_equal(ak.to_numpy(reco["event"]), ak.to_numpy(partons["event"]))


def test_results_do_not_depend_on_batching_or_order(model_path, partons):
    a = TurboSimTransform.load(model_path, device="cpu", batch_size=1000)
    b = TurboSimTransform.load(model_path, device="cpu", batch_size=7)
    xa = reco_to_features(a.simulate(partons))
    perm = np.random.default_rng(0).permutation(len(partons))
    xb = reco_to_features(b.simulate(partons[perm]))
    np.testing.assert_allclose(xb, xa[perm], rtol=1e-5, atol=1e-4)
    halves = np.concatenate([reco_to_features(a.simulate(partons[:100])), reco_to_features(a.simulate(partons[100:]))])
    np.testing.assert_array_equal(halves, xa)


def test_seed_changes_the_noise_and_same_seed_repeats(model_path, partons):
    x1 = reco_to_features(TurboSimTransform.load(model_path, device="cpu", seed=1).simulate(partons))
    x1b = reco_to_features(TurboSimTransform.load(model_path, device="cpu", seed=1).simulate(partons))
    x2 = reco_to_features(TurboSimTransform.load(model_path, device="cpu", seed=2).simulate(partons))
    np.testing.assert_array_equal(x1, x1b)
    assert not np.allclose(x1, x2)


def test_oversampling_draws_distinct_responses_with_a_source_index(model_path, partons):
    tf = TurboSimTransform.load(model_path, device="cpu")
    reco = tf.simulate(partons[:50], n_samples=4)
    assert len(reco) == 200
    np.testing.assert_array_equal(ak.to_numpy(reco["sourceIndex"]), np.repeat(np.arange(50), 4))
    np.testing.assert_array_equal(ak.to_numpy(reco["sample"]), np.tile(np.arange(4), 50))
    x = reco_to_features(reco).reshape(50, 4, 24)
    assert np.all(np.std(x[:, :, 8], axis=1) > 0)
    single = reco_to_features(tf.simulate(partons[:50]))
    np.testing.assert_array_equal(x[:, 0], single)


def test_unfold_returns_partons_and_handles_empty_input(model_path, partons):
    tf = TurboSimTransform.load(model_path, device="cpu")
    reco = tf.simulate(partons)
    back = tf.unfold(reco)
    assert ak.to_list(back["Parton"]["pdgId"][0]) == [11, -12, 5, -5, 2, -1]
    empty = tf.simulate(partons[:0])
    assert len(empty) == 0 and "Jet" in ak.fields(empty)
    assert len(tf.unfold(reco[:0])) == 0


def test_bare_parton_collection_needs_ids_or_warns(model_path, partons):
    tf = TurboSimTransform.load(model_path, device="cpu")
    with pytest.warns(UserWarning, match="no event ids"):
        tf.simulate(partons["Parton"])
    given = tf.simulate(partons["Parton"], run=3, event=ak.to_numpy(partons["event"]))
    np.testing.assert_array_equal(reco_to_features(given), reco_to_features(tf.simulate(partons)))


def test_simulate_output_round_trips_through_root_and_nanoevents(model_path, partons, tmp_path):
    from turbosim_hep.io.nanoevents import open_nanoevents

    tf = TurboSimTransform.load(model_path, device="cpu")
    reco = tf.simulate(partons)
    path = write_events(tmp_path / "ts.root", reco)
    np.testing.assert_array_equal(reco_to_features(read_events(path)), reco_to_features(reco))
    nano = open_nanoevents(path)
    assert len(nano.Jet) == len(partons)
    assert np.isfinite(ak.to_numpy((nano.Jet[:, 0] + nano.Jet[:, 1]).mass)).all()


def test_missing_or_foreign_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        TurboSimTransform.load(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="junk.pt"):
        TurboSimTransform.load(tmp_path / "junk.pt")


def test_a_model_for_another_layout_is_refused_by_the_transform(model_path, tmp_path):
    import torch

    from turbosim_hep.constants import LAYOUT_VERSION
    from turbosim_hep.io.safe_torch import content_digest
    from turbosim_hep.model import checkpoint as ckpt

    content = ckpt.read_checkpoint(model_path)
    content["layout_version"] = LAYOUT_VERSION + 1
    content["digest"] = content_digest(content)
    torch.save(content, tmp_path / "future.pt")
    with pytest.raises(ValueError, match=r"future\.pt.*layout version"):
        TurboSimTransform.load(tmp_path / "future.pt")


@pytest.mark.parametrize("n_samples", [1, 3])
def test_simulate_as_features_are_the_features_of_the_simulated_events(model_path, partons, n_samples):
    tf = TurboSimTransform.load(model_path, device="cpu")
    records = reco_to_features(tf.simulate(partons, n_samples=n_samples))
    features = tf.simulate_as_features(partons, n_samples=n_samples)
    assert features.shape == records.shape == (len(partons) * n_samples, 24)
    scale = np.abs(records).max(axis=1, keepdims=True)
    assert np.abs(features - records).max() / scale.min() < 1e-5  # float32 round trip through (pt, eta, phi, m)
