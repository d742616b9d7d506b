"""Simulating partons that were never selected: passSelection drawn with ε(z), the efficiency in the model file."""

import json
import math

import awkward as ak
import numpy as np
import pytest

from tests.conftest import toy_features
from tests.simulation.test_efficiency import constant_efficiency
from turbosim_hep.cli import main
from turbosim_hep.events.features import events_from_features, reco_to_features
from turbosim_hep.io.root import read_events, write_events
from turbosim_hep.model.transform import TurboSimTransform
from turbosim_hep.simulation.efficiency_file import attach_efficiency
from turbosim_hep.simulation.files import simulate_files

EPS = 0.3


@pytest.fixture(scope="module")
def eff_model(model_path, tmp_path_factory):
    """The shared untrained test model with an efficiency of exactly 0.3 attached."""
    return attach_efficiency(model_path, tmp_path_factory.mktemp("eff") / "model-eff.pt", constant_efficiency(EPS))


@pytest.fixture
def partons():
    z = toy_features(4000, np.random.default_rng(8))
    return events_from_features(z=z, event=np.arange(10_000, 14_000), run=7)


def test_unselected_partons_keep_the_efficiency_fraction(eff_model, partons):
    tf = TurboSimTransform.load(eff_model, device="cpu")
    out = tf.simulate(partons, selected_input=False)
    passed = ak.to_numpy(out.passSelection)
    assert passed.dtype == bool and ak.to_numpy(out.efficiency).dtype == np.float32
    np.testing.assert_allclose(ak.to_numpy(out.efficiency), EPS, rtol=1e-6)
    assert abs(passed.mean() - EPS) < 4 * math.sqrt(EPS * (1 - EPS) / len(passed))


def test_pass_selection_is_keyed_on_the_event_ids(eff_model, partons):
    tf = TurboSimTransform.load(eff_model, device="cpu")
    whole = ak.to_numpy(tf.simulate(partons, selected_input=False).passSelection)
    order = np.random.default_rng(0).permutation(len(partons))
    shuffled = ak.to_numpy(tf.simulate(partons[order], selected_input=False).passSelection)
    np.testing.assert_array_equal(shuffled, whole[order])
    halves = [tf.simulate(partons[s], selected_input=False).passSelection for s in (slice(0, 1234), slice(1234, None))]
    np.testing.assert_array_equal(np.concatenate([ak.to_numpy(h) for h in halves]), whole)
    other_seed = TurboSimTransform.load(eff_model, device="cpu", seed=99).simulate(partons, selected_input=False)
    assert (ak.to_numpy(other_seed.passSelection) != whole).any()


def test_oversampled_responses_each_draw_their_selection(eff_model, partons):
    tf = TurboSimTransform.load(eff_model, device="cpu")
    out = tf.simulate(partons[:500], n_samples=4, selected_input=False)
    passed = ak.to_numpy(out.passSelection).reshape(500, 4)
    first = ak.to_numpy(tf.simulate(partons[:500], selected_input=False).passSelection)
    np.testing.assert_array_equal(passed[:, 0], first)  # sample 0 is the single draw
    assert (passed != passed[:, :1]).any()  # later samples draw anew
    blocks = tf.simulate(partons[:500], n_samples=2, first_sample=2, selected_input=False)
    np.testing.assert_array_equal(ak.to_numpy(blocks.passSelection).reshape(500, 2), passed[:, 2:])


def test_selected_input_is_todays_behaviour(model_path, eff_model, partons):
    plain = TurboSimTransform.load(model_path, device="cpu")
    with_eff = TurboSimTransform.load(eff_model, device="cpu")
    a, b = plain.simulate(partons), with_eff.simulate(partons)
    assert set(ak.fields(a)) == set(ak.fields(b))
    assert "passSelection" not in ak.fields(b) and "efficiency" not in ak.fields(b)
    np.testing.assert_array_equal(reco_to_features(a), reco_to_features(b))
    np.testing.assert_array_equal(
        reco_to_features(with_eff.simulate(partons, selected_input=False)), reco_to_features(b)
    )  # the selection draw leaves the detector response alone


def test_model_without_efficiency_loads_and_refuses_unselected_input_saying_how(model_path, partons):
    tf = TurboSimTransform.load(model_path, device="cpu")
    assert tf.efficiency is None
    with pytest.raises(ValueError, match="train-efficiency"):
        tf.simulate(partons, selected_input=False)


def test_attach_writes_a_new_file_and_never_the_input(model_path, tmp_path):
    before = model_path.read_bytes()
    with pytest.raises(ValueError, match="input model"):
        attach_efficiency(model_path, model_path, constant_efficiency(0.5))
    assert model_path.read_bytes() == before
    out = attach_efficiency(model_path, tmp_path / "a.pt", constant_efficiency(0.5))
    assert TurboSimTransform.load(out, device="cpu").efficiency is not None
    assert not list(tmp_path.glob(".*.tmp"))
    again = attach_efficiency(out, tmp_path / "b.pt", constant_efficiency(0.2))  # an efficiency is replaced
    eps = TurboSimTransform.load(again, device="cpu").efficiency.efficiency(toy_features(3, np.random.default_rng(0)))
    np.testing.assert_allclose(eps, 0.2, rtol=1e-6)


