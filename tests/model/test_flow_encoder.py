"""The flow encoder: on-shell posterior draws, keyed and rotation-equivariant, an exact likelihood that trains, and
its place in Turbo-Sim (likelihood terms, a decoder taken from another model and kept fixed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.model.test_decay_chain import random_chain
from turbosim_hep.evaluation.unfolding_physics import off_shell_shares
from turbosim_hep.model.config import TurboSimConfig
from turbosim_hep.model.decay_chain import chain_to_partons
from turbosim_hep.model.flow_encoder import FlowEncoder
from turbosim_hep.model.turbosim import TurboSim


def toy_pairs(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """t t̄ partons ``z`` and a crude detector event ``x`` (electron, MET = ν pT, four quark 'jets' by pT) [GeV]."""
    z = chain_to_partons(random_chain(n, seed)).float()
    g = torch.Generator().manual_seed(seed + 100)
    p = z.reshape(n, 6, 4) * (1.0 + 0.1 * torch.randn(n, 6, 1, generator=g))
    met = torch.stack([p[:, 1, 0], p[:, 1, 1], torch.zeros(n), torch.hypot(p[:, 1, 0], p[:, 1, 1])], dim=-1)
    jets = p[:, 2:]
    jets = torch.take_along_dim(jets, torch.argsort(-torch.hypot(jets[..., 0], jets[..., 1]), dim=1)[..., None], 1)
    x = torch.cat([p[:, 0], met, jets.reshape(n, 16)], dim=-1)
    return z, x


def rotated(v: torch.Tensor, angle: float) -> torch.Tensor:
    """Events ``(n, 24)`` of four-vectors rotated about the beam by ``angle`` [rad]."""
    rot = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    p = v.reshape(len(v), -1, 4).clone()
    p[..., :2] = p[..., :2] @ rot.T
    return p.reshape(v.shape)


def fit_by_likelihood(enc, z: torch.Tensor, x: torch.Tensor, *, seed: int, steps: int = 150) -> torch.Generator:
    """Maximum likelihood of ``enc`` on the pairs (Adam 3e-3, batches of 256); returns the batch generator."""
    opt = torch.optim.Adam(enc.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(len(z), (256,), generator=g)
        loss = -enc.log_prob_gev(z[idx], x[idx]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return g


def test_draws_are_on_shell_finite_and_keyed():
    torch.manual_seed(0)
    enc = FlowEncoder(context=16, hidden=(32, 32), transforms=2)
    _, x = toy_pairs(2000)
    noise = torch.randn(2000, enc.noise_dim, generator=torch.Generator().manual_seed(1)) * 2.5  # wide draws too
    with torch.no_grad():
        z = enc.sample_gev(x, noise)
        again = enc.sample_gev(x[:700], noise[:700])
    assert torch.isfinite(z).all()
    assert off_shell_shares(z.numpy())["any"] == 0.0
    # a pure function of (x, noise): the batch changes at most the last bits of the matrix products
    assert torch.allclose(again, z[:700], rtol=1e-4, atol=1e-3)


def test_draws_rotate_with_the_detector_event():
    torch.manual_seed(0)
    enc = FlowEncoder(context=16, hidden=(32, 32), transforms=2)
    _, x = toy_pairs(300, seed=2)
    noise = torch.randn(300, enc.noise_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        z = enc.sample_gev(x, noise)
        z_rot = enc.sample_gev(rotated(x, 1.1), noise)
    assert torch.allclose(z_rot, rotated(z, 1.1), atol=2e-3 * float(z.abs().max()))


def test_likelihood_training_moves_the_posterior_to_the_truth():
    """Maximum likelihood on pairs: the held-out log-likelihood rises and the W mass of the draws sharpens."""
    torch.manual_seed(0)
    enc = FlowEncoder(context=16, hidden=(64, 64), transforms=2)
    z, x = toy_pairs(3000, seed=4)
    zt, xt = toy_pairs(1000, seed=5)
    with torch.no_grad():
        before = enc.log_prob_gev(zt, xt).mean()
    g = fit_by_likelihood(enc, z, x, seed=6)
    with torch.no_grad():
        after = enc.log_prob_gev(zt, xt).mean()
        draws = enc.sample_gev(xt, torch.randn(1000, enc.noise_dim, generator=g)).reshape(-1, 6, 4)
    assert after > before + 5.0
    w = draws[:, 4] + draws[:, 5]
    m_w = torch.sqrt((w[:, 3] ** 2 - (w[:, :3] ** 2).sum(-1)).clamp_min(0))
    assert abs(float(m_w.median()) - 80.4) < 3.0


def _model(**overrides) -> TurboSim:
    cfg = TurboSimConfig.preset(
        "physics", encoder_kind="flow", flow_context=16, flow_hidden=(32, 32), flow_transforms=2, **overrides
    )
    model = TurboSim(cfg)
    z, x = toy_pairs(500, seed=7)
    model.set_normalisation(z.mean(0), z.std(0), x.mean(0), x.std(0).clamp_min(1.0))
    return model


def test_flow_terms_are_the_likelihood_and_the_joined_directions_train():
    model = _model(l_x_xhat=1.0, l_z_zhat=1.0)
    z, x = toy_pairs(64, seed=8)
    zn, xn = (z - model.encoder.z_mean) / model.encoder.z_std, (x - model.x_mean) / model.x_std
    total, terms = model.generator_loss(zn, xn, generator=torch.Generator().manual_seed(0))
    assert set(terms) == {"l_z_ztilde", "l_x_xhat", "l_x_xtilde", "l_z_zhat"}
    assert torch.isclose(terms["l_z_ztilde"], -model.encoder.log_prob(zn, xn).mean() / 16)
    total.backward()
    grads = {n.split(".")[0]: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert "encoder" in grads and "decoder" in grads  # the cycle and refolding terms reach both networks


#: The physics decoder's normalisation buffers: a run's own, whichever model its networks come from.
_NORMALISATION = ("z_mean", "z_std", "x_mean", "x_std")


def test_frozen_decoder_from_another_model(tmp_path):
    from turbosim_hep.model.checkpoint import save_checkpoint
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.trainer import Trainer

    source = _model(seed=5)
    z, x = toy_pairs(800, seed=9)
    zn, xn = (
        Normalisation(z.mean(0).double().numpy(), z.std(0).double().numpy()),
        Normalisation(x.mean(0).double().numpy(), x.std(0).clamp_min(1.0).double().numpy()),
    )
    path = save_checkpoint(tmp_path / "source.pt", model=source, z_norm=zn, x_norm=xn, provenance={"files": []})
    cfg = source.config.replace(seed=6, decoder_from=str(path), freeze_decoder=True, l_x_xhat=1.0, steps_per_epoch=2)
    trainer = Trainer(((z.numpy() - zn.mean) / zn.std), ((x.numpy() - xn.mean) / xn.std), config=cfg, z_norm=zn,
                      x_norm=xn)  # fmt: skip
    for (name, p), q in zip(
        trainer.model.decoder.state_dict().items(), source.decoder.state_dict().values(), strict=True
    ):
        assert name in _NORMALISATION or torch.equal(p, q), name  # the normalisation is the run's (test below)
    enc_before = [p.clone() for p in trainer.model.encoder.parameters()]
    out = trainer.step()
    assert "l_x_xtilde" not in out  # nothing to train in x̃ = D(z)
    for (name, p), q in zip(
        trainer.model.decoder.state_dict().items(), source.decoder.state_dict().values(), strict=True
    ):
        assert name in _NORMALISATION or torch.equal(p, q), name
    assert any(not torch.equal(a, b) for a, b in zip(enc_before, trainer.model.encoder.parameters(), strict=True))


def test_a_network_from_a_model_trained_on_other_data_takes_this_runs_normalisation(tmp_path):
    from turbosim_hep.model.checkpoint import save_checkpoint
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.trainer import Trainer

    source = _model(seed=5)
    z, x = toy_pairs(800, seed=29)
    zn, xn = (
        Normalisation(z.mean(0).double().numpy(), z.std(0).double().numpy()),
        Normalisation(x.mean(0).double().numpy(), x.std(0).clamp_min(1.0).double().numpy()),
    )
    source.set_normalisation(zn.mean, zn.std, xn.mean, xn.std)
    path = save_checkpoint(tmp_path / "source.pt", model=source, z_norm=zn, x_norm=xn, provenance={"files": []})
    # this run's data: another sample, so its normalisation differs from the source model's
    zn2, xn2 = Normalisation(zn.mean + 1.0, zn.std * 1.05), Normalisation(xn.mean - 2.0, xn.std * 0.95)
    cfg = source.config.replace(seed=6, decoder_from=str(path), freeze_decoder=True, steps_per_epoch=2)
    trainer = Trainer(zn2.normalise(z.numpy()), xn2.normalise(x.numpy()), config=cfg, z_norm=zn2, x_norm=xn2)
    dec = trainer.model.decoder
    for name, norm in (("z_mean", zn2.mean), ("z_std", zn2.std), ("x_mean", xn2.mean), ("x_std", xn2.std)):
        assert torch.allclose(getattr(dec, name), torch.as_tensor(norm, dtype=torch.float32)), name
    # the same partons in GeV give the same detector events in GeV as the source model's decoder
    noise = torch.randn(200, dec.noise_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        mine = trainer.model.x_to_gev(dec(torch.as_tensor(zn2.normalise(z[:200].numpy()), dtype=torch.float32), noise))
        theirs = source.x_to_gev(
            source.decoder(torch.as_tensor(zn.normalise(z[:200].numpy()), dtype=torch.float32), noise)
        )
    assert torch.allclose(mine, theirs, rtol=1e-4, atol=1e-3)


def test_frozen_encoder_from_another_model_trains_only_the_simulation(tmp_path):
    from turbosim_hep.model.checkpoint import save_checkpoint
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.trainer import Trainer

    source = _model(seed=5)
    z, x = toy_pairs(800, seed=19)
    zn, xn = (
        Normalisation(z.mean(0).double().numpy(), z.std(0).double().numpy()),
        Normalisation(x.mean(0).double().numpy(), x.std(0).clamp_min(1.0).double().numpy()),
    )
    path = save_checkpoint(tmp_path / "source.pt", model=source, z_norm=zn, x_norm=xn, provenance={"files": []})
    cfg = source.config.replace(seed=6, encoder_from=str(path), freeze_encoder=True, steps_per_epoch=2)
    trainer = Trainer(((z.numpy() - zn.mean) / zn.std), ((x.numpy() - xn.mean) / xn.std), config=cfg, z_norm=zn,
                      x_norm=xn)  # fmt: skip
    dec_before = [p.clone() for p in trainer.model.decoder.parameters()]
    out = trainer.step()
    assert "l_z_ztilde" not in out and "l_x_xtilde" in out  # nothing to train in z̃ = E(x)
    for (name, p), q in zip(
        trainer.model.encoder.state_dict().items(), source.encoder.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q), name
    assert any(not torch.equal(a, b) for a, b in zip(dec_before, trainer.model.decoder.parameters(), strict=True))
    with pytest.raises(ValueError, match="flow_transforms"):
        Trainer(z.numpy(), x.numpy(), config=cfg.replace(flow_transforms=3), z_norm=zn, x_norm=xn)
    with pytest.raises(ValueError, match="freeze_encoder needs encoder_from"):
        TurboSimConfig(freeze_encoder=True)
    with pytest.raises(ValueError, match="nothing to train"):
        cfg.replace(decoder_from=str(path), freeze_decoder=True)


def test_decoder_from_checks_the_configuration(tmp_path):
    from turbosim_hep.model.checkpoint import save_checkpoint
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.trainer import Trainer

    source = _model(event_noise=0)
    z, x = toy_pairs(200, seed=10)
    norm = Normalisation(np.zeros(24), np.ones(24))
    path = save_checkpoint(tmp_path / "s.pt", model=source, z_norm=norm, x_norm=norm, provenance={"files": []})
    cfg = source.config.replace(event_noise=4, decoder_from=str(path))
    with pytest.raises(ValueError, match="event_noise"):
        Trainer(z.numpy(), x.numpy(), config=cfg, z_norm=norm, x_norm=norm)
    with pytest.raises(ValueError, match="freeze_decoder needs decoder_from"):
        TurboSimConfig(freeze_decoder=True)


def test_conditional_critic_of_the_unfolding_reads_detector_then_partons():
    from turbosim_hep.model.critics import ConditionalCritic, critic_inputs

    model = _model(d_ztilde=1.0, d_xtilde=1.0, conditional_critic=True, critic_steps=1)
    assert isinstance(model.critics["z_tilde"], ConditionalCritic)
    assert isinstance(model.critics["x_tilde"], ConditionalCritic)
    z, x = toy_pairs(64, seed=11)
    zn, xn = (z - model.encoder.z_mean) / model.encoder.z_std, (x - model.x_mean) / model.x_std
    samples = model.draw_samples(zn, xn, ("z_tilde", "x_tilde"), draws=2, generator=torch.Generator().manual_seed(0))
    pair = critic_inputs(model.critics["z_tilde"], "z_tilde", samples["z_tilde"], samples)
    assert pair.shape == (2, 64, 48)
    assert torch.equal(pair[0, :, :24], xn) and torch.equal(pair[1, :, 24:], samples["z_tilde"][1])
    sim = critic_inputs(model.critics["x_tilde"], "x_tilde", samples["x_tilde"], samples)
    assert torch.equal(sim[0, :, 24:], zn)
    loss, parts = model.critic_loss(zn, xn, generator=torch.Generator().manual_seed(1))
    assert set(parts) == {"z_tilde", "x_tilde"} and torch.isfinite(loss)


def test_command_line_flags_reach_the_configuration():
    from turbosim_hep.cli import build_parser
    from turbosim_hep.cli import train as train_cli

    args = build_parser().parse_args(
        ["train", "data", "--out", "m.pt", "--encoder", "flow", "--decoder-from", "ttbar-physics", "--freeze-decoder"]
    )
    assert train_cli._overrides(args) == {
        "encoder_kind": "flow", "decoder_from": "ttbar-physics", "freeze_decoder": True,
    }  # fmt: skip
    args = build_parser().parse_args(["train", "data", "--out", "m.pt", "--encoder-from", "m0.pt", "--freeze-encoder"])
    assert train_cli._overrides(args) == {"encoder_from": "m0.pt", "freeze_encoder": True}
    args = build_parser().parse_args(["train", "data", "--out", "m.pt", "--beam-flip"])
    assert train_cli._overrides(args) == {"beam_flip": True}


def test_selection_of_a_generative_encoder_counts_its_unfolded_masses():
    from turbosim_hep.model.validation import selection_score

    z, x = toy_pairs(600, seed=12)
    z, x = z.double().numpy(), x.double().numpy()
    good = selection_score(z, x, z, x, physics=None, unfolding=True)
    shuffled = z.copy()
    shuffled[:, 16:] = z[::-1, 16:]  # u, dbar from other events: W and top masses smeared
    bad = selection_score(z, x, shuffled, x, physics=None, unfolding=True)
    plain = selection_score(z, x, shuffled, x, physics=None)
    assert good["unfolding_mean"] == 0.0 and bad["unfolding_mean"] > 0.08
    assert bad["score"] == pytest.approx(plain["score"] + bad["unfolding_mean"])


def test_a_flow_model_unfolds_on_shell_through_the_transform_and_refuses_export(tmp_path):
    from turbosim_hep.model.checkpoint import save_checkpoint
    from turbosim_hep.model.export import export_model
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.transform import TurboSimTransform

    model = _model()
    z, x = toy_pairs(300, seed=13)
    zn = Normalisation(z.mean(0).double().numpy(), z.std(0).double().numpy())
    xn = Normalisation(x.mean(0).double().numpy(), x.std(0).clamp_min(1.0).double().numpy())
    path = save_checkpoint(tmp_path / "flow.pt", model=model, z_norm=zn, x_norm=xn, provenance={"files": []})
    tf = TurboSimTransform.load(path)
    unfolded = tf.unfold_features(x.numpy(), run=1, event=np.arange(300))
    assert off_shell_shares(unfolded)["any"] == 0.0
    again = tf.unfold_features(x.numpy()[:100], run=1, event=np.arange(100))
    assert np.allclose(again, unfolded[:100], rtol=1e-4, atol=1e-3)  # keyed by the event ids
    with pytest.raises(ValueError, match="flow encoder"):
        export_model(path, tmp_path / "enc.pt", direction="unfold")


def test_validation_draws_the_simulation_from_its_own_stream():
    """A changed encoder moves z̃ and x̂, never x̃ = D(z): a frozen decoder scores the same simulation every epoch."""
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.validation import validate

    model = _model(truncate=True)
    z, x = toy_pairs(400, seed=14)
    zn = Normalisation(z.mean(0).double().numpy(), z.std(0).double().numpy())
    xn = Normalisation(x.mean(0).double().numpy(), x.std(0).clamp_min(1.0).double().numpy())
    z, x = z.double().numpy(), x.double().numpy()

    def run():
        return validate(model, z, x, z_norm=zn, x_norm=xn, generator=torch.Generator().manual_seed(3), physics=False)

    first = run()
    with torch.no_grad():
        for p in model.encoder.parameters():
            p.add_(0.05 * torch.randn_like(p))
    second = run()
    assert first["ks"]["x_tilde"] == second["ks"]["x_tilde"]
    assert first["ks"]["z_tilde"] != second["ks"]["z_tilde"]


def test_the_scorecard_criterion_of_a_generative_encoder_sees_its_pair_auc():
    """Unfolded partons taken from other events have the right marginals but do not follow their detector event:
    the criterion's unfolding pair AUC sees it, and the truth itself scores near 0.5."""
    from turbosim_hep.model.validation import selection_score

    z, x = toy_pairs(1200, seed=14)
    z, x = z.double().numpy(), x.double().numpy()
    right = selection_score(z, x, z, x, physics=None, scorecard=True, unfolding=True)
    other = selection_score(z, x, np.roll(z, 1, axis=0), x, physics=None, scorecard=True, unfolding=True)
    plain = selection_score(z, x, np.roll(z, 1, axis=0), x, physics=None, scorecard=True)
    assert right["unfolding_pair_auc"] < 0.6 and other["unfolding_pair_auc"] > 0.9
    assert other["score"] == pytest.approx(plain["score"] + other["unfolding_mean"] + other["unfolding_pair_excess"])
    assert "unfolding_pair_auc" not in plain
    # the criterion compares parton events on shell: float rounding of an energy cannot give a light parton a mass
    from turbosim_hep.model.decay_chain import PARTON_MASSES_GEV
    from turbosim_hep.model.validation import _on_shell

    rounded = z.astype(np.float32).astype(np.float64)
    rounded[:, 3::4] *= 1.0 + 1e-5
    fixed = _on_shell(rounded).reshape(-1, 6, 4)
    masses = np.sqrt(np.maximum(fixed[..., 3] ** 2 - (fixed[..., :3] ** 2).sum(-1), 0.0))
    assert np.allclose(masses, PARTON_MASSES_GEV, atol=1e-3)
    assert np.array_equal(fixed[..., :3], rounded.reshape(-1, 6, 4)[..., :3])


