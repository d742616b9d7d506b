"""Checkpoint files: one ``torch.save`` file per model, loaded with ``torch.load(weights_only=True)``.

A checkpoint is a dict of plain values (dicts, lists, str, numbers, bools, None) and tensors only, so loading it can
never run code:

- ``format``, ``format_version``, ``layout_version`` (:data:`turbosim_hep.constants.LAYOUT_VERSION`),
  ``z_features``, ``x_features`` (the 24 + 24 feature names, in column order);
- ``config``: :meth:`TurboSimConfig.to_dict`;
- ``normalisation``: ``z_mean``, ``z_std``, ``x_mean``, ``x_std``, float64 tensors ``(24,)`` [GeV], fitted on the
  training split;
- ``provenance``: the training data (files with event counts, split fractions and sizes) and ``versions`` (python,
  torch, numpy, turbosim-hep);
- ``model``: the :class:`~turbosim_hep.model.turbosim.TurboSim` state dict (encoder, decoder, critics);
- ``state``: what an exact resume needs (epoch, best metric, optimiser states, random-generator states);
- ``digest``: SHA-256 of everything above; a file whose content was edited is refused.

Interface for users of a trained model (the transform, the coffea processor)::

    loaded = load_model("model.pt", device="cpu")      # -> LoadedModel
    loaded.model.decoder(z_norm, noise)                  # StochasticMLP, noise (n, decoder.noise_dim) ~ N(0, 1)
    z_norm = (z_gev - loaded.z_mean) / loaded.z_std      # np.ndarray (24,) float64 each
    x_gev = x_norm * loaded.x_std + loaded.x_mean
    loaded.simulate(z_gev, generator=torch.Generator().manual_seed(1))   # the same, in one call

Every mismatch (unreadable file, another layout version, other feature names, missing keys, edited content) is a
``ValueError`` naming the file.
"""

from __future__ import annotations

import dataclasses
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from turbosim_hep.constants import Z_FEATURES
from turbosim_hep.io.safe_torch import content_digest, model_file_header, read_model_file
from turbosim_hep.model.config import TurboSimConfig
from turbosim_hep.model.normalisation import Normalisation
from turbosim_hep.model.turbosim import TurboSim

__all__ = ("FORMAT", "LoadedModel", "load_model", "read_checkpoint", "save_checkpoint", "versions")

#: Value of the ``format`` key of every checkpoint.
FORMAT = "turbosim-hep checkpoint"
_FORMAT_VERSION = 1
_KEYS = (
    "config",
    "normalisation",
    "provenance",
    "versions",
    "model",
    "state",
)


def versions() -> dict[str, str]:
    """Versions of python, torch, numpy and turbosim-hep, recorded in every checkpoint."""
    from turbosim_hep import __version__

    return {
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "numpy": str(np.__version__),
        "turbosim_hep": str(__version__),
    }


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model: TurboSim,
    z_norm: Normalisation,
    x_norm: Normalisation,
    provenance: dict[str, Any],
    state: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically (temporary file + rename) and return its path."""
    from turbosim_hep.io.atomic import atomic_path

    content: dict[str, Any] = {
        **model_file_header(FORMAT, _FORMAT_VERSION),
        "config": model.config.to_dict(),
        "normalisation": {
            "z_mean": torch.from_numpy(z_norm.mean.copy()),
            "z_std": torch.from_numpy(z_norm.std.copy()),
            "x_mean": torch.from_numpy(x_norm.mean.copy()),
            "x_std": torch.from_numpy(x_norm.std.copy()),
        },
        "provenance": provenance,
        "versions": versions(),
        "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "state": state or {},
    }
    content["digest"] = content_digest(content)
    with atomic_path(path) as tmp:
        torch.save(content, tmp)
    return Path(path)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load and check a checkpoint's content (``weights_only=True``); ``ValueError`` naming the file on mismatch."""
    path = Path(path)
    content = read_model_file(
        path, file_format=FORMAT, format_version=_FORMAT_VERSION, keys=_KEYS, what="turbosim-hep checkpoint"
    )
    for key in ("z_mean", "z_std", "x_mean", "x_std"):
        t = content["normalisation"].get(key)
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != (len(Z_FEATURES),):
            raise ValueError(f"checkpoint {str(path)!r}: normalisation {key!r} is missing or not shape (24,)")
    return content