def test_cli_simulate_marks_unselected_input_and_refuses_a_model_without_efficiency(
    model_path, eff_model, partons, tmp_path, capsys
):
    src = write_events(tmp_path / "in" / "chunk-0000.root", partons[:300])
    assert (
        main(["simulate", str(src), "--model", str(eff_model), "--out", str(tmp_path / "u"), "--unselected-input"]) == 0
    )
    out = read_events(tmp_path / "u" / "chunk-0000.root")
    want = TurboSimTransform.load(eff_model, device="cpu").simulate(partons[:300], selected_input=False)
    np.testing.assert_array_equal(ak.to_numpy(out.passSelection), ak.to_numpy(want.passSelection))
    np.testing.assert_array_equal(ak.to_numpy(out.efficiency), ak.to_numpy(want.efficiency))
    assert (
        main(["simulate", str(src), "--model", str(model_path), "--out", str(tmp_path / "x"), "--unselected-input"])
        == 1
    )
    assert "train-efficiency" in capsys.readouterr().err
    assert main(["simulate", str(src), "--model", str(eff_model), "--out", str(tmp_path / "s")]) == 0  # a plain file
    assert "passSelection" not in ak.fields(read_events(tmp_path / "s" / "chunk-0000.root"))


def test_a_no_select_directory_is_recognised_and_a_model_without_efficiency_warns(
    model_path, eff_model, partons, tmp_path
):
    src = write_events(tmp_path / "noselect" / "chunk-0000.root", partons[:200])
    (tmp_path / "noselect" / "provenance.json").write_text(json.dumps({"n_events_generated": 200, "selection": None}))
    (done,) = simulate_files([src], eff_model, tmp_path / "a")
    assert "passSelection" in ak.fields(read_events(done))
    with pytest.warns(UserWarning, match="never selected"):
        (plain,) = simulate_files([src], model_path, tmp_path / "b")
    assert "passSelection" not in ak.fields(read_events(plain))
    (forced,) = simulate_files([src], eff_model, tmp_path / "c", selected_input=True)
    assert "passSelection" not in ak.fields(read_events(forced))


def test_cli_train_efficiency_round_trip(model_path, tmp_path):
    rng = np.random.default_rng(11)
    n = 3000
    z = toy_features(n, rng)
    x = toy_features(n, rng, massless=True)
    events = events_from_features(z=z, x=x, event=np.arange(n), run=3)
    electrons = ak.with_field(events.Electron, ak.full_like(events.Electron.pt, -1, dtype=np.int32), "charge")
    events = ak.with_field(events, electrons, "Electron")
    passed = rng.uniform(size=n) < 0.25
    events = ak.with_field(events, np.where(passed, 0, 1).astype(np.int32), "isoMuonCount")
    events = ak.with_field(events, np.zeros(n, np.int32), "isoPhotonCount")
    data = write_events(tmp_path / "noselect" / "chunk-0000.root", events)
    before = model_path.read_bytes()
    out = tmp_path / "m-eff.pt"
    args = ["train-efficiency", str(data), "--model", str(model_path), "--epochs", "2", "--seed", "1"]
    assert main([*args, "--out", str(out), "--report", str(tmp_path / "rep")]) == 0
    assert model_path.read_bytes() == before
    eff = TurboSimTransform.load(out, device="cpu").efficiency
    record = eff.provenance
    assert record["events"] == n and abs(record["pass_fraction"] - passed.mean()) < 1e-12
    assert set(record["test"]["bins"]) >= {"m_tt", "top_pt_had", "abs_y_tt"}
    assert (tmp_path / "rep" / "efficiency.png").exists() and (tmp_path / "rep" / "efficiency.md").exists()
    assert main([*args, "--out", str(model_path)]) == 1  # never the input
    assert model_path.read_bytes() == before
    assert main(["train-efficiency", str(tmp_path / "noselect"), "--model", str(model_path), "--out",
                 str(tmp_path / "y.pt"), "--epochs", "1"]) == 0  # fmt: skip

    from turbosim_hep.evaluation.efficiency_card import efficiency_card_section, efficiency_check
    from turbosim_hep.evaluation.model_card import check_card

    section = efficiency_card_section(record, command="turbosim train-efficiency noselect --model m.pt --out m-eff.pt")
    check_card(section)
    assert "calibration χ²/ndf" in section and "| m_tt bin |" in section and "`turbosim train-efficiency" in section
    check = efficiency_check(out, [data])
    assert check["n_events"] == n and check["n_passed"] == passed.sum()
    assert check["mean_efficiency"] == pytest.approx(float(eff.efficiency(z).mean()), rel=1e-5)


def test_train_efficiency_refuses_parton_only_data(model_path, partons, tmp_path, capsys):
    src = write_events(tmp_path / "partons" / "chunk-0000.root", partons[:100])
    assert main(["train-efficiency", str(src), "--model", str(model_path), "--out", str(tmp_path / "o.pt")]) == 1
    assert "generate --no-select" in capsys.readouterr().err
    assert not (tmp_path / "o.pt").exists()


@pytest.mark.parametrize("n_samples", [1, 3])
def test_features_of_unselected_partons_are_the_passing_rows_of_simulate(eff_model, partons, n_samples):
    tf = TurboSimTransform.load(eff_model, device="cpu")
    out = tf.simulate(partons[:600], n_samples=n_samples, selected_input=False)
    want = reco_to_features(out)[ak.to_numpy(out.passSelection)]
    got = tf.simulate_as_features(partons[:600], n_samples=n_samples, selected_input=False)
    assert got.shape == want.shape and 0 < len(got) < 600 * n_samples
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)
