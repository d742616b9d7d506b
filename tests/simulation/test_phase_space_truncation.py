"""The truncated decoder: the torch phase-space check agrees with the scorecard's, redraws are keyed and counted."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import toy_features
from turbosim_hep.evaluation.phase_space import phase_space_violations
from turbosim_hep.model.config import TurboSimConfig
from turbosim_hep.model.turbosim import TurboSim
from turbosim_hep.simulation.phase_space import PhaseSpaceBounds, inside_phase_space
from turbosim_hep.simulation.redraw import draw_inside


def _boundary_events(n: int, seed: int = 0) -> np.ndarray:
    """(n, 24) [GeV] detector events whose objects sit near every boundary of the phase space."""
    rng = np.random.default_rng(seed)
    pt = rng.uniform(20.5, 200.0, (n, 5))
    edge = rng.random((n, 5)) < 0.04  # a few objects right at (or below) a pT threshold
    pt[edge] = rng.choice([9.99, 10.01, 19.99, 20.01, 15.0, 21.6, 22.8, 23.0], size=edge.sum())
    eta = rng.normal(0.0, 2.0, (n, 5))
    eta[:, 0] = rng.uniform(-2.6, 2.6, n)
    phi = rng.uniform(-np.pi, np.pi, (n, 5))
    close = rng.random(n) < 0.15  # put the second jet near the first, or the electron near a jet
    eta[close, 2] = eta[close, 1] + rng.normal(0, 0.35, close.sum())
    phi[close, 2] = phi[close, 1] + rng.normal(0, 0.35, close.sum())
    near_e = rng.random(n) < 0.1
    eta[near_e, 0] = np.clip(eta[near_e, 3] + rng.normal(0, 0.3, near_e.sum()), -2.4, 2.4)
    phi[near_e, 0] = phi[near_e, 3] + rng.normal(0, 0.3, near_e.sum())
    mass = rng.uniform(0, 15, (n, 5))
    mass[:, 0] = 0.000511
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    obj = np.stack([px, py, pz, e], -1)
    order = np.argsort(-pt[:, 1:], axis=1)
    obj[:, 1:] = np.take_along_axis(obj[:, 1:], order[..., None], 1)
    met = np.zeros((n, 1, 4))
    met[:, 0, 0] = 30.0
    met[:, 0, 3] = 30.0
    return np.concatenate([obj[:, :1], met, obj[:, 1:]], 1).reshape(n, 24)


def test_torch_check_equals_the_selection_based_one_on_boundary_events():
    x = _boundary_events(4000)
    inside = inside_phase_space(torch.from_numpy(x)).numpy()
    assert 0.1 < inside.mean() < 0.9  # the sample straddles the boundaries
    outside = np.array([phase_space_violations(x[i : i + 1])["outside"] for i in range(0, 400)])
    np.testing.assert_array_equal(inside[:400], outside == 0.0)
    assert np.isclose(1 - inside.mean(), phase_space_violations(x)["outside"])


def _inside_one_cut_at_a_time(x: torch.Tensor, b: PhaseSpaceBounds) -> torch.Tensor:
    """The check written plainly, one reduction per cut and one jet pair at a time (the oracle of the fast one)."""
    p = x.float().reshape(-1, 6, 4)
    px, py, pz, e = p[:, [0, 2, 3, 4, 5]].unbind(-1)
    pt = torch.sqrt(px * px + py * py)
    ratio = pz / pt.clamp_min(1e-12)
    eta = torch.sign(ratio) * torch.log(ratio.abs() + torch.sqrt(ratio * ratio + 1.0))
    phi = torch.atan2(py, px)
    ok = torch.isfinite(p).all(dim=(1, 2)) & (e >= torch.sqrt(px * px + py * py + pz * pz) * (1.0 - 1e-5)).all(1)
    ok &= (pt[:, 1:] >= b.jet_pt_min).all(1) & (eta[:, 1:].abs() <= b.calo_eta_max).all(1)
    if b.jet_scale_a or b.jet_scale_b:
        ok &= (pt[:, 1:] >= b.jet_pt_threshold(eta[:, 1:].abs().clamp_max(b.calo_eta_max))).all(1)
    ok &= (pt[:, 0] >= b.electron_pt_min) & (eta[:, 0].abs() <= b.track_eta_max)

    def dr2(a1, p1, a2, p2):
        return (a1 - a2) ** 2 + (torch.remainder(p1 - p2 + torch.pi, 2.0 * torch.pi) - torch.pi) ** 2

    y = 0.5 * torch.log((e + pz)[:, 1:].clamp_min(1e-30) / (e - pz)[:, 1:].clamp_min(1e-30))
    for i in range(4):
        for j in range(i + 1, 4):
            ok &= dr2(y[:, i], phi[:, 1 + i], y[:, j], phi[:, 1 + j]) >= b.jet_r**2
    return ok & (dr2(eta[:, :1], phi[:, :1], eta[:, 1:], phi[:, 1:]) >= b.electron_jet_dr**2).all(1)


@pytest.mark.parametrize("bounds", [PhaseSpaceBounds(), PhaseSpaceBounds(jet_scale_a=0.0, jet_scale_b=0.0, jet_r=0.4)])
def test_the_check_equals_one_cut_at_a_time_on_boundary_and_non_finite_events(bounds):
    x = _boundary_events(20_000, seed=7)
    rng = np.random.default_rng(8)
    x[rng.integers(0, len(x), 300), rng.integers(0, 24, 300)] = rng.choice([np.nan, np.inf, -np.inf, 0.0], 300)
    x = torch.from_numpy(x)
    for rows in (slice(None), slice(0, 3)):
        assert torch.equal(inside_phase_space(x[rows], bounds), _inside_one_cut_at_a_time(x[rows], bounds))


def test_bounds_come_from_the_detector_card():
    from turbosim_hep.generation.detector_card import DetectorCard

    b = PhaseSpaceBounds.from_card(DetectorCard().replace(jet_r=0.4))
    assert b.jet_r == 0.4 and b.jet_pt_min == DetectorCard().jet_pt_min
    assert PhaseSpaceBounds.from_tensor(b.as_tensor()) == b


def test_draw_inside_redraws_only_the_events_outside_and_counts():
    z = torch.linspace(0, 1, 100)
    calls = []

    def draw(rows, attempt):  # event i is inside from attempt i % 5 on: a jet pT of 25 GeV, else 5 GeV
        idx = torch.arange(100) if rows is None else rows
        calls.append(len(idx))
        pt = torch.where(idx % 5 <= attempt, 25.0, 5.0)
        x = torch.from_numpy(_boundary_events(len(idx), 3)).float()
        x = x.reshape(-1, 6, 4)
        x[:, 0] = torch.tensor([30.0, 0.0, 0.0, 30.0])  # an isolated central electron
        for k, phi in enumerate((0.5, 2.0, 3.5, 5.0)):
            x[:, 2 + k] = torch.stack([pt * np.cos(phi), pt * np.sin(phi), torch.zeros_like(pt), pt], -1)
        return x.reshape(-1, 24) + 0 * z[idx, None]

    x, used = draw_inside(draw, 100, PhaseSpaceBounds(), attempts=3)
    assert calls == [100, 80, 60]  # only the events still outside are redrawn
    np.testing.assert_array_equal(used.numpy(), np.minimum(np.arange(100) % 5, 2) + 1)
    inside = inside_phase_space(x).numpy()
    np.testing.assert_array_equal(inside, np.arange(100) % 5 <= 2)  # the rest keep their last (outside) draw
    with pytest.raises(ValueError, match="attempts"):
        draw_inside(draw, 100, PhaseSpaceBounds(), attempts=0)


def _truncated_model(**over) -> TurboSim:
    cfg = TurboSimConfig.preset("physics", truncate=True, event_noise=4, radiation=True, **over)
    model = TurboSim(cfg)
    with torch.no_grad():  # random heads: a decoder far from jets = quarks, so many first draws fall outside
        for m in model.decoder.modules():
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.normal_(m.weight, 0.0, 0.15)
    return model


def test_the_last_events_drawn_all_at_once_keep_the_draws_one_at_a_time_would():
    def draw(rows, attempt):  # a pure function of (event, attempt), as keyed noise is: event i gets inside at i % 7
        idx = torch.arange(60) if rows is None else rows
        pt = torch.where(idx % 7 <= attempt, 25.0, 5.0) + 0.01 * idx + 0.001 * attempt
        x = torch.zeros(len(idx), 6, 4)
        x[:, 0] = torch.tensor([30.0, 0.0, 0.0, 30.0])
        for k, phi in enumerate((0.5, 2.0, 3.5, 5.0)):
            x[:, 2 + k] = torch.stack([pt * np.cos(phi), pt * np.sin(phi), torch.zeros_like(pt), pt], -1)
        return x.reshape(-1, 24)

    one, used_one = draw_inside(draw, 60, PhaseSpaceBounds(), attempts=5)
    for below in (10, 40, 61):  # from attempt 3, 1 and 1 on: 9, 51 and 51 events left
        at_once, used = draw_inside(draw, 60, PhaseSpaceBounds(), attempts=5, all_at_once_below=below)
        assert torch.equal(at_once, one) and torch.equal(used, used_one)
    np.testing.assert_array_equal(used_one.numpy(), np.minimum(np.arange(60) % 7, 4) + 1)


def test_training_scores_truncated_draws_with_gradients():
    model = _truncated_model()
    z = torch.from_numpy(toy_features(256, np.random.default_rng(1)))
    x = torch.from_numpy(toy_features(256, np.random.default_rng(2), massless=True))
    model.set_normalisation(z.mean(0), z.std(0), x.mean(0), x.std(0))
    z_n, x_n = (z - z.mean(0)) / z.std(0), (x - x.mean(0)) / x.std(0)
    g = torch.Generator().manual_seed(0)
    x_tilde = model._decode(z_n, g)
    inside = inside_phase_space(model.x_to_gev(x_tilde)).float().mean()
    untruncated = model.decoder.in_gev()(z, torch.randn(256, model.decoder.noise_dim, generator=g))
    assert inside > inside_phase_space(untruncated).float().mean() + 0.1
    loss, values = model.generator_loss(z_n, x_n, generator=g)
    assert "lost_quarks" in values and torch.isfinite(loss)
    loss.backward()
    assert model.decoder.radiation_response[-1].weight.grad.abs().sum() > 0
    assert model.decoder.lost[-1].weight.grad.abs().sum() > 0


def test_conditional_critic_trains_on_pairs():
    model = TurboSim(TurboSimConfig.preset("physics", conditional_critic=True, d_xtilde=0.1, critic_steps=1))
    assert getattr(model.critics["x_tilde"], "conditional", False)
    z = torch.from_numpy(toy_features(64, np.random.default_rng(1)))
    x = torch.from_numpy(toy_features(64, np.random.default_rng(2), massless=True))
    model.set_normalisation(z.mean(0), z.std(0), x.mean(0), x.std(0))
    z_n, x_n = (z - z.mean(0)) / z.std(0), (x - x.mean(0)) / x.std(0)
    c_loss, _ = model.critic_loss(z_n, x_n, generator=torch.Generator().manual_seed(0))
    c_loss.backward()
    assert torch.isfinite(c_loss)
    first = model.critics["x_tilde"].net.net[0].weight.grad
    assert first[:, 24:48].abs().sum() > 0  # the critic reads the parton event
    loss, values = model.generator_loss(z_n, x_n, generator=torch.Generator().manual_seed(0))
    assert "d_xtilde" in values and torch.isfinite(loss)


def test_old_configs_load_without_the_new_fields():
    old = TurboSimConfig.preset("physics").to_dict()
    for key in ("event_noise", "truncate", "redraw_attempts", "radiation", "conditional_critic"):
        old.pop(key)
    cfg = TurboSimConfig.from_dict(old)
    assert not cfg.truncate and cfg.event_noise == 0 and not cfg.radiation
    model = TurboSim(cfg)
    assert model.decoder.phase_space is None and model.decoder.noise_dim == 5 * 8 + 8


def test_simulate_redraws_with_keyed_noise_independent_of_the_batching(tmp_path):
    from turbosim_hep.model.checkpoint import save_checkpoint
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.transform import TurboSimTransform

    model = _truncated_model(seed=3)
    rng = np.random.default_rng(4)
    z = toy_features(3000, rng).astype(np.float64)
    x = toy_features(3000, rng, massless=True).astype(np.float64)
    path = tmp_path / "truncated.pt"
    save_checkpoint(
        path, model=model, z_norm=Normalisation(z.mean(0), z.std(0)), x_norm=Normalisation(x.mean(0), x.std(0)),
        provenance={"files": [], "note": "untrained truncated test model"},
    )  # fmt: skip
    zf = toy_features(1500, np.random.default_rng(5))
    zf[:, 8:24] *= 3.0  # harder quarks: most events can reach the phase space
    zf[:, 11::4] = np.sqrt((zf.reshape(-1, 6, 4)[:, 2:, :3] ** 2).sum(-1) + 1.0).reshape(-1, 4)[:, :]
    event = np.arange(10, 1510)
    big = TurboSimTransform.load(path, batch_size=65536)
    small = TurboSimTransform.load(path, batch_size=97)
    a = big.simulate_features(zf, event=event)
    b = small.simulate_features(zf, event=event)
    # the noise of every redraw is keyed on the event, not on its position (equal up to the matmul's rounding)
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=0.05)
    assert big.redraws.events == 1500 and big.redraws.draws > 1500  # an untrained model redraws
    inside = inside_phase_space(torch.from_numpy(a)).numpy()
    capped = big.redraws.at_cap
    assert (~inside).sum() <= capped  # only events that used every attempt may remain outside
    first = big.redraws.draws
    again = big.simulate_features(zf[:10], event=event[:10])
    np.testing.assert_allclose(again, a[:10], rtol=1e-3, atol=0.05)
    assert big.redraws.events == 1510 and big.redraws.draws > first
    assert big.redraws.as_dict()["redraw_rate"] == pytest.approx((big.redraws.draws - 1510) / 1510)


def test_one_object_cuts_hold_by_construction_in_a_truncated_decoder():
    from turbosim_hep.evaluation.phase_space import outside_masks

    model = _truncated_model()
    z = torch.from_numpy(toy_features(3000, np.random.default_rng(8)))
    x = model.decoder.in_gev()(z, torch.randn(3000, model.decoder.noise_dim)).detach().numpy()
    masks = outside_masks(x)
    for condition in ("jet_below_threshold", "jet_outside_calorimeter", "electron_outside"):
        assert masks[condition].mean() < 2e-3, condition  # float32 rounding at the edge at most
    assert masks["jets_overlap"].mean() > 0.01  # the pairwise cuts are left to the redraws


def test_the_jet_threshold_is_the_jet_finders_after_the_energy_scale():
    from turbosim_hep.generation.jets import jet_energy_scale
    from turbosim_hep.physics.jet_energy_scale import scaled_jet_pt_threshold

    b = PhaseSpaceBounds.from_card()
    eta = np.array([0.0, 1.0, 2.5, 4.9])
    thr = scaled_jet_pt_threshold(eta, 20.0, 2.5, 0.15)
    # a jet clustered at exactly 20 GeV comes out of the energy scale at the threshold
    clustered = np.stack([np.full(4, 20.0), np.zeros(4), 20.0 * np.sinh(eta), 20.0 * np.cosh(eta)], -1)
    np.testing.assert_allclose(np.hypot(*jet_energy_scale(clustered)[:, :2].T), thr, rtol=1e-12)
    assert thr[0] == pytest.approx(22.913, abs=1e-3) and np.all(np.diff(thr) < 0)
    assert torch.allclose(b.jet_pt_threshold(torch.from_numpy(eta)), torch.from_numpy(thr))
    assert PhaseSpaceBounds.from_card(scaled_jet_threshold=False).jet_pt_threshold(torch.tensor(0.0)) == 20.0
    assert PhaseSpaceBounds.from_tensor(b.as_tensor()) == b
    assert PhaseSpaceBounds.from_tensor(b.as_tensor()[:6]).jet_scale_a == 0.0  # a (6,) export predates the scale

    def event(j4_pt: float) -> list[float]:
        objs = [(30.0, 0.0, np.pi / 4, 0.000511), (80.0, 0.0, np.pi, 5.0), (60.0, 1.0, -np.pi / 2, 5.0),
                (40.0, -1.0, 0.0, 5.0), (j4_pt, 0.0, np.pi / 2, 3.0)]  # fmt: skip
        p4 = [[pt * np.cos(f), pt * np.sin(f), pt * np.sinh(h), np.hypot(pt * np.cosh(h), m)] for pt, h, f, m in objs]
        return [*p4[0], 30.0, 0.0, 0.0, 30.0, *np.ravel(p4[1:])]

    x = np.array([event(21.0), event(24.0)])  # the softest jet at η = 0: above 20 GeV, below / above 22.9 GeV
    clustered_only = PhaseSpaceBounds.from_card(scaled_jet_threshold=False)
    ok = inside_phase_space(torch.from_numpy(x))
    assert inside_phase_space(torch.from_numpy(x), clustered_only).all()
    assert ok.tolist() == [False, True]
    assert phase_space_violations(x[:1])["shares"]["jet_below_threshold"] == 1.0
    assert phase_space_violations(x[1:])["shares"]["jet_below_threshold"] == 0.0


def test_the_decoder_reflects_jets_above_the_scaled_threshold_and_old_models_keep_theirs():
    cfg = TurboSimConfig.preset("physics", encoder_hidden=(16,))
    model = TurboSim(cfg).decoder
    assert model.phase_space == PhaseSpaceBounds.from_card()
    z = torch.from_numpy(toy_features(2000, np.random.default_rng(4))).float()
    with torch.no_grad():
        for p in model.parameters():  # a wide response: many jets pushed below every threshold
            p.normal_(0.0, 0.3)
        x = model.in_gev()(z).double().numpy()
    jets = x[:, 8:].reshape(-1, 4, 4)
    pt = np.hypot(jets[..., 0], jets[..., 1])
    eta = np.arcsinh(jets[..., 2] / pt)
    thr = model.phase_space.jet_pt_threshold(torch.from_numpy(np.abs(eta))).numpy()
    assert (pt >= thr * (1 - 1e-5)).all()
    assert (pt < 1.2 * thr).mean() > 0.01  # and the density reaches the edge
    old = TurboSimConfig.from_dict({k: v for k, v in cfg.to_dict().items() if k != "scaled_jet_threshold"})
    assert not old.scaled_jet_threshold and cfg.scaled_jet_threshold
    assert TurboSim(old).decoder.phase_space.jet_scale_a == 0.0


def test_redraw_keys_take_one_attempt_per_key():
    from turbosim_hep.simulation.noise import redraw_keys

    keys = np.arange(1, 9, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    attempts = np.array([0, 1, 2, 3, 0, 5, 31, 1])
    want = [redraw_keys(keys[i : i + 1], int(a))[0] for i, a in enumerate(attempts)]
    np.testing.assert_array_equal(redraw_keys(keys, attempts), np.array(want, dtype=np.uint64))
