import json
import sys
import types

import numpy as np
import pytest
import torch

from turbosim_hep.model.checkpoint import read_checkpoint
from turbosim_hep.model.config import TurboSimConfig
from turbosim_hep.model.normalisation import Normalisation
from turbosim_hep.model.trainer import Trainer
from turbosim_hep.model.training import companion_paths, train_arrays
from turbosim_hep.model.validation import validate

torch.set_num_threads(1)

SMALL = {"encoder_hidden": (32, 32), "decoder_hidden": (32, 32), "critic_hidden": (32,), "val_events": 500}


def toy_pairs(n: int, seed: int = 0):
    """z Gaussian [GeV], x = a fixed linear map of z plus Gaussian noise; event ids 0..n-1."""
    rng = np.random.default_rng(seed)
    z = (rng.normal(size=(n, 24)) * 30 + 10).astype(np.float32)
    a = np.random.default_rng(99).normal(size=(24, 24)) / np.sqrt(24)
    x = (z @ a + rng.normal(size=(n, 24)) * 5 + 20).astype(np.float32)
    return z, x, np.arange(n)


def test_short_training_brings_simulated_x_close_to_truth(tmp_path):
    z, x, event = toy_pairs(4000)
    cfg = TurboSimConfig.preset("pix2pix", lr=1e-3, batch_size=128, steps_per_epoch=150, **SMALL)
    val = (slice(3000, 3500),)
    z_norm, x_norm = Normalisation.fit(z[:3000]), Normalisation.fit(x[:3000])
    untrained = Trainer(z_norm.normalise(z[:10]), x_norm.normalise(x[:10]), config=cfg, device="cpu").model
    before = validate(
        untrained,
        z[val],
        x[val],
        z_norm=z_norm,
        x_norm=x_norm,
        generator=torch.Generator().manual_seed(0),
        physics=False,
    )
    out = train_arrays(z, x, 1, event, config=cfg, epochs=2, out=tmp_path / "m.pt", physics=False, device="cpu")
    lines = [json.loads(s) for s in companion_paths(out)["metrics"].read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    mean_ks_before = np.mean(before["ks"]["x_tilde"])
    mean_ks_after = np.mean(lines[-1]["validation"]["ks"]["x_tilde"])
    assert mean_ks_before > 0.2
    assert mean_ks_after < 0.1
    assert lines[-1]["train"]["l_x_xtilde"] < lines[0]["train"]["l_x_xtilde"]


def _run(tmp_path, name, epochs, resume=False, **over):
    z, x, event = toy_pairs(1500, seed=1)
    cfg = TurboSimConfig.preset(
        "turbo", batch_size=32, steps_per_epoch=15, d_zhat=1.0, layer_noise=True, **SMALL, **over
    )
    return train_arrays(
        z, x, 7, event, config=cfg, epochs=epochs, out=tmp_path / name, resume=resume, physics=False, device="cpu"
    )


def test_two_epochs_equal_one_epoch_then_resume_bit_for_bit(tmp_path):
    straight = _run(tmp_path, "a.pt", 2)
    _run(tmp_path, "b.pt", 1)
    resumed = _run(tmp_path, "b.pt", 2, resume=True)
    a = read_checkpoint(companion_paths(straight)["last"])
    b = read_checkpoint(companion_paths(resumed)["last"])
    assert a["state"]["epoch"] == b["state"]["epoch"] == 2
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    opt_a, opt_b = a["state"]["optimisers"]["generator"]["state"], b["state"]["optimisers"]["generator"]["state"]
    assert all(torch.equal(opt_a[i]["exp_avg"], opt_b[i]["exp_avg"]) for i in opt_a)
    metrics_b = companion_paths(resumed)["metrics"].read_text().splitlines()
    assert [json.loads(s)["epoch"] for s in metrics_b] == [1, 2]


def test_starting_afresh_over_an_existing_run_is_refused(tmp_path):
    _run(tmp_path, "c.pt", 1)
    with pytest.raises(FileExistsError, match="resume=True"):
        _run(tmp_path, "c.pt", 1)


def test_resume_with_other_data_is_refused(tmp_path):
    _run(tmp_path, "d.pt", 1)
    z, x, event = toy_pairs(1500, seed=2)
    with pytest.raises(ValueError, match="other data"):
        train_arrays(z, x, 7, event, epochs=2, out=tmp_path / "d.pt", resume=True, physics=False, device="cpu")


def test_validation_reports_physics_columns_from_the_reconstruction(monkeypatch):
    fake = types.ModuleType("turbosim_hep.physics.reconstruction")

    def reconstruct_features(features, *, level="reco"):
        s = np.asarray(features, dtype=np.float64).sum(axis=1)
        return {"m_tt": s, "m_w_had": s * 2, "m_t_lep": s + 1, "m_t_had": -s}

    fake.reconstruct_features = reconstruct_features
    monkeypatch.setitem(sys.modules, "turbosim_hep.physics.reconstruction", fake)
    z, x, _ = toy_pairs(300)
    cfg = TurboSimConfig(**SMALL)
    model = Trainer(z, x, config=cfg, device="cpu").model
    zn, xn = Normalisation.fit(z), Normalisation.fit(x)
    res = validate(model, z, x, z_norm=zn, x_norm=xn, generator=torch.Generator().manual_seed(0))
    assert set(res["physics"]) == {"m_tt", "m_w_had", "m_t_lep", "m_t_had"}
    assert all(0 < v <= 1 for v in res["physics"].values())
    assert res["ks_sum"] == pytest.approx(sum(res["ks_group"].values()))
    assert all(len(v) == 24 for v in res["ks"].values())


def test_a_trained_checkpoint_simulates_in_gev_with_the_saved_normalisation(tmp_path):
    from turbosim_hep.events.features import reco_as_stored
    from turbosim_hep.model.transform import TurboSimTransform
    from turbosim_hep.simulation.noise import STREAMS, event_noise, row_keys

    out = _run(tmp_path, "e.pt", 1)
    tf = TurboSimTransform.load(out, device="cpu", seed=4)
    loaded = tf.loaded
    z, _, _ = toy_pairs(50, seed=1)
    event = np.arange(50, dtype=np.uint64)
    x1 = tf.simulate_features(z, event=event)
    assert x1.shape == (50, 24) and np.array_equal(x1, tf.simulate_features(z, event=event))
    ones = np.ones(50, dtype=np.uint32)
    noise = event_noise(row_keys(4, STREAMS["simulate"], ones, ones, event, 0), loaded.model.decoder.noise_dim)
    z_norm = torch.from_numpy(((z - loaded.z_mean) / loaded.z_std).astype(np.float32))
    with torch.no_grad():
        manual = loaded.model.decoder(z_norm, torch.from_numpy(noise)).double().numpy()
    assert np.allclose(x1, reco_as_stored(manual * loaded.x_std + loaded.x_mean), rtol=1e-4, atol=1e-3)


def test_layer_noise_scales_start_away_from_zero_move_and_are_not_weight_decayed():
    z, x, _ = toy_pairs(600, seed=3)
    cfg = TurboSimConfig.preset(
        "pix2pix", layer_noise=True, layer_noise_init=0.1, weight_decay=1e-2, lr=1e-2, batch_size=64, **SMALL
    )
    z_norm, x_norm = Normalisation.fit(z), Normalisation.fit(x)
    trainer = Trainer(z_norm.normalise(z), x_norm.normalise(x), config=cfg, device="cpu")
    scales = {n: p for n, p in trainer.model.named_parameters() if n.startswith("decoder.") and n.endswith(".scale")}
    assert scales and all(torch.all(p == 0.1) for p in scales.values())
    start = {n: p.detach().clone() for n, p in scales.items()}
    for _ in range(20):
        trainer.step()
    assert all(not torch.allclose(p, start[n]) for n, p in scales.items())
    decay = {id(p): g["weight_decay"] for g in trainer.gen_opt.param_groups for p in g["params"]}
    assert all(decay[id(p)] == 0.0 for p in scales.values())
    assert max(decay.values()) == 1e-2


def test_cosine_schedule_runs_from_lr_down_to_a_twentieth():
    z, x, _ = toy_pairs(100)
    cfg = TurboSimConfig.preset("pix2pix", lr=1e-3, lr_schedule="cosine", **SMALL)
    trainer = Trainer(z, x, config=cfg, device="cpu")
    lrs = []
    for epoch in range(1, 6):
        trainer.set_epoch(epoch, 5)
        lrs.append(trainer.gen_opt.param_groups[0]["lr"])
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(5e-5)
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))


