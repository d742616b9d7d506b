"""One loader for every model file: dispatch on the file's format key, clear errors for anything else."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.conftest import toy_features
from turbosim_hep.events.features import events_from_features
from turbosim_hep.io.root import write_events
from turbosim_hep.model.checkpoint import FORMAT as TURBOSIM_FORMAT
from turbosim_hep.model.transform import TurboSimTransform
from turbosim_hep.simulation import registry
from turbosim_hep.simulation.registry import load_transform

FORMAT_LOOKUP = "turbosim-hep lookup"


@pytest.fixture
def kinds(monkeypatch):
    """The registry's table, restored after the test."""
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    return registry._KINDS


@pytest.fixture(scope="module")
def otus_file(tmp_path_factory):
    from turbosim_hep.baselines.otus.checkpoint import save_otus
    from turbosim_hep.baselines.otus.config import OtusConfig
    from turbosim_hep.baselines.otus.model import OtusModel

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("otus") / "otus.pt"
    return save_otus(path, model=OtusModel(hidden=8), config=OtusConfig(hidden=8), provenance={})


@pytest.fixture(scope="module")
def lookup_file(tmp_path_factory):
    from turbosim_hep.baselines.lookup.fit import fit_lookup_arrays

    rng = np.random.default_rng(3)
    z, x = toy_features(300, rng), toy_features(300, rng, massless=True)
    out = tmp_path_factory.mktemp("lookup") / "lookup.pt"
    return fit_lookup_arrays(z, x, 1, np.arange(300), out=out, min_entries=5)


def test_turbosim_format_is_the_checkpoint_format():
    from turbosim_hep.model.checkpoint import FORMAT

    assert TURBOSIM_FORMAT == FORMAT


def test_every_built_in_kind_loads_through_load_transform(model_path, otus_file, lookup_file):
    from turbosim_hep.baselines.lookup.transform import LookupTransform
    from turbosim_hep.baselines.otus.transform import OtusTransform

    assert type(load_transform(model_path, device="cpu")) is TurboSimTransform
    assert type(load_transform(otus_file, device="cpu", seed=4)) is OtusTransform
    tf = load_transform(lookup_file, device="cpu", seed=4, batch_size=10)
    assert type(tf) is LookupTransform and tf.seed == 4 and tf.batch_size == 10
    assert set(registry.model_kinds()) >= {"turbosim-hep checkpoint", "turbosim-hep otus baseline", FORMAT_LOOKUP}


@pytest.mark.parametrize("what", ["root", "text", "list", "unknown format"])
def test_a_file_of_no_known_kind_is_a_one_line_error_naming_it_and_the_kinds(tmp_path, what):
    path = tmp_path / f"not-a-model.{what.replace(' ', '-')}"
    if what == "root":
        z = toy_features(5, np.random.default_rng(0))
        write_events(path, events_from_features(z=z, event=np.arange(5)))
    elif what == "text":
        path.write_text("hello\n")
    elif what == "list":
        torch.save([1, 2], path)
    else:
        torch.save({"format": "someone else's model"}, path)
    with pytest.raises(ValueError, match=r"not-a-model.*known model kinds") as info:
        load_transform(path)
    message = str(info.value)
    assert "\n" not in message
    assert all(f in message for f in ("turbosim-hep checkpoint", "turbosim-hep otus baseline", FORMAT_LOOKUP))


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.pt"):
        load_transform(tmp_path / "missing.pt")


def test_a_registered_kind_gets_the_load_arguments(kinds, tmp_path):
    calls = []
    registry.register_model_kind("test kind", lambda model_file, **kw: calls.append((model_file, kw)) or "loaded")
    path = tmp_path / "m.pt"
    torch.save({"format": "test kind"}, path)
    assert load_transform(path, seed=2) == "loaded"
    ((model_file, kw),) = calls
    assert model_file.path == path and model_file.content == {"format": "test kind"}
    assert kw == {"device": None, "seed": 2, "batch_size": 65_536}


def test_another_module_cannot_claim_a_registered_format(kinds):
    with pytest.raises(ValueError, match="already registered"):
        registry.register_model_kind(TURBOSIM_FORMAT, lambda path, **kw: None)
    with pytest.raises(TypeError, match="file_format"):
        registry.register_model_kind("", lambda path, **kw: None)


def test_a_model_argument_that_is_neither_a_file_nor_a_shipped_name_is_one_not_found_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist and is not a shipped model") as err:
        registry.resolve_model_path(str(tmp_path / "m.pt"))
    assert "m.pt" in str(err.value) and "turbosim train" in str(err.value)


def test_a_model_file_is_read_once_and_its_digest_kept(model_path, monkeypatch):
    import hashlib
    from pathlib import Path

    reads = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or real(self))
    tf = load_transform(model_path, device="cpu")
    assert reads == [Path(model_path)]
    assert tf.model_sha256 == hashlib.sha256(real(Path(model_path))).hexdigest()


def test_transform_imports_no_baseline():
    code = (
        "import sys, turbosim_hep.simulation.transform;"
        "print([m for m in sys.modules if m.startswith('turbosim_hep.baselines') or m == 'torch'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
