"""The laboratory coordinates of the unfolding and the flow encoder built on them: an exact bijection with on-shell
partons given a reference event, the resonance masses they say, and an encoder that learns to put each parton next
to its object."""

from __future__ import annotations

import math

import pytest
import torch

from tests.model.test_assigned_flow_encoder import check_keyed_on_shell_draws
from tests.model.test_decay_chain import random_chain
from tests.model.test_flow_encoder import fit_by_likelihood, toy_pairs
from turbosim_hep.evaluation.unfolding_physics import off_shell_shares
from turbosim_hep.model.config import TurboSimConfig
from turbosim_hep.model.decay_chain import PARTON_MASSES_GEV, chain_to_partons
from turbosim_hep.model.jet_assignment import reference_partons, truth_assignment
from turbosim_hep.model.lab_chain import (
    LAB_VARIABLES,
    N_LAB,
    lab_coordinates,
    lab_from_coordinates,
    lab_to_partons,
    partons_to_lab,
)
from turbosim_hep.model.lab_flow_encoder import LabFlowEncoder
from turbosim_hep.model.turbosim import TurboSim


def _mass(p4: torch.Tensor) -> torch.Tensor:
    return torch.sqrt((p4[..., 3] ** 2 - (p4[..., :3] ** 2).sum(-1)).clamp_min(0.0))