def test_physics_preset_trains_and_its_checkpoint_simulates_physical_jets(tmp_path):
    from turbosim_hep.model.transform import TurboSimTransform

    z, x, event = toy_pairs(1200, seed=4)
    z[:, 3::4] = np.sqrt((z.reshape(-1, 6, 4)[..., :3] ** 2).sum(-1)) + 5  # physical energies
    cfg = TurboSimConfig.preset("physics", steps_per_epoch=10, batch_size=64, val_events=200)
    out = train_arrays(z, x, 1, event, config=cfg, epochs=2, out=tmp_path / "p.pt", physics=False, device="cpu")
    lines = [json.loads(s) for s in companion_paths(out)["metrics"].read_text().splitlines()]
    assert {"selection", "criterion"} <= set(lines[-1]["validation"])
    assert lines[-1]["validation"]["criterion"]["score"] == pytest.approx(lines[-1]["validation"]["selection"])
    tf = TurboSimTransform.load(out, device="cpu")
    sim = tf.simulate_features(z[:300], event=np.arange(300)).astype(np.float64).reshape(-1, 6, 4)
    jets = sim[:, 2:]
    assert np.all(jets[..., 3] ** 2 > (jets[..., :3] ** 2).sum(-1))
    assert np.all(np.diff(np.hypot(jets[..., 0], jets[..., 1]), axis=1) <= 0)