def test_validation_reports_the_held_out_likelihood_of_a_flow_encoder():
    """The validation metrics carry mean log q(z|x) on the true pairs (what ℒ(z, z̃) trains, held out): the truth's
    own detector events score higher than detector events of other events."""
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.validation import validate

    model = _model()
    z, x = toy_pairs(400, seed=15)
    fit_by_likelihood(model.encoder, z, x, seed=3, steps=60)
    zn = Normalisation(z.mean(0).double().numpy(), z.std(0).double().numpy())
    xn = Normalisation(x.mean(0).double().numpy(), x.std(0).clamp_min(1.0).double().numpy())

    def log_q(x_of):
        out = validate(
            model, z.double().numpy(), x_of.double().numpy(), z_norm=zn, x_norm=xn,
            generator=torch.Generator().manual_seed(3), physics=False,
        )  # fmt: skip
        return out["encoder_log_q"]

    with torch.no_grad():
        expected = model.encoder.log_prob_gev(z, x).double().mean().item()
    assert log_q(x) == pytest.approx(expected, rel=1e-5)
    assert log_q(torch.roll(x, 1, dims=0)) < expected - 1.0
    assert "encoder_log_q" not in validate(
        TurboSim(TurboSimConfig.preset("physics")), z.double().numpy(), x.double().numpy(), z_norm=zn, x_norm=xn,
        generator=torch.Generator().manual_seed(3), physics=False,
    )  # fmt: skip


def test_selection_by_the_held_out_likelihood():
    """``selection='likelihood'`` selects on minus the held-out log q(z|x); it needs a flow encoder."""
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.validation import validate

    model = _model(selection="likelihood")
    z, x = toy_pairs(300, seed=16)
    zn = Normalisation(z.mean(0).double().numpy(), z.std(0).double().numpy())
    xn = Normalisation(x.mean(0).double().numpy(), x.std(0).clamp_min(1.0).double().numpy())
    out = validate(
        model, z.double().numpy(), x.double().numpy(), z_norm=zn, x_norm=xn,
        generator=torch.Generator().manual_seed(3), physics=False,
    )  # fmt: skip
    assert out["selection"] == -out["encoder_log_q"]
    with pytest.raises(ValueError, match="likelihood.*encoder_kind='flow'"):
        TurboSimConfig.preset("physics", selection="likelihood")
