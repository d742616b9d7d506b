"""The decay chain with the electron in the laboratory and the flow encoder built on it: an exact bijection with
on-shell partons given a reference event, the electron where its variables put it, keyed draws, and an encoder that
learns to put the electron on its track."""

from __future__ import annotations

import pytest
import torch

from tests.model.test_assigned_flow_encoder import check_keyed_on_shell_draws
from tests.model.test_flow_encoder import fit_by_likelihood, toy_pairs
from tests.model.test_lab_flow_encoder import _exact_pairs, _mass
from turbosim_hep.evaluation.unfolding_physics import off_shell_shares
from turbosim_hep.model.config import TurboSimConfig
from turbosim_hep.model.decay_chain import CHAIN_VARIABLES, PARTON_MASSES_GEV, partons_to_chain
from turbosim_hep.model.electron_chain import (
    ELECTRON_CHAIN_VARIABLES,
    electron_chain_coordinates,
    electron_chain_from_coordinates,
    electron_chain_to_partons,
    partons_to_electron_chain,
)
from turbosim_hep.model.electron_flow_encoder import ElectronFlowEncoder
from turbosim_hep.model.turbosim import TurboSim


def test_partons_and_electron_chain_are_one_bijection():
    z, ref = _exact_pairs(2000, seed=51)
    v = partons_to_electron_chain(z, ref)
    assert v.shape == (2000, 16) and len(ELECTRON_CHAIN_VARIABLES) == 16 and torch.isfinite(v).all()
    back, valid = electron_chain_to_partons(v, ref)
    assert bool(valid.all())  # a true event always leaves its neutrino a cone
    scale = z.reshape(-1, 6, 4)[..., 3].amax(-1, keepdim=True)
    assert float(((back - z).reshape(-1, 6, 4).abs().amax(-1) / scale).max()) < 1e-8
    # the hadronic side and the tops are the decay chain's own variables
    chain = partons_to_chain(z, reference=ref)
    for name in ("tt_m", "tt_y", "thad_cos", "thad_m", "tlep_m", "whad_phi", "whad_m", "u_cos", "wlep_m"):
        assert torch.allclose(v[:, ELECTRON_CHAIN_VARIABLES.index(name)], chain[:, CHAIN_VARIABLES.index(name)]), name
    on_itself = partons_to_electron_chain(ref, ref)
    for name in ("e_log_pt", "e_deta", "e_dphi"):
        assert float(on_itself[:, ELECTRON_CHAIN_VARIABLES.index(name)].abs().max()) < 1e-9, name
    reference_chain = partons_to_chain(ref)
    u = electron_chain_coordinates(v, reference_chain)
    assert torch.allclose(electron_chain_from_coordinates(u, reference_chain), v, atol=1e-9)


def test_any_variables_give_on_shell_partons_with_the_electron_and_masses_drawn():
    _, ref = _exact_pairs(3000, seed=52)
    g = torch.Generator().manual_seed(53)
    u = torch.randn(3000, 16, generator=g, dtype=torch.float64) * 1.5
    u[:, 1] = u[:, 1].clamp(-2.0, 2.0)  # |y_tt - y_ref| < 2.2: a 100 TeV neutrino's mass is float64 rounding
    v = electron_chain_from_coordinates(u, partons_to_chain(ref))
    z, valid = electron_chain_to_partons(v, ref)
    p = z.reshape(-1, 6, 4)
    assert torch.isfinite(z).all() and off_shell_shares(z.numpy())["any"] == 0.0
    masses = torch.tensor(PARTON_MASSES_GEV, dtype=torch.float64)
    assert torch.allclose(_mass(p), masses.expand(3000, 6), atol=1e-4)
    tt = p.sum(1)
    assert float(torch.hypot(tt[:, 0], tt[:, 1]).max()) < 1e-8 * float(p[..., 3].max())
    assert 0.05 < float(valid.double().mean()) < 1.0  # wide random draws: most leave no cone
    col = ELECTRON_CHAIN_VARIABLES.index
    # the drawn masses where the draw is valid and each is within ten widths of its pole (far below, a top mass
    # under W + b is raised)
    near = valid & ((v[:, col("wlep_m")] - 80.4).abs() < 21) & ((v[:, col("tlep_m")] - 172.8).abs() < 14)
    assert int(near.sum()) > 100
    for m, name in ((_mass(p[:, 0] + p[:, 1]), "wlep_m"), (_mass(p[:, [0, 1, 3]].sum(1)), "tlep_m")):
        assert float(((m - v[:, col(name)]).abs() / v[:, col(name)])[near].max()) < 1e-7, name
    # the electron is exactly where its variables put it, valid or not
    e_pt_ratio = torch.hypot(p[:, 0, 0], p[:, 0, 1]) / torch.hypot(ref[:, 0], ref[:, 1])
    assert torch.allclose(torch.log(e_pt_ratio), v[:, col("e_log_pt")], atol=1e-9)


def test_draws_are_on_shell_keyed_and_redrawn_where_no_cone():
    torch.manual_seed(0)
    enc = ElectronFlowEncoder(context=16, hidden=(32, 32), transforms=2)
    x, noise, z = check_keyed_on_shell_draws(enc, seed=54)
    first = enc.cone_fraction(x, noise)
    with torch.no_grad():
        redrawn, found = enc.sample_with_validity(x, noise)
    assert first < 0.9 and torch.equal(redrawn, z)
    assert float(found.double().mean()) > first + 0.5 * (1.0 - first)


def test_likelihood_training_puts_the_electron_on_its_track():
    torch.manual_seed(0)
    enc = ElectronFlowEncoder(context=16, hidden=(64, 64), transforms=2)
    z, x = toy_pairs(3000, seed=55)
    zt, xt = toy_pairs(800, seed=56)
    with torch.no_grad():
        before = enc.log_prob_gev(zt, xt).mean()
    g = fit_by_likelihood(enc, z, x, seed=57)
    with torch.no_grad():
        after = enc.log_prob_gev(zt, xt).mean()
        noise = torch.randn(800, enc.noise_dim, generator=g)
        draws = enc.sample_gev(xt, noise)
        cone = enc.cone_fraction(xt, noise)
    assert after > before + 5.0 and cone > 0.8
    # the toy smears the electron by 10 %: the unfolded one is within that of the detected one
    ratio = torch.hypot(draws[:, 0], draws[:, 1]) / torch.hypot(xt[:, 0], xt[:, 1])
    assert float(ratio.log().abs().median()) < 0.15


def test_the_option_builds_it_and_needs_the_assignment():
    from turbosim_hep.cli import build_parser
    from turbosim_hep.cli import train as train_cli

    with pytest.raises(ValueError, match="flow_electron needs flow_assignment"):
        TurboSimConfig(encoder_kind="flow", flow_electron=True)
    with pytest.raises(ValueError, match="pick one"):
        TurboSimConfig(encoder_kind="flow", flow_assignment=True, flow_electron=True, flow_lab=True)
    args = build_parser().parse_args(
        ["train", "data", "--out", "m.pt", "--encoder", "flow", "--flow-assignment", "--flow-electron"]
    )
    assert train_cli._overrides(args) == {"encoder_kind": "flow", "flow_assignment": True, "flow_electron": True}
    cfg = TurboSimConfig.preset(
        "turbo-physics", flow_electron=True, flow_context=16, flow_hidden=(32, 32), flow_transforms=2
    )
    assert isinstance(TurboSim(cfg).encoder, ElectronFlowEncoder)
