import pytest

from turbosim_hep.model.config import PRESETS, TERMS, TurboSimConfig

EXPECTED_ACTIVE = {
    "turbo": ("l_z_ztilde", "d_ztilde", "l_x_xhat", "d_xhat", "d_xtilde", "l_z_zhat"),
    "aae": ("d_ztilde", "l_x_xhat"),
    "gan": ("d_xtilde",),
    "pix2pix": ("l_x_xtilde", "d_xtilde"),
    "cycle": ("d_ztilde", "l_x_xhat", "d_xtilde", "l_z_zhat"),
    "direct-only": ("l_z_ztilde", "d_ztilde", "l_x_xhat", "d_xhat"),
    "reverse-only": ("d_xtilde", "l_z_zhat"),
    "physics": ("l_z_ztilde", "l_x_xtilde"),
    "turbo-physics": ("l_z_ztilde", "l_x_xtilde"),
}


def test_every_preset_switches_on_exactly_its_documented_terms():
    assert set(PRESETS) == set(EXPECTED_ACTIVE)
    for name, active in EXPECTED_ACTIVE.items():
        assert TurboSimConfig.preset(name).active_terms == active, name


def test_turbo_preset_has_the_papers_weights_and_gradient_penalties():
    cfg = TurboSimConfig.preset("turbo")
    assert [cfg.weight(t) for t in TERMS] == [10, 1, 10, 1, 0, 10, 100, 0]
    assert (cfg.gp_ztilde, cfg.gp_xhat, cfg.gp_xtilde, cfg.gp_zhat) == (1000, 1000, 10, 1000)
    assert (cfg.lr, cfg.betas, cfg.weight_decay, cfg.critic_lr, cfg.batch_size) == (1e-4, (0.9, 0.7), 1e-3, 1e-4, 100)
    assert cfg == TurboSimConfig()


def test_active_critics_follow_the_non_zero_adversarial_weights():
    assert TurboSimConfig.preset("turbo").active_critics == ("z_tilde", "x_hat", "x_tilde")
    assert TurboSimConfig.preset("pix2pix", d_xtilde=0.0).active_critics == ()


def test_config_round_trips_through_a_plain_dict():
    cfg = TurboSimConfig.preset("cycle", encoder_hidden=(32, 16), layer_noise=True, seed=7)
    data = cfg.to_dict()
    assert all(isinstance(v, int | float | str | bool | list | None) for v in data.values())
    assert TurboSimConfig.from_dict(data) == cfg


def test_supervised_loss_is_selectable_per_term_and_saved():
    cfg = TurboSimConfig.preset("physics", kind_z_ztilde="laplace", l_x_xhat=1.0)
    assert cfg.supervised_kind("l_x_xtilde") == "energy"
    assert cfg.supervised_kind("l_z_ztilde") == "laplace"
    assert cfg.supervised_kind("l_x_xhat") == "energy"
    assert cfg.draws == 2
    assert TurboSimConfig.from_dict(cfg.to_dict()) == cfg
    assert TurboSimConfig.preset("pix2pix").draws == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"d_xtilde": -1.0}, "d_xtilde"),
        ({"critic_mode": "hinge"}, "critic_mode"),
        ({"supervised_loss": "cauchy"}, "supervised_loss"),
        ({"encoder_hidden": (0, 3)}, "encoder_hidden"),
        ({"split_fractions": (0.5, 0.5, 0.5)}, "split_fractions"),
        ({"batch_size": 0}, "batch_size"),
        ({"kind_x_xtilde": "cauchy"}, "l_x_xtilde"),
        ({"decoder_kind": "transformer"}, "decoder_kind"),
        ({"energy_draws": 1}, "energy_draws"),
        ({"selection": "loss"}, "selection"),
        ({"lr_schedule": "step"}, "lr_schedule"),
    ],
)
def test_invalid_values_are_refused_with_the_field_named(changes, message):
    with pytest.raises(ValueError, match=message):
        TurboSimConfig(**changes)


def test_all_weights_zero_is_refused():
    with pytest.raises(ValueError, match="every loss weight is zero"):
        TurboSimConfig.preset("gan", d_xtilde=0.0)


def test_unknown_preset_and_unknown_dict_keys_are_refused():
    with pytest.raises(ValueError, match="unknown preset 'vae'"):
        TurboSimConfig.preset("vae")
    with pytest.raises(ValueError, match="lr_typo"):
        TurboSimConfig.from_dict({"lr_typo": 1.0})
