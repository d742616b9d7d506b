"""The jet–quark assignments and the flow encoder that weighs them: the truth's assignment found, the references
built from it, on-shell keyed draws, a head that learns which jet is which quark, and its place in the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.model.test_flow_encoder import fit_by_likelihood, rotated, toy_pairs
from turbosim_hep.evaluation.unfolding_physics import off_shell_shares
from turbosim_hep.model.assigned_flow_encoder import AssignedFlowEncoder
from turbosim_hep.model.config import TurboSimConfig
from turbosim_hep.model.jet_assignment import (
    N_ASSIGNMENT_FEATURES,
    N_ASSIGNMENTS,
    ORDERINGS,
    assignment_features,
    neutrino_roots,
    reference_partons,
    truth_assignment,
)
from turbosim_hep.model.turbosim import TurboSim


def _jet_order(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Which quark slot (b, b̄, u, d̄ as 0-3) each toy jet holds: the quark along the jet's direction."""
    q = z.reshape(len(z), 6, 4)[:, 2:, None, :3]
    j = x.reshape(len(x), 6, 4)[:, None, 2:, :3]
    cos = (q * j).sum(-1) / (torch.linalg.vector_norm(q, dim=-1) * torch.linalg.vector_norm(j, dim=-1))
    return cos.argmax(1)  # (n, 4 jets)


