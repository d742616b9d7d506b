"""OTUS networks and losses: fixed masses, the input-to-output residual, explicit noise, acceptance, sliced W2."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from turbosim_hep.baselines.otus.model import (
    X_MASSES_GEV,
    Z_MASSES_GEV,
    OtusModel,
    OtusNetwork,
    _sorted_rows,
    acceptance_mask,
    random_directions,
    reconstruction_loss,
    sliced_wasserstein2,
)
from turbosim_hep.constants import M_B_OTUS_GEV


def _inputs(n: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    p = torch.randn(n, 6, 3, generator=g) * 60.0
    e = p.norm(dim=-1, keepdim=True) + 5.0
    return torch.cat([p, e], dim=-1).reshape(n, 24)


def _objects(out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    o = out.double().reshape(-1, 6, 4)
    return o[..., :3], o[..., 3]


def test_parameter_count_matches_otus_architecture():
    net = OtusNetwork(masses=X_MASSES_GEV)
    assert sum(p.numel() for p in net.parameters()) == 12_498  # REFERENCE.md §5: about 12.5k per network


def test_decoder_output_is_massless():
    dec = OtusModel(generator=torch.Generator().manual_seed(1)).decoder.eval()
    p, e = _objects(dec(_inputs(), torch.randn(64, 18)))
    torch.testing.assert_close(e, p.norm(dim=-1), rtol=1e-5, atol=1e-4)


def test_encoder_output_has_the_fixed_parton_masses():
    enc = OtusModel(generator=torch.Generator().manual_seed(1)).encoder.eval()
    p, e = _objects(enc(_inputs(), torch.randn(64, 18)))
    m2 = torch.tensor(Z_MASSES_GEV, dtype=torch.float64) ** 2
    torch.testing.assert_close(e, torch.sqrt((p**2).sum(-1) + m2), rtol=1e-6, atol=1e-4)
    assert Z_MASSES_GEV == (0.0, 0.0, M_B_OTUS_GEV, M_B_OTUS_GEV, 0.0, 0.0)
    slow = torch.zeros(1, 24)  # objects at rest: E is the mass itself
    with torch.no_grad():
        enc.net[-1].weight.zero_()
        enc.net[-1].bias.zero_()
    _, e_rest = _objects(enc(slow, torch.zeros(1, 18)))
    torch.testing.assert_close(e_rest[0], torch.tensor(Z_MASSES_GEV, dtype=torch.float64), rtol=0, atol=1e-5)


def test_zero_last_layer_returns_the_input_three_momenta():
    net = OtusNetwork(masses=Z_MASSES_GEV)
    net.set_normalisation(torch.full((24,), 3.0), torch.full((24,), 40.0), torch.full((18,), 50.0))
    with torch.no_grad():
        net.net[-1].weight.zero_()
        net.net[-1].bias.zero_()
    x = _inputs()
    p, e = _objects(net.eval()(x, torch.randn(64, 18)))
    p_in = x.double().reshape(-1, 6, 4)[..., :3]
    torch.testing.assert_close(p, p_in)
    m2 = torch.tensor(Z_MASSES_GEV, dtype=torch.float64) ** 2
    torch.testing.assert_close(e, torch.sqrt((p_in**2).sum(-1) + m2), rtol=1e-6, atol=1e-4)


def test_output_three_momentum_change_scales_with_out_std():
    net = OtusModel(generator=torch.Generator().manual_seed(3)).decoder.eval()
    x, noise = _inputs(), torch.randn(64, 18)
    base = net(x, noise) - net(x, noise)  # zero
    net.set_normalisation(torch.zeros(24), torch.ones(24), torch.ones(18))
    d1 = net(x, noise).reshape(-1, 6, 4)[..., :3] - x.reshape(-1, 6, 4)[..., :3]
    net.set_normalisation(torch.zeros(24), torch.ones(24), torch.full((18,), 2.0))
    d2 = net(x, noise).reshape(-1, 6, 4)[..., :3] - x.reshape(-1, 6, 4)[..., :3]
    assert base.abs().max() == 0
    torch.testing.assert_close(d2, 2 * d1, rtol=1e-4, atol=1e-4)


def test_explicit_noise_makes_the_output_deterministic():
    net = OtusModel(generator=torch.Generator().manual_seed(2)).decoder.eval()
    x = _inputs()
    n1, n2 = torch.randn(64, 18), torch.randn(64, 18)
    torch.testing.assert_close(net(x, n1), net(x, n1.clone()), rtol=0, atol=0)
    assert (net(x, n1) - net(x, n2)).abs().max() > 1e-3


def test_seeded_initialisation_is_reproducible():
    a = OtusModel(generator=torch.Generator().manual_seed(9)).state_dict()
    b = OtusModel(generator=torch.Generator().manual_seed(9)).state_dict()
    c = OtusModel(generator=torch.Generator().manual_seed(10)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["encoder.net.0.weight"], c["encoder.net.0.weight"])


def test_every_parameter_gets_a_gradient():
    model = OtusModel(generator=torch.Generator().manual_seed(4))
    x = _inputs(32)
    z_tilde = model.encoder(x, torch.randn(32, 18))
    x_hat = model.decoder(z_tilde, torch.randn(32, 18))
    loss = (x_hat - x).pow(2).mean() + z_tilde.pow(2).mean()
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_bad_normalisation_is_refused():
    net = OtusNetwork(masses=X_MASSES_GEV)
    with pytest.raises(ValueError, match="in_std"):
        net.set_normalisation(torch.zeros(24), torch.zeros(24), torch.ones(18))
    with pytest.raises(ValueError, match="masses"):
        OtusNetwork(masses=(0.0,) * 5)


# ----------------------------------------------------------------------------------------------------- acceptance
def _x_event(e_pt=30.0, e_eta=0.5, jet_pt=(80.0, 60.0, 40.0, 30.0), jet_eta=(0.0, 1.0, -2.0, 3.0)) -> np.ndarray:
    def vec(pt, eta, phi=0.3):
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        return [px, py, pz, np.sqrt(px**2 + py**2 + pz**2)]

    met = [5.0, -3.0, 4000.0, 4000.0]  # never cut on, even absurd
    return np.array(vec(e_pt, e_eta) + met + sum((vec(p, h) for p, h in zip(jet_pt, jet_eta, strict=True)), []))


@pytest.mark.parametrize(
    ("kwargs", "passes"),
    [
        ({}, True),
        ({"e_pt": 10.0001}, True),
        ({"e_pt": 9.9}, False),
        ({"e_eta": 2.49}, True),
        ({"e_eta": -2.6}, False),
        ({"jet_pt": (80.0, 60.0, 40.0, 20.001)}, True),
        ({"jet_pt": (80.0, 60.0, 40.0, 19.5)}, False),
        ({"jet_eta": (0.0, 1.0, -4.49, 3.0)}, True),
        ({"jet_eta": (0.0, 4.6, -2.0, 3.0)}, False),
    ],
)
def test_acceptance_mask_cuts_electron_and_jets_only(kwargs, passes):
    x = torch.tensor(_x_event(**kwargs)[None, :], dtype=torch.float32)
    assert acceptance_mask(x).tolist() == [passes]


def test_reconstruction_loss_ignores_rejected_reconstructions():
    good = torch.tensor(_x_event(), dtype=torch.float32)
    bad = torch.tensor(_x_event(e_pt=2.0), dtype=torch.float32)
    x = torch.stack([good, good])
    x_hat = torch.stack([good + 1.0, bad])
    loss, mask = reconstruction_loss(x, x_hat)
    assert mask.tolist() == [True, False]
    torch.testing.assert_close(loss, torch.tensor(1.0))
    loss_none, _ = reconstruction_loss(x[1:], x_hat[1:])
    assert float(loss_none) == 0.0


# ----------------------------------------------------------------------------------------------------- sliced W2
def test_sliced_wasserstein_of_identical_samples_is_zero_and_grows_with_a_shift():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2000, 6, generator=g)
    d = random_directions(1000, 6, generator=g)
    assert float(sliced_wasserstein2(a, a[torch.randperm(2000, generator=g)], d)) < 1e-10
    shifts = [float(sliced_wasserstein2(a, a + c, d)) for c in (0.5, 1.0, 2.0)]
    # a shift s moves every projection by s.theta: SWD2 = mean over directions of (s.theta)^2 = |s|^2 / dim = c^2
    np.testing.assert_allclose(shifts, [0.25, 1.0, 4.0], rtol=0.1)


def test_sorted_rows_matches_torch_sort_in_values_and_gradient():
    g = torch.Generator().manual_seed(1)
    p = torch.randn(50, 300, generator=g, requires_grad=True)
    w = torch.randn(50, 300, generator=g)
    (_sorted_rows(p) * w).sum().backward()
    grad_numpy = p.grad.clone()
    p.grad = None
    (torch.sort(p, dim=1).values * w).sum().backward()
    torch.testing.assert_close(_sorted_rows(p.detach()), torch.sort(p.detach(), dim=1).values)
    torch.testing.assert_close(grad_numpy, p.grad)


def test_random_directions_are_unit_vectors():
    d = random_directions(100, 24, generator=torch.Generator().manual_seed(0))
    assert d.shape == (24, 100)
    torch.testing.assert_close(d.norm(dim=0), torch.ones(100))
