"""The energy score pays for the right conditional spread; point-wise losses do not."""

from __future__ import annotations

import pytest
import torch

from turbosim_hep.model.losses import energy_score, supervised_loss
from turbosim_hep.model.networks import StochasticMLP

SIGMA = 0.3


def _toy(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x = f(z) + σ·ε with f(z) = sin(2 z₀) + z₁/2, z ~ N(0, 1)²."""
    z = torch.randn(n, 2, generator=generator)
    f = torch.sin(2 * z[:, :1]) + 0.5 * z[:, 1:]
    return z, f + SIGMA * torch.randn(n, 1, generator=generator)


def _fit(kind: str, seed: int = 0) -> float:
    """Train a small stochastic MLP on the toy with ``kind``; return its conditional std at fixed z.

    800 steps of 512 with a cosine-decayed learning rate end near the optimum rather than wherever the last noisy
    steps left it: over seeds 0-5 the energy fit gives 0.317 ± 0.004 (0.340 ± 0.024, up to 0.375, with 400 constant
    steps of 256), so the 20 % band (± 0.06) is over ten times the estimator's spread; checked once by hand.
    """
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    net = StochasticMLP(2, 1, hidden=(32, 32), input_noise=0.0, noise_features=4)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    steps, batch = 800, 512
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    draws = 2 if kind == "energy" else 1
    for _ in range(steps):
        z, x = _toy(batch, g)
        noise = torch.randn(batch * draws, net.noise_dim, generator=g)
        out = net(z.repeat(draws, 1), noise).reshape(draws, batch, 1)
        loss = supervised_loss(out, x, kind=kind)
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    with torch.no_grad():
        z0 = torch.linspace(-1.5, 1.5, 7)[:, None].repeat(1, 2)
        z_rep = z0.repeat_interleave(2000, dim=0)
        out = net(z_rep, torch.randn(len(z_rep), net.noise_dim, generator=g)).reshape(7, 2000)
    return float(out.std(dim=1).mean())


def test_energy_score_decoder_learns_the_conditional_spread():
    assert _fit("energy") == pytest.approx(SIGMA, rel=0.2)


def test_mse_decoder_collapses_the_spread():
    assert _fit("gaussian") < 0.5 * SIGMA


def test_energy_score_is_lowest_at_the_true_spread():
    g = torch.Generator().manual_seed(3)
    target = torch.randn(20_000, 4, generator=g)
    scores = {}
    for s in (0.0, 0.5, 1.0, 1.5):
        draws = s * torch.randn(2, 20_000, 4, generator=g)
        scores[s] = float(energy_score(draws, target, block=2))
    assert min(scores, key=scores.get) == 1.0


def test_energy_score_refuses_a_single_draw():
    with pytest.raises(ValueError, match="k >= 2"):
        energy_score(torch.zeros(1, 3, 4), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="does not divide"):
        energy_score(torch.zeros(2, 3, 4), torch.zeros(3, 4), block=3)


def test_jet_observables_are_the_masses_of_jets_pairs_and_triplets():
    import numpy as np

    from tests.conftest import toy_features
    from turbosim_hep.model.observables import OBSERVABLE_GROUPS, jet_observables

    x = toy_features(50, np.random.default_rng(0)).astype(np.float64)
    obs = jet_observables(torch.from_numpy(x), directions=True)
    jets = x.reshape(-1, 6, 4)[:, 2:]
    pair = jets[:, 0] + jets[:, 1]
    m01 = np.sqrt(pair[:, 3] ** 2 - (pair[:, :3] ** 2).sum(-1))
    np.testing.assert_allclose(obs["dijet_mass"][:, 0].numpy() * OBSERVABLE_GROUPS["dijet_mass"][1], m01, rtol=1e-6)
    eta1 = np.arcsinh(jets[:, 0, 2] / np.hypot(jets[:, 0, 0], jets[:, 0, 1]))
    np.testing.assert_allclose(obs["jet1_direction"][:, 1].numpy(), eta1, rtol=1e-9)
    assert obs["trijet_mass"].shape == (50, 4) and obs["jet_mass"].shape == (50, 4)


def test_jet_shapes_are_each_jets_log_pt_eta_and_mass_over_pt_and_enter_the_observable_score():
    import numpy as np

    from tests.conftest import toy_features
    from turbosim_hep.model.losses import observable_score
    from turbosim_hep.model.observables import SHAPE_GROUPS, jet_observables

    x = toy_features(60, np.random.default_rng(1)).astype(np.float64)
    obs = jet_observables(torch.from_numpy(x), shapes=True)
    assert set(SHAPE_GROUPS) <= set(obs) and "jet1_direction" not in obs
    jet = x.reshape(-1, 6, 4)[:, 4]  # the third jet slot
    pt = np.hypot(jet[:, 0], jet[:, 1])
    m = np.sqrt(np.clip(jet[:, 3] ** 2 - (jet[:, :3] ** 2).sum(-1), 0, None) + 1e-6)
    want = np.stack([np.log(pt), np.arcsinh(jet[:, 2] / pt), 10 * m / pt], -1)
    np.testing.assert_allclose(obs["jet3_shape"].numpy(), want, rtol=1e-6)
    assert set(jet_observables(torch.from_numpy(x))) == {"jet_mass", "dijet_mass", "trijet_mass"}

    # a draw whose jets are twice as heavy: only the shapes see the mass against the pT beside the marginal masses
    target = torch.from_numpy(x).float()
    draws = target.expand(2, -1, -1).clone().reshape(2, 60, 6, 4)
    heavy = draws.clone()
    p = heavy[..., 2:, :3]
    heavy[..., 2:, 3] = torch.sqrt((p**2).sum(-1) + 4 * (draws[..., 2:, 3] ** 2 - (p**2).sum(-1)).clamp_min(0))
    heavy = heavy.reshape(2, 60, 24)
    gain_plain = observable_score(heavy, target) - observable_score(draws.reshape(2, 60, 24), target)
    gain_shapes = observable_score(heavy, target, shapes=True) - observable_score(
        draws.reshape(2, 60, 24), target, shapes=True
    )
    assert gain_plain > 0 and gain_shapes > gain_plain


def test_solved_neutrino_pz_is_the_reconstructions_and_lepton_top_masses_hold_the_chi2_candidate():
    import numpy as np

    from tests.conftest import toy_features
    from turbosim_hep.model.observables import lepton_observables, solved_neutrino_pz
    from turbosim_hep.physics import kernels
    from turbosim_hep.physics.reconstruction import reconstruct_features

    x = toy_features(400, np.random.default_rng(3)).astype(np.float64)
    e, met = x[:, :4], x[:, 4:6]
    want, is_complex = kernels.neutrino_pz(*(np.ascontiguousarray(c) for c in (*e.T, *met.T)), 80.379)
    assert 0 < is_complex.mean() < 1  # both branches are exercised
    got = solved_neutrino_pz(torch.from_numpy(e), torch.from_numpy(met)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)

    xt = torch.from_numpy(x).requires_grad_(True)
    obs = lepton_observables(xt)
    assert {k: tuple(v.shape) for k, v in obs.items()} == {
        "w_transverse_mass": (400, 1), "lepton_jet_mass": (400, 4), "lepton_top_mass": (400, 4)
    }  # fmt: skip
    reco = reconstruct_features(x, level="reco")
    chosen = obs["lepton_top_mass"].detach().numpy()[np.arange(400), reco["b_lep"]] * 200.0
    np.testing.assert_allclose(chosen, reco["m_t_lep"], rtol=1e-6)
    e_pt, met_pt = np.hypot(e[:, 0], e[:, 1]), np.hypot(met[:, 0], met[:, 1])
    mt = np.sqrt(np.clip(2 * (e_pt * met_pt - (e[:, :2] * met).sum(1)), 0, None))
    np.testing.assert_allclose(obs["w_transverse_mass"][:, 0].detach().numpy() * 100.0, mt, rtol=1e-4, atol=1e-2)
    sum(v.sum() for v in obs.values()).backward()
    assert torch.isfinite(xt.grad).all() and xt.grad[:, :6].abs().sum() > 0  # the electron and MET get gradients


def test_lepton_observables_enter_the_observable_score_and_the_flag_reaches_the_config():
    import numpy as np

    from tests.conftest import toy_features
    from turbosim_hep.cli import build_parser
    from turbosim_hep.cli import train as train_cli
    from turbosim_hep.model.config import TurboSimConfig
    from turbosim_hep.model.losses import observable_score
    from turbosim_hep.model.observables import LEPTON_GROUPS, jet_observables

    x = torch.from_numpy(toy_features(80, np.random.default_rng(4))).double()
    assert set(LEPTON_GROUPS) <= set(jet_observables(x, leptons=True))
    assert not set(LEPTON_GROUPS) & set(jet_observables(x))
    # a draw whose electron is 3 % too hard: the lepton masses see it beside the jet masses, which cannot
    draws = x.expand(2, -1, -1).clone()
    hard = draws.clone()
    hard[..., :4] *= 1.03
    assert observable_score(hard, x) == observable_score(draws, x)
    assert observable_score(hard, x, leptons=True) > observable_score(draws, x, leptons=True)

    args = build_parser().parse_args(["train", "data", "--out", "m.pt", "--lepton-observables"])
    assert TurboSimConfig.preset("turbo-physics", **train_cli._overrides(args)).energy_leptons
    assert not TurboSimConfig.preset("turbo-physics").energy_leptons


def test_reconstructed_masses_are_the_chi2_reconstructions_and_the_flag_reaches_the_score():
    import numpy as np

    from tests.conftest import toy_features
    from turbosim_hep.cli import build_parser
    from turbosim_hep.cli import train as train_cli
    from turbosim_hep.model.config import TurboSimConfig
    from turbosim_hep.model.losses import observable_score
    from turbosim_hep.model.observables import jet_observables, reconstructed_masses
    from turbosim_hep.physics.reconstruction import reconstruct_features

    x = toy_features(300, np.random.default_rng(5)).astype(np.float64)
    reco = reconstruct_features(x, level="reco")
    xt = torch.from_numpy(x).requires_grad_(True)
    got = reconstructed_masses(xt)
    want = np.stack([reco["m_w_had"], reco["m_t_had"], reco["m_t_lep"], reco["m_tt"]], -1) / [100, 200, 200, 500]
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-6)  # the same assignment in every event
    got.sum().backward()
    assert torch.isfinite(xt.grad).all()
    # draws (k, n, 24) keep their leading axes
    assert reconstructed_masses(xt.detach().expand(3, -1, -1)).shape == (3, 300, 4)

    x32 = torch.from_numpy(x).float()
    assert "reconstructed_masses" in jet_observables(x32, reconstructed=True)
    heavier = x32.expand(2, -1, -1).clone()
    heavier[..., 8:] *= 1.02  # every jet 2 % harder: the masses the reconstruction reads move
    plain, rec = observable_score(heavier, x32), observable_score(heavier, x32, reconstructed=True)
    assert rec > plain
    args = build_parser().parse_args(["train", "data", "--out", "m.pt", "--reconstructed-masses"])
    assert TurboSimConfig.preset("turbo-physics", **train_cli._overrides(args)).energy_reconstructed
