"""OTUS training: config validation, the shared train split, loss going down, seeded reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.baselines.conftest import toy_pairs
from turbosim_hep.baselines.otus.checkpoint import load_otus
from turbosim_hep.baselines.otus.config import OtusConfig
from turbosim_hep.baselines.otus.training import train_otus_arrays
from turbosim_hep.events.split import split_mask


def test_config_defaults_are_the_papers_and_round_trip():
    c = OtusConfig()
    assert (c.beta, c.lam, c.n_slices, c.hidden, c.lr, c.batch_size) == (1.0, 20.0, 1000, 64, 1e-3, 20_000)
    assert (c.stage2_epochs, c.stage2_lr, c.seed) == (10, 1e-4, 2)
    assert OtusConfig.from_dict(c.to_dict()) == c
    assert c.replace(epochs=7).epochs == 7


@pytest.mark.parametrize(
    "bad", [{"lam": -1.0}, {"lr": 0.0}, {"batch_size": 1}, {"n_slices": 0}, {"epochs": 2.5}, {"seed": True}]
)
def test_config_refuses_bad_values(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        OtusConfig(**bad)


def test_config_from_dict_refuses_unknown_fields():
    with pytest.raises(ValueError, match="unknown OtusConfig fields"):
        OtusConfig.from_dict({"epochs": 3, "gamma": 1.0})


def test_short_training_on_a_toy_problem_reduces_the_loss(tmp_path):
    z, x = toy_pairs(1000, seed=3)
    config = OtusConfig(epochs=25, stage2_epochs=3, batch_size=200, n_slices=64, seed=1)
    path = train_otus_arrays(z, x, 1, np.arange(len(z)), config=config, out=tmp_path / "m.pt", progress=False)
    history = load_otus(path, device="cpu").history
    first, last = history["stage1"][0], history["stage1"][-1]
    assert len(history["stage1"]) == 25 and len(history["stage2"]) == 3
    assert last["loss"] < 0.5 * first["loss"]
    assert last["swd_z"] < first["swd_z"]
    assert 0.0 <= last["accepted"] <= 1.0


def test_training_uses_the_shared_train_split_only(otus_checkpoint, toy_sample):

    loaded = load_otus(otus_checkpoint, device="cpu")
    n_train = int(split_mask(np.ones(len(toy_sample["z"]), np.uint64), toy_sample["event"], "train").sum())
    assert loaded.provenance["split_events"]["train"] == n_train
    assert loaded.provenance["batch_size_used"] == 256
    # the input standardisation was fitted on exactly those events
    train = split_mask(np.ones(len(toy_sample["z"]), np.uint64), toy_sample["event"], "train")
    np.testing.assert_allclose(
        loaded.model.decoder.in_mean.numpy(), toy_sample["z"][train].astype(np.float64).mean(0), rtol=1e-5, atol=1e-3
    )


def test_training_is_reproducible_with_a_seed(tmp_path):
    z, x = toy_pairs(400, seed=4)
    config = OtusConfig(epochs=2, stage2_epochs=1, batch_size=100, n_slices=16, seed=3)
    paths = [
        train_otus_arrays(z, x, 1, np.arange(400), config=config, out=tmp_path / f"{i}.pt", progress=False)
        for i in range(2)
    ]
    a, b = (torch.load(p, weights_only=True)["model"] for p in paths)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_existing_output_is_not_overwritten_by_default(tmp_path):
    z, x = toy_pairs(200, seed=5)
    out = tmp_path / "m.pt"
    out.write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite"):
        train_otus_arrays(z, x, 1, np.arange(200), config=OtusConfig(epochs=1), out=out, progress=False)
    assert out.read_text() == "keep me"