def _exact_pairs(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Float64 partons (exactly on shell, t t̄ pT 0) and the truth assignment's reference event of a smeared copy."""
    z = chain_to_partons(random_chain(n, seed))
    _, x = toy_pairs(n, seed=seed)  # the same chain, smeared, in float32
    return z, reference_partons(x.double(), truth_assignment(z, x.double()))


def test_partons_and_laboratory_variables_are_one_bijection():
    z, ref = _exact_pairs(2000, seed=41)
    lab = partons_to_lab(z, ref)
    assert lab.shape == (2000, N_LAB) and len(LAB_VARIABLES) == N_LAB and torch.isfinite(lab).all()
    back, valid = lab_to_partons(lab, ref)
    assert bool(valid.all())  # a true event always leaves its neutrino a cone
    scale = z.reshape(-1, 6, 4)[..., 3].amax(-1, keepdim=True)
    assert float(((back - z).reshape(-1, 6, 4).abs().amax(-1) / scale).max()) < 1e-8
    # the variables are what they say: the quark's offset from its jet, the resonance masses
    p = z.reshape(-1, 6, 4)
    assert torch.allclose(lab[:, LAB_VARIABLES.index("whad_m")], _mass(p[:, 4] + p[:, 5]), atol=1e-8)
    assert torch.allclose(lab[:, LAB_VARIABLES.index("tlep_m")], _mass(p[:, 0] + p[:, 1] + p[:, 3]), atol=1e-8)
    on_itself = partons_to_lab(ref, ref)
    for name in ("u_log_pt", "u_deta", "u_dphi", "e_log_pt", "e_deta", "e_dphi", "tlep_dy"):
        assert float(on_itself[:, LAB_VARIABLES.index(name)].abs().max()) < 1e-9, name
    # the flow's coordinates: an exact inverse
    assert torch.allclose(lab_from_coordinates(lab_coordinates(lab)), lab, atol=1e-9)


def test_any_variables_give_on_shell_partons_with_the_drawn_masses():
    _, ref = _exact_pairs(3000, seed=42)
    g = torch.Generator().manual_seed(43)
    lab = lab_from_coordinates(torch.randn(3000, N_LAB, generator=g, dtype=torch.float64) * 1.5)
    z, valid = lab_to_partons(lab, ref)
    p = z.reshape(-1, 6, 4)
    assert torch.isfinite(z).all() and off_shell_shares(z.numpy())["any"] == 0.0
    masses = torch.tensor(PARTON_MASSES_GEV, dtype=torch.float64)
    assert torch.allclose(_mass(p), masses.expand(3000, 6), atol=1e-4)
    tt = p.sum(1)
    assert float(torch.hypot(tt[:, 0], tt[:, 1]).max()) < 1e-8 * float(p[..., 3].max())
    # the drawn masses, wherever they are within ten widths of the pole (far beyond, a mass under a direction's
    # threshold is raised) and the draw is valid (each mass reachable, the neutrino's cone real)
    near = torch.ones(3000, dtype=torch.bool)
    for i, (pole, width) in {5: (80.4, 2.1), 8: (172.8, 1.4), 13: (172.8, 1.4), 14: (80.4, 2.1)}.items():
        near &= (lab[:, i] - pole).abs() < 10 * width
    assert float(near.double().mean()) > 0.5
    for m, i, where in (
        (_mass(p[:, 4] + p[:, 5]), 5, near & valid),
        (_mass(p[:, 2] + p[:, 4] + p[:, 5]), 8, near & valid),
        (_mass(p[:, 0] + p[:, 1]), 14, near & valid),
        (_mass(p[:, [0, 1, 3]].sum(1)), 13, near & valid),
    ):
        assert float(((m - lab[:, i]).abs() / lab[:, i])[where].max()) < 1e-7, LAB_VARIABLES[i]
    assert 0.2 < float(valid[near].double().mean()) < 1.0  # wide random draws: some leave no cone
    # the u quark and the electron sit where their variables put them
    u_phi = torch.atan2(p[:, 4, 1], p[:, 4, 0]) - torch.atan2(ref[:, 17], ref[:, 16])
    assert torch.allclose(torch.remainder(u_phi - lab[:, 2] + math.pi, 2 * math.pi) - math.pi,
                          torch.zeros(3000, dtype=torch.float64), atol=1e-9)  # fmt: skip
    e_pt_ratio = torch.hypot(p[:, 0, 0], p[:, 0, 1]) / torch.hypot(ref[:, 0], ref[:, 1])
    assert torch.allclose(torch.log(e_pt_ratio), lab[:, 9], atol=1e-9)


def test_draws_are_on_shell_keyed_and_rotate_with_the_event():
    torch.manual_seed(0)
    enc = LabFlowEncoder(context=16, hidden=(32, 32), transforms=2)
    x, noise, z = check_keyed_on_shell_draws(enc, seed=44)
    # wide draws often ask for a neutrino cone that does not exist: such events are redrawn with keyed noise
    first = enc.cone_fraction(x, noise)
    with torch.no_grad():
        unredrawn, kept = enc.sample_with_validity(x, noise, attempts=1)
        redrawn, found = enc.sample_with_validity(x, noise)
    assert float(kept.double().mean()) == first < 0.9
    assert torch.equal(redrawn, z) and bool(found[kept].all())
    assert float(found.double().mean()) > first + 0.5 * (1.0 - first)
    assert torch.equal(z[kept], unredrawn[kept])  # a draw that found its cone is kept as it is


def test_likelihood_training_puts_quarks_on_jets_and_the_electron_on_its_track():
    torch.manual_seed(0)
    enc = LabFlowEncoder(context=16, hidden=(64, 64), transforms=2)
    z, x = toy_pairs(3000, seed=45)
    zt, xt = toy_pairs(800, seed=46)
    with torch.no_grad():
        before = enc.log_prob_gev(zt, xt).mean()
        cone_before = enc.cone_fraction(xt, torch.randn(800, 17, generator=torch.Generator().manual_seed(2)))
    g = fit_by_likelihood(enc, z, x, seed=47)
    with torch.no_grad():
        after = enc.log_prob_gev(zt, xt).mean()
        noise = torch.randn(800, enc.noise_dim, generator=g)
        draws = enc.sample_gev(xt, noise)
        cone_after = enc.cone_fraction(xt, noise)
    assert after > before + 5.0
    assert cone_after > max(cone_before, 0.8)
    q = draws.reshape(-1, 6, 4)[:, 2:, None, :3]
    j = xt.reshape(-1, 6, 4)[:, None, 2:, :3]
    cos = (q * j).sum(-1) / (torch.linalg.vector_norm(q, dim=-1) * torch.linalg.vector_norm(j, dim=-1))
    assert float(torch.acos(cos.clamp(-1, 1)).min(-1).values.median()) < 0.25
    # the toy smears the electron by 10 %: the unfolded one is within that of the detected one
    ratio = torch.hypot(draws[:, 0], draws[:, 1]) / torch.hypot(xt[:, 0], xt[:, 1])
    assert float((ratio.log().abs()).median()) < 0.15


def test_the_option_builds_it_and_needs_the_assignment():
    from turbosim_hep.cli import build_parser
    from turbosim_hep.cli import train as train_cli

    with pytest.raises(ValueError, match="flow_lab needs flow_assignment"):
        TurboSimConfig(encoder_kind="flow", flow_lab=True)
    args = build_parser().parse_args(
        ["train", "data", "--out", "m.pt", "--encoder", "flow", "--flow-assignment", "--flow-lab"]
    )
    assert train_cli._overrides(args) == {"encoder_kind": "flow", "flow_assignment": True, "flow_lab": True}
    cfg = TurboSimConfig.preset(
        "turbo-physics", flow_lab=True, flow_context=16, flow_hidden=(32, 32), flow_transforms=2
    )
    assert isinstance(TurboSim(cfg).encoder, LabFlowEncoder)
    assert not isinstance(TurboSim(TurboSimConfig.preset("turbo-physics")).encoder, LabFlowEncoder)
