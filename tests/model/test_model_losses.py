import pytest
import torch

from turbosim_hep.model.config import TERMS, TurboSimConfig
from turbosim_hep.model.losses import supervised_loss
from turbosim_hep.model.turbosim import TurboSim

torch.set_num_threads(1)

#: Which networks each term trains.
TRAINS = {
    "l_z_ztilde": {"encoder"},
    "d_ztilde": {"encoder"},
    "l_x_xhat": {"encoder", "decoder"},
    "d_xhat": {"encoder", "decoder"},
    "l_x_xtilde": {"decoder"},
    "d_xtilde": {"decoder"},
    "l_z_zhat": {"encoder", "decoder"},
    "d_zhat": {"encoder", "decoder"},
}
SMALL = {"encoder_hidden": (16, 8), "decoder_hidden": (8, 16), "critic_hidden": (8,)}
ALL_ON = dict.fromkeys(TERMS, 1.0)


def _batch():
    g = torch.Generator().manual_seed(3)
    return torch.randn(32, 24, generator=g), torch.randn(32, 24, generator=g)


def _grads(model, z, x):
    model.zero_grad(set_to_none=True)
    loss, terms = model.generator_loss(z, x, generator=torch.Generator().manual_seed(5))
    loss.backward()
    return {n: (p.grad.clone() if p.grad is not None else torch.zeros_like(p)) for n, p in model.named_parameters()}


@pytest.mark.parametrize("term", TERMS)
def test_each_term_alone_trains_exactly_its_networks_and_builds_only_its_critic(term):
    cfg = TurboSimConfig(**{**dict.fromkeys(TERMS, 0.0), term: 1.0}, **SMALL)
    model = TurboSim(cfg)
    expected_critics = {term.removeprefix("d_").replace("tilde", "_tilde").replace("hat", "_hat")}
    assert set(model.critics) == (expected_critics if term.startswith("d_") else set())
    z, x = _batch()
    loss, terms = model.generator_loss(z, x)
    assert set(terms) == {term}
    loss.backward()
    trained = {
        net
        for net in ("encoder", "decoder")
        if any(p.grad is not None and p.grad.abs().sum() > 0 for p in getattr(model, net).parameters())
    }
    assert trained == TRAINS[term]


@pytest.mark.parametrize("term", TERMS)
def test_switching_a_term_off_removes_exactly_its_gradient(term):
    # Without noise the passes are deterministic, so gradients add up term by term.
    quiet = {**SMALL, "input_noise": 0.0}
    full = TurboSim(TurboSimConfig(**ALL_ON, **quiet))
    without = TurboSim(TurboSimConfig(**{**ALL_ON, term: 0.0}, **quiet))
    alone = TurboSim(TurboSimConfig(**{**dict.fromkeys(TERMS, 0.0), term: 1.0}, **quiet))
    for m in (without, alone):
        m.load_state_dict(full.state_dict(), strict=False)
    z, x = _batch()
    g_full, g_without, g_alone = _grads(full, z, x), _grads(without, z, x), _grads(alone, z, x)
    for name in g_full:
        if name.startswith(("encoder", "decoder")):
            assert torch.allclose(g_full[name] - g_without[name], g_alone[name], atol=1e-5), name


def test_total_is_the_weighted_sum_of_the_reported_terms():
    cfg = TurboSimConfig(**SMALL)
    loss, terms = TurboSim(cfg).generator_loss(*_batch(), generator=torch.Generator().manual_seed(0))
    assert set(terms) == set(cfg.active_terms)
    assert torch.allclose(loss, sum(cfg.weight(k) * v for k, v in terms.items()))


def test_supervised_terms_compare_the_same_events():
    z = torch.arange(12.0).reshape(4, 3)
    assert supervised_loss(z, z) == 0
    assert supervised_loss(z.flip(0), z) > 0
    assert supervised_loss(z + 2, z, kind="laplace") == pytest.approx(2.0)
    assert supervised_loss(z + 2, z, kind="gaussian") == pytest.approx(4.0)


def test_critic_loss_trains_only_critics_and_not_the_generators():
    model = TurboSim(TurboSimConfig(critic_mode="wasserstein", **SMALL))
    loss, parts = model.critic_loss(*_batch(), generator=torch.Generator().manual_seed(0))
    assert set(parts) == {"z_tilde", "x_hat", "x_tilde"}
    loss.backward()
    assert all(p.grad is None for p in model.generator_parameters())
    assert all(p.grad is not None for p in model.critics.parameters())


def test_density_ratio_mode_gives_finite_bce_losses():
    model = TurboSim(TurboSimConfig(critic_mode="density-ratio", **SMALL))
    c_loss, _ = model.critic_loss(*_batch())
    g_loss, terms = model.generator_loss(*_batch())
    assert torch.isfinite(c_loss) and c_loss > 0 and torch.isfinite(g_loss)
    assert all(terms[t] > 0 for t in ("d_ztilde", "d_xhat", "d_xtilde"))
