"""One loader for every model file: the OTUS baseline gets the same awkward API as Turbo-Sim."""

import awkward as ak
import numpy as np

from tests.conftest import toy_features
from turbosim_hep.baselines.otus.transform import OtusTransform
from turbosim_hep.events.features import events_from_features, reco_to_features
from turbosim_hep.events.validity import validate
from turbosim_hep.model.transform import TurboSimTransform
from turbosim_hep.simulation.registry import load_transform


def test_load_transform_tells_otus_from_turbosim(otus_checkpoint, tmp_path):
    assert isinstance(load_transform(otus_checkpoint, device="cpu"), OtusTransform)


def test_otus_simulates_awkward_events_in_the_generator_layout(otus_checkpoint):
    z = toy_features(50, np.random.default_rng(1))
    partons = events_from_features(z=z, event=np.arange(50))
    tf = load_transform(otus_checkpoint, device="cpu")
    reco = tf.simulate(partons)
    validate(reco)
    assert set(ak.fields(reco)) >= {"Electron", "MET", "Jet"}
    # electron and MET (px, py, pz) come back as the network gave them; jets are re-sorted by pT
    raw = tf.simulate_features(z, event=np.arange(50))
    np.testing.assert_allclose(reco_to_features(reco)[:, :7], raw[:, :7], rtol=1e-4, atol=1e-2)
    assert not isinstance(tf, TurboSimTransform)