def test_weight_average_resumes_bit_for_bit_and_is_what_the_best_model_holds(tmp_path):
    straight = _run(tmp_path, "e.pt", 2, ema=0.9, patience=100)
    _run(tmp_path, "f.pt", 1, ema=0.9, patience=100)
    resumed = _run(tmp_path, "f.pt", 2, resume=True, ema=0.9, patience=100)
    a = read_checkpoint(companion_paths(straight)["last"])
    b = read_checkpoint(companion_paths(resumed)["last"])
    assert all(torch.equal(u, v) for u, v in zip(a["state"]["ema"], b["state"]["ema"], strict=True))
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    names = [n for n in a["model"] if n.startswith(("encoder.", "decoder.")) and not n.endswith(("_mean", "_std"))]
    assert len(names) == len(a["state"]["ema"])
    # the last file holds the raw weights beside their average; the best file holds the average (as validated)
    assert not all(torch.equal(a["model"][n], e) for n, e in zip(names, a["state"]["ema"], strict=True))
    best = read_checkpoint(straight)
    assert all(torch.equal(best["model"][n], e) for n, e in zip(names, best["state"]["ema"], strict=True))


def test_beam_flip_batches_hold_events_and_their_rotated_copies():
    """With beam_flip a batch row is the training event or its copy rotated by π about the x axis (p_y, p_z negated
    in GeV on both sides of the pair), about half of each; the batches are seeded; off, batches are untouched."""
    z, x, _ = toy_pairs(50)
    z_norm, x_norm = Normalisation.fit(z), Normalisation.fit(x)
    cfg = TurboSimConfig.preset("physics", batch_size=4000, beam_flip=True)
    trainer = Trainer(z_norm.normalise(z), x_norm.normalise(x), config=cfg, device="cpu", z_norm=z_norm, x_norm=x_norm)
    zb, xb = (t.double().numpy() for t in trainer._batch())
    z_gev, x_gev = z_norm.denormalise(zb), x_norm.denormalise(xb)
    sign = np.tile([1.0, -1.0, -1.0, 1.0], 6)
    # each row is an event of the sample, as is or flipped, the same way on both sides
    dz = np.abs(z_gev[:, None, :] - z[None]).max(-1)
    dz_flip = np.abs(z_gev[:, None, :] * sign - z[None]).max(-1)
    as_is, flipped = dz.min(1) < 1e-3, dz_flip.min(1) < 1e-3
    assert np.all(as_is | flipped) and 0.45 < flipped.mean() < 0.55
    rows = np.where(as_is, dz.argmin(1), dz_flip.argmin(1))
    x_back = np.where(flipped[:, None], x_gev * sign, x_gev)
    assert np.allclose(x_back, x[rows], atol=1e-3)
    again = Trainer(z_norm.normalise(z), x_norm.normalise(x), config=cfg, device="cpu", z_norm=z_norm, x_norm=x_norm)
    assert torch.equal(again._batch()[0], torch.from_numpy(zb).float())
    plain = Trainer(
        z_norm.normalise(z), x_norm.normalise(x), config=TurboSimConfig.preset("physics", batch_size=4000),
        device="cpu", z_norm=z_norm, x_norm=x_norm,
    )  # fmt: skip
    zp, _ = plain._batch()
    assert np.abs(z_norm.denormalise(zp.double().numpy())[:, None, :] - z[None]).max(-1).min(1).max() < 1e-3
