"""The detector's coverage in the validation policy: what the full simulation makes passes, what no detector could
measure is refused."""

import awkward as ak
import numpy as np
import pytest

from tests.conftest import toy_features
from turbosim_hep.events.features import events_from_features
from turbosim_hep.events.validity import validate


def _with_jet_eta(eta: float) -> ak.Array:
    x = toy_features(3, np.random.default_rng(0), massless=True)
    events = events_from_features(x=x, event=np.arange(3))
    jets = events["Jet"]
    new_eta = ak.unflatten(np.where(np.arange(12) == 7, eta, ak.flatten(jets["eta"]).to_numpy()), ak.num(jets))
    return ak.with_field(events, ak.with_field(jets, new_eta, "eta"), "Jet")


@pytest.mark.parametrize("eta", [4.99, 5.06, -5.45])
def test_jets_just_beyond_the_calorimeter_edge_pass_as_the_full_simulation_makes_them(eta):
    # anti-kt jets' axes reach beyond the last tower: the reference sample's jets reach |eta| 5.06
    validate(_with_jet_eta(eta), detector=True)


@pytest.mark.parametrize("eta", [5.6, -12.0])
def test_objects_no_detector_could_measure_are_refused(eta):
    with pytest.raises(ValueError, match=r"Jet\[3\] lies outside the detector"):
        validate(_with_jet_eta(eta), detector=True)
