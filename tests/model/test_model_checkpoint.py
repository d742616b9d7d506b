import pickle

import numpy as np
import pytest
import torch

from turbosim_hep.constants import LAYOUT_VERSION
from turbosim_hep.io.safe_torch import content_digest
from turbosim_hep.model import checkpoint as ckpt
from turbosim_hep.model.checkpoint import load_model, read_checkpoint
from turbosim_hep.model.config import TurboSimConfig
from turbosim_hep.model.training import companion_paths, train_arrays

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    rng = np.random.default_rng(0)
    z = (rng.normal(size=(800, 24)) * 40).astype(np.float32)
    x = (z * 0.9 + rng.normal(size=(800, 24)) * 3).astype(np.float32)
    cfg = TurboSimConfig.preset(
        "cycle", batch_size=16, steps_per_epoch=3, encoder_hidden=(16,), decoder_hidden=(16,), critic_hidden=(8,)
    )
    out = tmp_path_factory.mktemp("ckpt") / "model.pt"
    train_arrays(z, x, 1, np.arange(800), config=cfg, epochs=1, out=out, physics=False, device="cpu")
    return out, cfg, z


def _resave(path, content, *, fix_digest):
    if fix_digest:
        content["digest"] = content_digest(content)
    torch.save(content, path)
    return path


def test_checkpoint_round_trips_config_weights_normalisation_and_provenance(trained):
    out, cfg, z = trained
    loaded = load_model(out, device="cpu")
    raw = read_checkpoint(out)
    assert loaded.config == cfg
    for key, value in loaded.model.state_dict().items():
        assert torch.equal(value, raw["model"][key])
    train_z = z[np.isin(np.arange(800), np.arange(800))]
    assert loaded.z_mean.shape == loaded.x_std.shape == (24,)
    assert np.all(loaded.z_std > 0) and abs(loaded.z_mean).max() < 10 * abs(train_z).mean()
    assert loaded.provenance["data"]["events"] == 800
    assert loaded.provenance["split_fractions"] == [0.7, 0.15, 0.15]
    assert loaded.provenance["versions"]["torch"] == str(torch.__version__)
    assert raw["layout_version"] == LAYOUT_VERSION and len(raw["x_features"]) == 24
    assert loaded.state["epoch"] == 1
    assert companion_paths(out)["last"].exists()


def test_edited_weights_fail_the_integrity_check(trained, tmp_path):
    content = read_checkpoint(trained[0])
    key = next(iter(content["model"]))
    content["model"][key] = content["model"][key] + 1e-3
    bad = _resave(tmp_path / "edited.pt", content, fix_digest=False)
    with pytest.raises(ValueError, match=r"edited\.pt.*integrity"):
        load_model(bad, device="cpu")


def test_other_layout_version_is_refused_naming_the_file(trained, tmp_path):
    content = read_checkpoint(trained[0])
    content["layout_version"] = LAYOUT_VERSION + 1
    bad = _resave(tmp_path / "layout.pt", content, fix_digest=True)
    with pytest.raises(ValueError, match=r"layout\.pt.*layout version"):
        load_model(bad)


def test_other_feature_count_is_refused(trained, tmp_path):
    content = read_checkpoint(trained[0])
    content["x_features"] = content["x_features"][:20]
    bad = _resave(tmp_path / "features.pt", content, fix_digest=True)
    with pytest.raises(ValueError, match=r"features\.pt.*20 x_features"):
        load_model(bad)


def test_missing_keys_are_refused(trained, tmp_path):
    content = read_checkpoint(trained[0])
    del content["normalisation"]
    bad = _resave(tmp_path / "missing.pt", content, fix_digest=False)
    with pytest.raises(ValueError, match=r"missing\.pt.*lacks keys \['normalisation'\]"):
        load_model(bad)


def test_weights_not_matching_the_config_are_refused(trained, tmp_path):
    content = read_checkpoint(trained[0])
    content["config"]["decoder_hidden"] = [32]
    bad = _resave(tmp_path / "shape.pt", content, fix_digest=True)
    with pytest.raises(ValueError, match=r"shape\.pt.*do not match its config"):
        load_model(bad)


class _Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_file_that_would_run_code_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"format": ckpt.FORMAT, "x": _Payload()}, f)
    torch.save({"format": ckpt.FORMAT, "x": _Payload()}, tmp_path / "evil2.pt")
    for p in (path, tmp_path / "evil2.pt"):
        with pytest.raises(ValueError, match=r"evil2?\.pt.*not a loadable"):
            load_model(p)
    assert "must never run" not in capsys.readouterr().out


def test_truncated_and_missing_files_give_clear_errors(trained, tmp_path):
    data = trained[0].read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.pt"):
        load_model(cut)
    with pytest.raises(FileNotFoundError, match="nothere"):
        load_model(tmp_path / "nothere.pt")
