import awkward as ak
import numpy as np
import pytest
import vector

from turbosim_hep.constants import PARTON_PDG_IDS, X_FEATURES, Z_FEATURES
from turbosim_hep.events.features import (
    events_from_features,
    features_to_reco,
    partons_to_features,
    reco_to_features,
)
from turbosim_hep.events.validity import validate


def test_feature_names_follow_the_paper_order():
    assert Z_FEATURES[:4] == ("electron_px", "electron_py", "electron_pz", "electron_E")
    assert Z_FEATURES[8] == "b_px" and Z_FEATURES[-1] == "dbar_E"
    assert X_FEATURES[4:8] == ("met_px", "met_py", "met_pz", "met_E")
    assert X_FEATURES[-4] == "jet4_px"


def test_features_round_trip_through_the_layout(toy_events):
    events, z, x = toy_events
    np.testing.assert_allclose(partons_to_features(events), z, rtol=2e-6, atol=2e-4)
    np.testing.assert_allclose(reco_to_features(events), x, rtol=2e-6, atol=2e-4)


def test_float64_features_round_trip_exactly_to_float32(rng):
    from tests.conftest import toy_features

    z = toy_features(200, rng).astype(np.float64)
    events = events_from_features(z=z)
    assert ak.type(events["Parton"]["pt"]).content.content.primitive == "float64"
    np.testing.assert_array_max_ulp(partons_to_features(events), z.astype(np.float32), maxulp=1)


def test_partons_have_vector_behaviour_and_pdg_ids(toy_events):
    events, z, _ = toy_events
    assert ak.to_list(events["Parton"]["pdgId"][0]) == list(PARTON_PDG_IDS)
    px = ak.to_numpy(events["Parton"][:, 0].px)
    np.testing.assert_allclose(px, z[:, 0], rtol=1e-5, atol=1e-3)
    dijet = events["Jet"][:, 0] + events["Jet"][:, 1]
    assert np.all(np.isfinite(ak.to_numpy(dijet.mass)))


def test_dijet_mass_matches_vector_on_float64(toy_events):
    events, _, x = toy_events
    x64 = x.astype(np.float64)
    j1 = vector.array({"px": x64[:, 8], "py": x64[:, 9], "pz": x64[:, 10], "E": x64[:, 11]})
    j2 = vector.array({"px": x64[:, 12], "py": x64[:, 13], "pz": x64[:, 14], "E": x64[:, 15]})
    ours = ak.to_numpy((events["Jet"][:, 0] + events["Jet"][:, 1]).mass)
    np.testing.assert_allclose(ours, (j1 + j2).mass, rtol=1e-3, atol=0.05)


def test_network_output_with_e_below_p_keeps_signed_mass():
    x = np.zeros((1, 24), dtype=np.float32)
    x[0, 0:4] = (30.0, 40.0, 0.0, 45.0)  # E < |p| = 50: m^2 < 0
    for j in range(4):
        x[0, 8 + 4 * j : 12 + 4 * j] = (50.0 - j, 0.0, 0.0, 60.0)
    reco = features_to_reco(x)
    assert float(reco["electrons"]["mass"][0, 0]) < 0
    back = reco_to_features(events_from_features(x=x))
    np.testing.assert_allclose(back[0, 3], 45.0, rtol=1e-5)


def test_reco_features_need_four_jets(toy_events):
    events, _, _ = toy_events
    cut = ak.with_field(events, events["Jet"][:, :3], "Jet")
    with pytest.raises(ValueError, match=r"Jet: event 0 .* has 3 objects, need at least 4"):
        reco_to_features(cut)


def test_wrong_feature_shape_is_refused():
    with pytest.raises(ValueError, match=r"shape \(n, 24\)"):
        events_from_features(z=np.zeros((3, 23)))


def test_validate_accepts_good_events(toy_events):
    validate(toy_events[0])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e[[f for f in ak.fields(e) if f != "event"]], "missing branch 'event'"),
        (lambda e: ak.with_field(e, e["Parton"][:, :5], "Parton"), "branch 'nParton', event 0 .* has 5 partons"),
        (
            lambda e: ak.with_field(e, ak.where(e["event"] == 1003, np.nan, e["MET"]["pt"]), ("MET", "pt")),
            "branch 'MET_pt', event 3 .*NaN",
        ),
        (
            lambda e: ak.with_field(e, e["Jet"]["pt"] * ak.where(e["event"] == 1002, -1.0, 1.0), ("Jet", "pt")),
            "branch 'Jet_pt', event 2 .*negative pT",
        ),
        (
            lambda e: ak.with_field(e, e["Parton"]["mass"] - 1e4, ("Parton", "mass")),
            "branch 'Parton_mass', event 0 .*negative mass beyond rounding",
        ),
        (
            lambda e: ak.with_field(e, e["Parton"]["pdgId"][:, ::-1], ("Parton", "pdgId")),
            "branch 'Parton_pdgId', event 0",
        ),
    ],
)
def test_validate_names_the_field_and_first_bad_event(toy_events, mutate, message):
    with pytest.raises(ValueError, match=message):
        validate(mutate(toy_events[0]), source="sample.root")


def test_reco_features_take_the_four_leading_jets_even_when_unsorted(rng):
    import vector as vec

    n = 200
    counts = rng.integers(4, 8, n)
    pt = ak.unflatten(rng.uniform(20, 300, counts.sum()), counts)
    jets = ak.zip(
        {"pt": pt, "eta": ak.zeros_like(pt) + 0.3, "phi": ak.zeros_like(pt) + 1.0, "mass": ak.zeros_like(pt) + 5.0}
    )
    x = toy_features_for_reco(n, rng)
    events = events_from_features(x=x)
    events = ak.with_field(events, ak.with_name(jets, "Momentum4D", behavior=vec.backends.awkward.behavior), "Jet")
    got = reco_to_features(events)[:, 8:].reshape(n, 4, 4)
    leading = ak.to_numpy(ak.sort(pt, axis=1, ascending=False)[:, :4])
    np.testing.assert_allclose(np.hypot(got[..., 0], got[..., 1]), leading, rtol=1e-6)


def toy_features_for_reco(n, rng):
    from tests.conftest import toy_features

    return toy_features(n, rng, massless=True)
