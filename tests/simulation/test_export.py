import numpy as np
import pytest

from tests.conftest import toy_features
from turbosim_hep.events.features import events_from_features, partons_to_features
from turbosim_hep.model.export import TurboSimTorchWrapper, export_model, read_export_metadata
from turbosim_hep.model.transform import TurboSimTransform


@pytest.fixture
def events():
    z = toy_features(200, np.random.default_rng(9))
    x = toy_features(200, np.random.default_rng(10), massless=True)
    return events_from_features(z=z, x=x, event=np.arange(500, 700), run=2)


@pytest.mark.parametrize("suffix", [".pt", ".pt2"])
def test_torch_wrapper_runs_the_exported_decoder_like_the_transform(model_path, events, tmp_path, suffix):
    out = export_model(model_path, tmp_path / f"decoder{suffix}", direction="simulate", seed=5)
    assert read_export_metadata(out)["noise_dim"] > 0
    wrapper = TurboSimTorchWrapper(out)
    got = np.asarray(wrapper(events))
    tf = TurboSimTransform.load(model_path, device="cpu", seed=5)
    want = tf.simulate_features(partons_to_features(events), run=2, event=np.arange(500, 700))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)
    assert np.asarray(wrapper(events[:0])).shape == (0, 24)


def test_exported_encoder_matches_unfold(model_path, events, tmp_path):
    from turbosim_hep.events.features import reco_to_features

    out = export_model(model_path, tmp_path / "encoder.pt", direction="unfold")
    got = np.asarray(TurboSimTorchWrapper(out)(events))
    tf = TurboSimTransform.load(model_path, device="cpu")
    want = tf.unfold_features(reco_to_features(events), run=2, event=np.arange(500, 700))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)


def test_export_refuses_bad_arguments(model_path, tmp_path):
    with pytest.raises(ValueError, match="direction"):
        export_model(model_path, tmp_path / "a.pt", direction="sideways")
    with pytest.raises(ValueError, match=r"\.pt \(TorchScript\) or \.pt2"):
        export_model(model_path, tmp_path / "a.onnx")
    assert not (tmp_path / "a.onnx").exists()
