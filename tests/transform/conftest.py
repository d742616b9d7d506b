"""An untrained but complete checkpoint: enough to pin the transform's plumbing (layout, noise, batching)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import toy_features


@pytest.fixture(scope="session")
def model_path(tmp_path_factory):
    import torch

    from turbosim_hep.model.checkpoint import save_checkpoint
    from turbosim_hep.model.config import TurboSimConfig
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.turbosim import TurboSim

    torch.manual_seed(0)
    rng = np.random.default_rng(7)
    z = toy_features(2000, rng).astype(np.float64)
    x = toy_features(2000, rng, massless=True).astype(np.float64)
    config = TurboSimConfig.preset("turbo", seed=11)
    model = TurboSim(config)
    path = tmp_path_factory.mktemp("model") / "model.pt"
    save_checkpoint(
        path,
        model=model,
        z_norm=Normalisation(z.mean(0), z.std(0)),
        x_norm=Normalisation(x.mean(0), x.std(0)),
        provenance={"files": [], "note": "untrained test model"},
    )
    return path
