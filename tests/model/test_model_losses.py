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


def test_response_observables_match_the_scorecards_pair_features():
    import numpy as np

    from tests.conftest import toy_features
    from turbosim_hep.evaluation.features import pair_features
    from turbosim_hep.model.observables import RESPONSE_GROUPS, response_observables

    rng = np.random.default_rng(3)
    z, x = toy_features(300, rng), toy_features(300, rng)
    got = response_observables(torch.from_numpy(x).double(), torch.from_numpy(z).double())
    assert set(got) == set(RESPONSE_GROUPS)
    feats, names = pair_features(z, x)
    names = list(names)
    for quark in ("b", "bbar", "u", "dbar"):
        np.testing.assert_allclose(got[f"{quark}_response"][:, 0].numpy(), feats[:, names.index(f"dr_{quark}_jet")],
                                   atol=1e-6)  # fmt: skip
        np.testing.assert_allclose(
            np.exp(got[f"{quark}_response"][:, 1].numpy()), feats[:, names.index(f"ratio_{quark}_jet")], rtol=1e-6
        )
    same = response_observables(torch.from_numpy(z), torch.from_numpy(z))
    assert torch.allclose(same["electron_response"], torch.zeros(300, 3), atol=1e-5)


def test_response_score_enters_the_simulation_term_and_trains_the_decoder():
    import numpy as np

    from tests.conftest import toy_features

    cfg = TurboSimConfig.preset("physics", encoder_hidden=(16,))
    rng = np.random.default_rng(5)
    z, x = (torch.from_numpy(toy_features(128, rng)).float() for _ in range(2))
    values = {}
    for weight in (0.0, 1.0):
        model = TurboSim(cfg.replace(energy_response=weight), generator=torch.Generator().manual_seed(0))
        model.set_normalisation(z.mean(0), z.std(0), x.mean(0), x.std(0))
        zn, xn = (z - z.mean(0)) / z.std(0), (x - x.mean(0)) / x.std(0)
        _, terms = model.generator_loss(zn, xn, generator=torch.Generator().manual_seed(1))
        values[weight] = terms["l_x_xtilde"]
        if weight:
            terms["l_x_xtilde"].backward()
            assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.decoder.responses.parameters())
    assert values[1.0] > values[0.0]  # same draws, plus a positive energy score of the response


def _balanced_events(z: torch.Tensor, generator: torch.Generator, *, shuffle_met: bool = False) -> torch.Tensor:
    """Detector events from partons ``z`` (n, 24): each visible object's momentum times a log-normal response (σ 0.2),
    the missing pT the neutrino's minus the visible objects' mismeasurement (as a calorimeter's resolution makes it);
    ``shuffle_met``: the missing pT's residual taken from another event (the same marginal, no correlation)."""
    objects = z.reshape(-1, 6, 4).clone()
    response = torch.exp(0.2 * torch.randn(len(objects), 6, 1, generator=generator, dtype=z.dtype))
    response[:, 1] = 1.0
    reco = objects * response
    residual = -(reco - objects)[:, [0, 2, 3, 4, 5], :2].sum(1)
    if shuffle_met:
        residual = residual[torch.randperm(len(residual), generator=generator)]
    reco[:, 1, :2] = objects[:, 1, :2] + residual
    return reco.reshape(-1, 24)


def test_balance_groups_hold_each_objects_ratio_beside_the_met_along_it_and_see_their_correlation():
    import numpy as np

    from tests.conftest import toy_features
    from turbosim_hep.model.losses import response_score
    from turbosim_hep.model.observables import BALANCE_GROUPS, RESPONSE_GROUPS, response_observables

    g = torch.Generator().manual_seed(0)
    z = torch.from_numpy(toy_features(4000, np.random.default_rng(9))).double()
    x = _balanced_events(z, g)
    obs = response_observables(x, z, balance=True)
    assert set(obs) == set(RESPONSE_GROUPS) | set(BALANCE_GROUPS)
    assert set(response_observables(x, z)) == set(RESPONSE_GROUPS)
    torch.testing.assert_close(obs["b_balance"][:, 0], obs["b_response"][:, 1])
    direction = z.reshape(-1, 6, 4)[:, 2, :2] / z.reshape(-1, 6, 4)[:, 2, :2].norm(dim=-1, keepdim=True)
    torch.testing.assert_close(obs["b_balance"][:, 1], ((x - z)[:, 4:6] / 50.0 * direction).sum(-1))
    # the missing pT carries the b's mismeasurement: a softer b, more missing pT along it
    assert np.corrcoef(obs["b_balance"].T.numpy())[0, 1] < -0.2

    right = torch.stack([_balanced_events(z, g) for _ in range(2)])
    uncorrelated = torch.stack([_balanced_events(z, g, shuffle_met=True) for _ in range(2)])
    gap = {b: response_score(uncorrelated, x, z, balance=b) - response_score(right, x, z, balance=b) for b in (0, 1)}
    assert gap[1] > gap[0] + 0.01  # only the balance groups see the correlation the shuffle broke
