"""Shared fixtures of the OTUS baseline tests: a toy paired sample and a briefly trained checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import toy_features


def toy_pairs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(z, x): toy partons and a toy detector response (10 % momentum smearing, massless), ``(n, 24)`` float32."""
    rng = np.random.default_rng(seed)
    z = toy_features(n, rng).astype(np.float64)
    p = z.reshape(n, 6, 4)[..., :3] * (1.0 + 0.1 * rng.standard_normal((n, 6, 1)))
    x = np.concatenate([p, np.linalg.norm(p, axis=-1, keepdims=True)], axis=-1).reshape(n, 24)
    return z.astype(np.float32), x.astype(np.float32)


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def toy_sample() -> dict[str, np.ndarray]:
    z, x = toy_pairs(1200, seed=7)
    return {"z": z, "x": x, "event": np.arange(5000, 5000 + len(z), dtype=np.uint64)}


@pytest.fixture(scope="session")
def otus_checkpoint(tmp_path_factory, toy_sample):
    """Path of an OTUS model trained for a few epochs on ``toy_sample``."""
    from turbosim_hep.baselines.otus.config import OtusConfig
    from turbosim_hep.baselines.otus.training import train_otus_arrays

    torch.set_num_threads(1)
    config = OtusConfig(epochs=3, stage2_epochs=2, batch_size=256, n_slices=50, seed=5)
    out = tmp_path_factory.mktemp("otus") / "otus.pt"
    s = toy_sample
    return train_otus_arrays(s["z"], s["x"], 1, s["event"], config=config, out=out, progress=False)
