"""The physics-structured decoder: physical outputs, jets = quarks at the start, gradients everywhere."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import toy_features
from turbosim_hep.model.config import TurboSimConfig
from turbosim_hep.model.physics_decoder import PhysicsDecoder
from turbosim_hep.model.turbosim import TurboSim


def _partons(n: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(toy_features(n, np.random.default_rng(seed)))


def _randomised(seed: int = 0) -> PhysicsDecoder:
    """A decoder with every weight random (no zero heads), the worst case for physical outputs."""
    torch.manual_seed(seed)
    dec = PhysicsDecoder()
    with torch.no_grad():
        for p in dec.parameters():
            p.normal_(0.0, 0.15)
    return dec


def test_outputs_are_physical_and_jets_sorted_on_random_weights_and_inputs():
    dec = _randomised()
    x = dec.in_gev()(_partons(2000), torch.randn(2000, dec.noise_dim)).detach().numpy().reshape(-1, 6, 4)
    assert np.all(np.isfinite(x))
    jets = x[:, 2:].astype(np.float64)
    p2 = (jets[..., :3] ** 2).sum(-1)
    assert np.all(jets[..., 3] ** 2 - p2 > 0.0)  # m² > 0: E > |p|, also after rounding to float32
    pt = np.hypot(jets[..., 0], jets[..., 1])
    assert np.all(np.diff(pt, axis=1) <= 0)
    ele = x[:, 0]
    assert np.all(ele[:, 3] >= np.sqrt((ele[:, :3] ** 2).sum(-1)) * (1 - 1e-6))
    met = x[:, 1]
    np.testing.assert_allclose(met[:, 3], np.sqrt((met[:, :3] ** 2).sum(-1)), rtol=1e-5)


def test_untrained_decoder_returns_jets_equal_to_quarks():
    # (no lost-quark branch, whose random head sends some quarks to the wide response, and no reflection at the
    # acceptance edges, which moves the soft toy quarks)
    model = TurboSim(TurboSimConfig.preset("physics", radiation=False, truncate=False))
    z = _partons(300)
    x = model.decoder.in_gev()(z, torch.randn(300, model.decoder.noise_dim)).detach().numpy().reshape(-1, 6, 4)
    quarks = z.numpy().reshape(-1, 6, 4)[:, 2:]
    q_pt = np.hypot(quarks[..., 0], quarks[..., 1])
    order = np.argsort(-q_pt, axis=1)
    np.testing.assert_allclose(x[:, 2:, :3], np.take_along_axis(quarks[..., :3], order[..., None], 1), atol=1e-3)
    np.testing.assert_allclose(x[:, 0, :3], z.numpy()[:, :3], atol=1e-3)  # electron = parton electron


def test_normalised_interface_matches_the_gev_one():
    dec = _randomised(1)
    mean, std = torch.linspace(-5, 5, 24), torch.linspace(1, 60, 24)
    dec.set_normalisation(mean, std, mean * 2, std * 3)
    z = _partons(50, 2)
    noise = torch.randn(50, dec.noise_dim)
    gev = dec.in_gev()(z, noise)
    norm = dec((z - mean) / std, noise) * std * 3 + mean * 2
    torch.testing.assert_close(norm, gev, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("critic", [False, True])
def test_gradients_reach_every_parameter(critic):
    over = {"d_xtilde": 1.0} if critic else {}
    cfg = TurboSimConfig.preset("physics", **over)
    model = TurboSim(cfg)
    for m in model.decoder.modules():  # leave zero heads: their gradient is non-zero but downstream ones vanish
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.normal_(m.weight, 0.0, 0.1)
    z = _partons(64)
    x = torch.from_numpy(toy_features(64, np.random.default_rng(5), massless=True))
    z_n, x_n = (z - z.mean(0)) / z.std(0), (x - x.mean(0)) / x.std(0)
    model.set_normalisation(z.mean(0), z.std(0), x.mean(0), x.std(0))
    loss, _ = model.generator_loss(z_n, x_n, generator=torch.Generator().manual_seed(0))
    loss.backward()
    gen = [(n, p) for n, p in model.named_parameters() if not n.startswith("critics.")]
    missing = [n for n, p in gen if p.grad is None or not torch.any(p.grad != 0)]
    assert missing == []
    if critic:
        c_loss, _ = model.critic_loss(z_n, x_n, generator=torch.Generator().manual_seed(0))
        model.zero_grad()
        c_loss.backward()
        # (the Wasserstein loss leaves the output bias without gradient: it cancels between real and fake)
        weights = [p for n, p in model.critics.named_parameters() if n.endswith("weight")]
        assert all(p.grad is not None and torch.any(p.grad != 0) for p in weights)


def test_jet_mass_bound_caps_m_over_pt_and_leaves_the_bulk():
    free = _randomised(5)
    bounded = PhysicsDecoder(jet_mass_bound=0.2)
    bounded.load_state_dict(free.state_dict())
    z, noise = _partons(3000, 5), torch.randn(3000, free.noise_dim)
    with torch.inference_mode():
        a = free.in_gev()(z, noise).double().numpy().reshape(-1, 6, 4)[:, 2:]
        b = bounded.in_gev()(z, noise).double().numpy().reshape(-1, 6, 4)[:, 2:]

    def m_over_pt(j):
        return np.sqrt(np.clip(j[..., 3] ** 2 - (j[..., :3] ** 2).sum(-1), 0, None)) / np.hypot(j[..., 0], j[..., 1])

    ra, rb = m_over_pt(a), m_over_pt(b)
    # central jets: at |η| > 4 float32's floor E >= |p| (1 + 1e-6) alone makes m / pT > 1.4e-3 cosh η
    central = np.abs(np.arcsinh(b[..., 2] / np.hypot(b[..., 0], b[..., 1]))) < 3.0
    assert ra.max() > 0.3  # random weights make jets far wider than the bound
    assert rb[central].max() <= 0.2 * (1 + 1e-3)
    np.testing.assert_allclose(b[..., :3], a[..., :3], rtol=1e-6)  # only the masses change
    narrow = np.sort(ra, axis=1) < 0.1  # jets sorted by pT in both; half the bound: the mass moves by < 0.5 %
    np.testing.assert_allclose(np.sort(rb, axis=1)[narrow], np.sort(ra, axis=1)[narrow], rtol=5e-3)
    assert np.all(b[..., 3] ** 2 - (b[..., :3] ** 2).sum(-1) > 0.0)


def test_negative_jet_mass_bound_is_refused():
    with pytest.raises(ValueError, match="jet_mass_bound"):
        PhysicsDecoder(jet_mass_bound=-0.1)


def test_object_noise_below_four_is_refused():
    with pytest.raises(ValueError, match="object_noise"):
        PhysicsDecoder(object_noise=3)


@pytest.mark.parametrize("kwargs", [{}, {"event_noise": 4, "radiation": True}, {"jet_mass_bound": 0.36}])
def test_inference_equals_the_training_graph_bit_for_bit(kwargs):
    from turbosim_hep.simulation.phase_space import PhaseSpaceBounds

    torch.manual_seed(3)
    dec = PhysicsDecoder(phase_space=PhaseSpaceBounds(), **kwargs)
    with torch.no_grad():
        for p in dec.parameters():
            p.normal_(0.0, 0.15)
    z = _partons(5000, 4)
    noise = torch.randn(5000, dec.noise_dim)
    with torch.inference_mode():  # chunks of 4096, first layers made once, parton directions reused
        fast = dec.in_gev()(z, noise)
        few = dec.in_gev()(z[:7], noise[:7])
    graph = torch.cat([dec.simulate_gev(z[:4096], noise[:4096]), dec.simulate_gev(z[4096:], noise[4096:])])
    assert torch.equal(fast, graph.detach())
    assert torch.equal(few, dec.simulate_gev(z[:7], noise[:7]).detach())


def test_the_gev_view_follows_its_weights_after_an_optimiser_step():
    dec = _randomised(2)
    view = dec.in_gev()
    z, noise = _partons(20, 6), torch.randn(20, dec.noise_dim)
    with torch.inference_mode():
        before = view(z, noise)
    with torch.no_grad():
        dec.responses[1][0].weight.add_(0.2)  # what an optimiser step does: in place
    with torch.inference_mode():
        after = view(z, noise)
    assert not torch.equal(after, before)
    assert torch.equal(after, dec.simulate_gev(z, noise).detach())


def test_jet_mass_bound_from_the_command_line_to_the_decoder_and_old_files_unbounded():
    from turbosim_hep.cli import build_parser
    from turbosim_hep.cli import train as train_cli

    args = build_parser().parse_args(["train", "data", "--out", "m.pt", "--jet-mass-bound", "0.36"])
    overrides = train_cli._overrides(args)
    assert overrides == {"jet_mass_bound": 0.36}
    model = TurboSim(TurboSimConfig.preset("physics", **overrides))
    assert model.decoder.jet_mass_bound == 0.36
    old = TurboSimConfig.preset("physics").to_dict()
    del old["jet_mass_bound"]  # a model file written before the option: its decoder stays unbounded
    assert TurboSimConfig.from_dict(old).jet_mass_bound == 0.0
    with pytest.raises(ValueError, match="jet_mass_bound"):
        TurboSimConfig.preset("physics", jet_mass_bound=-1.0)


def test_jet_shapes_flag_reaches_the_loss_configuration():
    from turbosim_hep.cli import build_parser
    from turbosim_hep.cli import train as train_cli

    args = build_parser().parse_args(["train", "data", "--out", "m.pt", "--jet-shapes"])
    assert train_cli._overrides(args) == {"energy_jet_shapes": True}
    assert TurboSimConfig.preset("turbo-physics", **train_cli._overrides(args)).energy_jet_shapes
    assert TurboSimConfig.preset("turbo-physics").energy_jet_shapes  # on in the physics presets
    args = build_parser().parse_args(["train", "data", "--out", "m.pt", "--no-jet-shapes"])
    assert not TurboSimConfig.preset("turbo-physics", **train_cli._overrides(args)).energy_jet_shapes


def test_met_per_object_warm_starts_from_a_decoder_without_it_and_learns_its_new_inputs(tmp_path):
    from turbosim_hep.cli import build_parser
    from turbosim_hep.cli import train as train_cli
    from turbosim_hep.model.checkpoint import save_checkpoint
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.trainer import Trainer

    cfg = TurboSimConfig.preset("physics", encoder_hidden=(16,), steps_per_epoch=2, batch_size=64, ema=0.0)
    source = TurboSim(cfg, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():  # every weight away from its zero start, so that equal outputs mean equal functions
        for p in source.decoder.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    rng = np.random.default_rng(2)
    z, x = toy_features(256, rng), toy_features(256, rng, massless=True)
    zn, xn = Normalisation(z.mean(0), z.std(0)), Normalisation(x.mean(0), x.std(0))
    source.set_normalisation(zn.mean, zn.std, xn.mean, xn.std)
    path = save_checkpoint(tmp_path / "s.pt", model=source, z_norm=zn, x_norm=xn, provenance={"files": []})

    wide = cfg.replace(met_per_object=True, decoder_from=str(path))
    trainer = Trainer((z - zn.mean) / zn.std, (x - xn.mean) / xn.std, config=wide, z_norm=zn, x_norm=xn)
    decoder = trainer.model.decoder
    assert decoder.met_per_object and decoder.recoil[0].in_features == source.decoder.recoil[0].in_features + 10
    zg, noise = torch.from_numpy(z[:50]), torch.randn(50, decoder.noise_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(decoder.in_gev()(zg, noise), source.decoder.in_gev()(zg, noise))
    trainer.step()
    assert decoder.recoil[0].weight[:, -10:].abs().sum() > 0  # the per-object inputs get gradients

    back = save_checkpoint(tmp_path / "w.pt", model=trainer.model, z_norm=zn, x_norm=xn, provenance={"files": []})
    with pytest.raises(ValueError, match="met_per_object"):  # a head cannot forget inputs it learned to read
        Trainer(z, x, config=cfg.replace(decoder_from=str(back)), z_norm=zn, x_norm=xn)
    args = build_parser().parse_args(["train", "data", "--out", "m.pt", "--met-per-object", "--met-balance"])
    overrides = train_cli._overrides(args)
    assert overrides == {"met_per_object": True, "energy_met_balance": True}
