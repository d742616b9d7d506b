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

Inference on events goes through :class:`turbosim_hep.model.transform.TurboSimTransform`.

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
from turbosim_hep.io.safe_torch import ModelFile, content_digest, model_file_header, read_model_file
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


def read_checkpoint(source: str | os.PathLike | ModelFile) -> dict[str, Any]:
    """Load (or take ``source`` already read) and check a checkpoint's content (``weights_only=True``); a
    ``ValueError`` naming the file on mismatch."""
    path = source.path if isinstance(source, ModelFile) else Path(source)
    content = read_model_file(
        source, file_format=FORMAT, format_version=_FORMAT_VERSION, keys=_KEYS, what="turbosim-hep checkpoint"
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


def load_model(source: str | os.PathLike | ModelFile, *, device: str | torch.device | None = None) -> LoadedModel:
    """Load a checkpoint (a path, or a :class:`ModelFile` already read) for inference; ``device=None`` picks CUDA
    when available, else the CPU."""
    path = source.path if isinstance(source, ModelFile) else Path(source)
    content = read_checkpoint(source)
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