@dataclasses.dataclass
class LoadedModel:
    """A trained model ready for inference.

    Attributes
    ----------
    model : TurboSim
        With ``.encoder`` (x -> z) and ``.decoder`` (z -> x), both in normalised units, in eval mode.
    config : TurboSimConfig
    z_mean, z_std, x_mean, x_std : np.ndarray
        ``(24,)`` float64 [GeV]: ``normalised = (gev - mean) / std``.
    provenance : dict
        Training data and package versions (``provenance["versions"]``).
    state : dict
        Training state (``epoch``, ``best_metric``, ...).
    path : Path
    """

    model: TurboSim
    config: TurboSimConfig
    z_mean: np.ndarray
    z_std: np.ndarray
    x_mean: np.ndarray
    x_std: np.ndarray
    provenance: dict[str, Any]
    state: dict[str, Any]
    path: Path

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _run(self, net, a, mean_in, std_in, mean_out, std_out, generator, noise) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != len(mean_in):
            raise ValueError(f"features must have shape (n, {len(mean_in)}), got {a.shape!r}")
        inputs = torch.from_numpy(((a - mean_in) / std_in).astype(np.float32)).to(self.device)
        if noise is None:
            noise = torch.randn(len(a), net.noise_dim, generator=generator, dtype=torch.float32)
        with torch.no_grad():
            out = net(inputs, torch.as_tensor(noise, dtype=torch.float32).to(self.device))
        return out.double().cpu().numpy() * std_out + mean_out

    def simulate(
        self, z: np.ndarray, *, generator: torch.Generator | None = None, noise: torch.Tensor | None = None
    ) -> np.ndarray:
        """Detector-level x̃ = D(z) ``(n, 24)`` float64 [GeV] from partons ``z`` ``(n, 24)`` [GeV].

        The noise ``(n, decoder.noise_dim)`` is ``noise`` if given, else drawn on the CPU from ``generator``.
        """
        dec = self.model.decoder
        return self._run(dec, z, self.z_mean, self.z_std, self.x_mean, self.x_std, generator, noise)

    def unfold(
        self, x: np.ndarray, *, generator: torch.Generator | None = None, noise: torch.Tensor | None = None
    ) -> np.ndarray:
        """Parton-level z̃ = E(x) ``(n, 24)`` float64 [GeV] from detector features ``x`` ``(n, 24)`` [GeV]."""
        enc = self.model.encoder
        return self._run(enc, x, self.x_mean, self.x_std, self.z_mean, self.z_std, generator, noise)


def load_model(path: str | os.PathLike, *, device: str | torch.device | None = None) -> LoadedModel:
    """Load a checkpoint for inference; ``device=None`` picks CUDA when available, else the CPU."""
    content = read_checkpoint(path)
    try:
        config = TurboSimConfig.from_dict(content["config"])
    except (ValueError, TypeError) as err:
        raise ValueError(f"checkpoint {str(path)!r} holds an invalid config: {err}") from err
    model = TurboSim(config)
    try:
        model.load_state_dict(content["model"], strict=True)
    except RuntimeError as err:
        raise ValueError(f"checkpoint {str(path)!r}: weights do not match its config: {err}") from err
    norm = {k: v.double().numpy() for k, v in content["normalisation"].items()}
    model.set_normalisation(norm["z_mean"], norm["z_std"], norm["x_mean"], norm["x_std"])
    from turbosim_hep.runtime.device import resolve_device

    device = resolve_device(device)
    model.to(device).eval()
    provenance = dict(content["provenance"])
    provenance["versions"] = content["versions"]
    return LoadedModel(
        model=model,
        config=config,
        provenance=provenance,
        state={k: v for k, v in content["state"].items() if k not in ("optimisers", "rng")},
        path=Path(path),
        **norm,
    )
