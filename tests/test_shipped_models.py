"""The shipped models load by name, pass their digest check and reproduce the figures of their model card."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from turbosim_hep.model.transform import TurboSimTransform
from turbosim_hep.simulation.registry import load_transform, resolve_model_path, shipped_models

SHIPPED = shipped_models()
REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ttbar-ref"
UNSELECTED = REFERENCE.with_name("ttbar-ref-all")


def test_the_physics_model_is_shipped_with_its_card():
    assert "ttbar-physics" in SHIPPED
    path = SHIPPED["ttbar-physics"]
    assert path.with_suffix(".md").exists() and path.with_suffix(".json").exists()


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_model_loads_by_name_everywhere(name):
    from turbosim_hep.simulation.worker_cache import cached_transform

    assert resolve_model_path(name) == SHIPPED[name]
    tf = load_transform(name, device="cpu")
    assert tf.loaded.path == SHIPPED[name]
    assert cached_transform(name).loaded.path == SHIPPED[name]
    if type(tf) is TurboSimTransform:
        assert TurboSimTransform.load(name, device="cpu").loaded.path == SHIPPED[name]


def test_a_local_file_named_like_a_shipped_model_wins(tmp_path, monkeypatch, model_path):
    shutil.copy(model_path, tmp_path / "ttbar-physics")
    monkeypatch.chdir(tmp_path)
    assert resolve_model_path("ttbar-physics") == Path("ttbar-physics")


def test_an_edited_copy_of_a_shipped_model_is_refused(tmp_path):
    import torch

    content = torch.load(SHIPPED["ttbar-physics"], weights_only=True)
    content["config"]["seed"] = 123
    torch.save(content, tmp_path / "edited.pt")
    with pytest.raises(ValueError, match="digest|edited"):
        load_transform(tmp_path / "edited.pt", device="cpu")


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"the reference sample {REFERENCE} is not beside the checkout")
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_model_reproduces_its_slice_check(name):
    from turbosim_hep.evaluation.model_card import slice_check

    card = json.loads(SHIPPED[name].with_suffix(".json").read_text())
    want = card["slice_check"]
    got = slice_check(name, [REFERENCE / f for f in want["files"]])
    assert got["n_events"] == want["n_events"]
    for key in ("mean_jet_pt_gev", "mean_met_pt_gev", "median_m_w_had_gev", "median_m_t_had_gev"):
        assert got[key] == pytest.approx(want[key], rel=1e-4, abs=1e-3), key
    # the lightest jet's mass is recomputed from float32 (pt, eta, phi, mass) of a TeV forward jet: float rounding of
    # the network (another CPU, another torch) moves it by a few MeV
    assert got["min_jet_mass_gev"] == pytest.approx(want["min_jet_mass_gev"], abs=0.02)
    if name == "ttbar-physics":  # physical by construction (OTUS's massless jets round to small negative masses):
        # jet masses >= 1 GeV in the network; stored in float32, a TeV forward jet's mass rounds by tens of MeV
        assert got["min_jet_mass_gev"] > 0.5


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"the reference sample {REFERENCE} is not beside the checkout")
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_model_reproduces_its_scorecard_on_test_events_within_the_stated_spread(name):
    from turbosim_hep.evaluation.model_card import scorecard_check

    card = json.loads(SHIPPED[name].with_suffix(".json").read_text())
    want = card["scorecard_check"]
    assert want["split"] == "test"
    got = scorecard_check(name, [REFERENCE / f for f in want["files"]])
    assert got["n_events"] == want["n_events"]
    for key, fig in want["figures"].items():
        assert abs(got["figures"][key]["value"] - fig["value"]) <= fig["spread"], (key, got["figures"][key], fig)


@pytest.mark.skipif(not UNSELECTED.exists(), reason=f"the unselected sample {UNSELECTED} is not beside the checkout")
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_efficiency_reproduces_its_check_on_the_unselected_sample(name):
    from turbosim_hep.evaluation.efficiency_card import efficiency_check

    card = json.loads(SHIPPED[name].with_suffix(".json").read_text())
    if "efficiency" not in card:
        pytest.skip(f"{name} ships no selection efficiency")
    want = card["efficiency"]["check"]
    got = efficiency_check(name, [UNSELECTED / f for f in want["files"]])
    assert (got["n_events"], got["n_passed"]) == (want["n_events"], want["n_passed"])
    assert got["mean_efficiency"] == pytest.approx(want["mean_efficiency"], rel=1e-5)
    assert got["m_tt_chi2"] == pytest.approx(want["m_tt_chi2"], rel=1e-3, abs=1e-3)
