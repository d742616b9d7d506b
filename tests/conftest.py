"""Shared fixtures: small seeded samples of the event layout built from feature arrays (no generator needed)."""

from __future__ import annotations

import numpy as np
import pytest

from turbosim_hep.events.features import events_from_features


def toy_features(n: int, rng: np.random.Generator, *, massless: bool = False) -> np.ndarray:
    """(n, 24) float32 four-momenta (px, py, pz, E) of six objects with physical energies; jets 3..6 sorted by pT."""
    p = rng.normal(0.0, 60.0, size=(n, 6, 3))
    m = np.zeros((n, 6)) if massless else rng.uniform(0.0, 15.0, size=(n, 6))
    if massless:  # detector objects lie inside the detector (|eta| <= 4.5): the rare steeper ones are tilted back
        reach = np.hypot(p[..., 0], p[..., 1]) * np.sinh(4.5)
        p[..., 2] = np.clip(p[..., 2], -reach, reach)
    e = np.sqrt((p**2).sum(-1) + m**2)
    out = np.concatenate([p, e[..., None]], axis=-1)
    pt = np.hypot(out[:, 2:, 0], out[:, 2:, 1])
    order = np.argsort(-pt, axis=1)
    out[:, 2:] = np.take_along_axis(out[:, 2:], order[..., None], axis=1)
    return out.reshape(n, 24).astype(np.float32)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def toy_events(rng):
    """(events, z, x): 500 events with both sides, built from toy features; event ids 1000..1499."""
    z = toy_features(500, rng)
    x = toy_features(500, rng, massless=True)
    events = events_from_features(z=z, x=x, event=np.arange(1000, 1500))
    return events, z, x


@pytest.fixture(scope="session")
def model_path(tmp_path_factory):
    """An untrained but complete Turbo-Sim checkpoint: enough to pin plumbing (layout, noise, batching)."""
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


@pytest.fixture(scope="session")
def truncated_model_path(tmp_path_factory):
    """A Turbo-Sim checkpoint whose physics decoder is truncated to the phase space (with event noise, the lost-quark
    branch and bounded jet masses), its weights random enough that a fair share of first draws fall outside and are
    redrawn."""
    import torch

    from turbosim_hep.model.checkpoint import save_checkpoint
    from turbosim_hep.model.config import TurboSimConfig
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.turbosim import TurboSim

    model = TurboSim(
        TurboSimConfig.preset("physics", truncate=True, event_noise=4, radiation=True, jet_mass_bound=0.36, seed=3)
    )
    with torch.no_grad():
        for m in model.decoder.modules():
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.normal_(m.weight, 0.0, 0.15, generator=torch.Generator().manual_seed(m.in_features))
    rng = np.random.default_rng(4)
    z = toy_features(3000, rng).astype(np.float64)
    x = toy_features(3000, rng, massless=True).astype(np.float64)
    path = tmp_path_factory.mktemp("truncated") / "truncated.pt"
    save_checkpoint(
        path, model=model, z_norm=Normalisation(z.mean(0), z.std(0)), x_norm=Normalisation(x.mean(0), x.std(0)),
        provenance={"files": [], "note": "untrained truncated test model"},
    )  # fmt: skip
    return path