def test_truth_assignment_finds_which_jet_is_which_quark():
    z, x = toy_pairs(500, seed=21)  # each 'jet' is its quark scaled: same direction
    a = truth_assignment(z.double(), x.double())
    assert a.shape == (500,) and int(a.min()) >= 0 and int(a.max()) < N_ASSIGNMENTS
    slot_of_jet = _jet_order(z, x)  # jet j holds quark slot slot_of_jet[:, j]
    ordering = ORDERINGS[a // 2]  # slot k takes jet ordering[:, k]
    assert torch.equal(torch.gather(slot_of_jet, 1, ordering), torch.arange(4).expand(500, 4))
    # the chosen root is the one nearer the true neutrino pz
    roots = neutrino_roots(x.double())
    chosen = roots[torch.arange(500), a % 2]
    assert bool(((chosen - z[:, 6]).abs() <= (roots - z[:, 6:7]).abs().min(-1).values + 1e-9).all())


def test_reference_partons_put_the_jets_in_the_assigned_slots():
    z, x = toy_pairs(300, seed=22)
    a = truth_assignment(z.double(), x.double())
    ref = reference_partons(x.double(), a)
    assert torch.equal(ref[:, :4], x.double()[:, :4])  # the detected electron
    ratio = torch.linalg.vector_norm(ref[:, 8:].reshape(-1, 4, 4)[..., :3], dim=-1) / torch.linalg.vector_norm(
        z.double()[:, 8:].reshape(-1, 4, 4)[..., :3], dim=-1
    )
    assert float((ratio - 1).abs().max()) < 0.6  # each slot holds its own quark's jet (10 % smearing)
    cos = (ref[:, 8:].reshape(-1, 4, 4)[..., :3] * z.double()[:, 8:].reshape(-1, 4, 4)[..., :3]).sum(-1)
    assert float((cos > 0).double().mean()) == 1.0
    feats = assignment_features(x.double())
    assert feats.shape == (300, N_ASSIGNMENTS, N_ASSIGNMENT_FEATURES) and torch.isfinite(feats).all()
    # the truth's assignment reconstructs the W mass better than the average assignment
    m_w = feats[..., 0].abs()
    assert float(m_w[torch.arange(300), a].median()) < float(m_w.median()) - 0.1


def check_keyed_on_shell_draws(enc, *, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Wide draws of ``enc`` (17 keyed normals) for toy events: finite, on shell, a pure function of the noise, and
    rotating with the event. Returns the events, the noise and the draws."""
    assert enc.noise_dim == 17
    _, x = toy_pairs(1500, seed=seed)
    noise = torch.randn(1500, enc.noise_dim, generator=torch.Generator().manual_seed(1)) * 2.5
    with torch.no_grad():
        z = enc.sample_gev(x, noise)
        again = enc.sample_gev(x[:500], noise[:500])
        turned = enc.sample_gev(rotated(x[:300], 0.7), noise[:300])
    assert torch.isfinite(z).all() and off_shell_shares(z.numpy())["any"] == 0.0
    assert torch.allclose(again, z[:500], rtol=1e-4, atol=1e-3)
    assert torch.allclose(turned, rotated(z[:300], 0.7), atol=2e-3 * float(z.abs().max()))
    return x, noise, z


def test_draws_are_on_shell_keyed_and_rotate_with_the_event():
    torch.manual_seed(0)
    check_keyed_on_shell_draws(AssignedFlowEncoder(context=16, hidden=(32, 32), transforms=2), seed=23)


def test_likelihood_training_learns_the_assignment_and_puts_quarks_on_jets():
    torch.manual_seed(0)
    enc = AssignedFlowEncoder(context=16, hidden=(64, 64), transforms=2)
    z, x = toy_pairs(3000, seed=24)
    zt, xt = toy_pairs(800, seed=25)
    with torch.no_grad():
        before = enc.log_prob_gev(zt, xt).mean()
        pi_before = enc.assignment_probabilities(xt)[torch.arange(800), truth_assignment(zt, xt)].mean()
    g = fit_by_likelihood(enc, z, x, seed=26)
    with torch.no_grad():
        after = enc.log_prob_gev(zt, xt).mean()
        pi_after = enc.assignment_probabilities(xt)[torch.arange(800), truth_assignment(zt, xt)].mean()
        draws = enc.sample_gev(xt, torch.randn(800, enc.noise_dim, generator=g))
    assert after > before + 5.0
    assert float(pi_before) < 0.05 and float(pi_after) > 0.15  # uniform is 1/48
    # unfolded quarks next to a jet: the toy's jets are the quarks' directions
    q = draws.reshape(-1, 6, 4)[:, 2:, None, :3]
    j = xt.reshape(-1, 6, 4)[:, None, 2:, :3]
    cos = (q * j).sum(-1) / (torch.linalg.vector_norm(q, dim=-1) * torch.linalg.vector_norm(j, dim=-1))
    angle = torch.acos(cos.clamp(-1, 1)).min(-1).values
    assert float(angle.median()) < 0.25


def test_the_model_option_builds_it_and_unfolds_through_the_transform(tmp_path):
    from turbosim_hep.cli import build_parser
    from turbosim_hep.cli import train as train_cli
    from turbosim_hep.model.checkpoint import save_checkpoint
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.transform import TurboSimTransform

    with pytest.raises(ValueError, match="flow_assignment needs encoder_kind='flow'"):
        TurboSimConfig(flow_assignment=True)
    args = build_parser().parse_args(["train", "data", "--out", "m.pt", "--encoder", "flow", "--flow-assignment"])
    assert train_cli._overrides(args) == {"encoder_kind": "flow", "flow_assignment": True}
    cfg = TurboSimConfig.preset(
        "physics", encoder_kind="flow", flow_assignment=True, flow_context=16, flow_hidden=(32, 32), flow_transforms=2
    )
    model = TurboSim(cfg)
    assert isinstance(model.encoder, AssignedFlowEncoder)
    z, x = toy_pairs(300, seed=27)
    zn = Normalisation(z.mean(0).double().numpy(), z.std(0).double().numpy())
    xn = Normalisation(x.mean(0).double().numpy(), x.std(0).clamp_min(1.0).double().numpy())
    model.set_normalisation(z.mean(0), z.std(0), x.mean(0), x.std(0).clamp_min(1.0))
    path = save_checkpoint(tmp_path / "assigned.pt", model=model, z_norm=zn, x_norm=xn, provenance={"files": []})
    tf = TurboSimTransform.load(path)
    assert isinstance(tf.loaded.model.encoder, AssignedFlowEncoder)
    unfolded = tf.unfold_features(x.numpy(), run=1, event=np.arange(300))
    assert unfolded.shape == (300, 24) and off_shell_shares(unfolded)["any"] == 0.0
    again = tf.unfold_features(x.numpy()[:100], run=1, event=np.arange(100))
    assert np.allclose(again, unfolded[:100], rtol=1e-4, atol=1e-3)  # keyed by the event ids


def test_a_fully_autoregressive_flow_keeps_the_interface():
    from turbosim_hep.cli import build_parser
    from turbosim_hep.cli import train as train_cli

    with pytest.raises(ValueError, match="flow_passes must be 0"):
        TurboSimConfig(encoder_kind="flow", flow_passes=1)
    args = build_parser().parse_args(["train", "data", "--out", "m.pt", "--encoder", "flow", "--flow-passes", "0"])
    assert train_cli._overrides(args) == {"encoder_kind": "flow", "flow_passes": 0}
    small = {"flow_context": 16, "flow_hidden": (32, 32), "flow_transforms": 2}
    model = TurboSim(TurboSimConfig.preset("turbo-physics", flow_passes=0, **small))
    enc = model.encoder
    # each spline transform is one autoregressive network over all 16 chain variables: 16 passes to invert
    assert all(t.passes == 16 for t in enc.flow.transform.transforms if hasattr(t, "passes"))
    assert any(hasattr(t, "passes") for t in enc.flow.transform.transforms)
    torch.manual_seed(0)
    z, x = toy_pairs(400, seed=28)
    noise = torch.randn(400, enc.noise_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        draws = enc.sample_gev(x, noise)
        again = enc.sample_gev(x[:100], noise[:100])
        log_q = enc.log_prob_gev(draws, x)
    assert off_shell_shares(draws.numpy())["any"] == 0.0 and torch.isfinite(log_q).all()
    assert torch.allclose(again, draws[:100], rtol=1e-4, atol=1e-3)
