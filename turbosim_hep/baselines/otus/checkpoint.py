"""OTUS checkpoint files: one ``torch.save`` dict of plain values and tensors, read with ``weights_only=True``.

Keys: ``format`` (:data:`FORMAT`), ``format_version``, ``layout_version``
(:data:`turbosim_hep.constants.LAYOUT_VERSION`), ``z_features``, ``x_features``, ``config``
(:meth:`OtusConfig.to_dict`), ``provenance`` (training data, split sizes, versions, timing), ``history`` (per-epoch
losses of both stages), ``validation`` (held-out losses), ``model`` (state dict of encoder and decoder, with the
normalisation buffers) and ``digest`` (SHA-256 of all the rest: an edited file is refused).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch

from turbosim_hep.baselines.otus.config import OtusConfig
from turbosim_hep.baselines.otus.model import OtusModel
from turbosim_hep.io.safe_torch import ModelFile, content_digest, load_plain, model_file_header, read_model_file

__all__ = ("FORMAT", "LoadedOtus", "is_otus_checkpoint", "load_otus", "read_otus_checkpoint", "save_otus")

#: Value of the ``format`` key of every OTUS checkpoint (what a loader dispatches on).
FORMAT = "turbosim-hep otus baseline"
_FORMAT_VERSION = 1
_KEYS = (
    "config",
    "provenance",
    "history",
    "validation",
    "model",
)


def save_otus(
    path: str | os.PathLike,
    *,
    model: OtusModel,
    config: OtusConfig,
    provenance: dict[str, Any],
    history: dict[str, Any] | None = None,
    validation: dict[str, float] | None = None,
) -> Path:
    """Write an OTUS checkpoint atomically (temporary file + rename) and return its path."""
    from turbosim_hep.io.atomic import atomic_path

    content: dict[str, Any] = {
        **model_file_header(FORMAT, _FORMAT_VERSION),
        "config": config.to_dict(),
        "provenance": provenance,
        "history": history or {},
        "validation": validation or {},
        "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    }
    content["digest"] = content_digest(content)
    with atomic_path(path) as tmp:
        torch.save(content, tmp)
    return Path(path)


def is_otus_checkpoint(path: str | os.PathLike) -> bool:
    """True when ``path`` loads safely and its ``format`` key is :data:`FORMAT` (no other check)."""
    try:
        content = load_plain(path, what="OTUS checkpoint")
    except (ValueError, FileNotFoundError):
        return False
    return isinstance(content, dict) and content.get("format") == FORMAT


def read_otus_checkpoint(source: str | os.PathLike | ModelFile) -> dict[str, Any]:
    """Load (or take ``source`` already read) and check an OTUS checkpoint's content; ``ValueError`` naming the file
    on any mismatch."""
    return read_model_file(
        source,
        file_format=FORMAT,
        format_version=_FORMAT_VERSION,
        keys=_KEYS,
        what="OTUS baseline checkpoint",
        hint="; a Turbo-Sim model loads with TurboSimTransform.load",
    )


@dataclasses.dataclass
class LoadedOtus:
    """A trained OTUS model in eval mode: ``model.encoder`` (x -> z), ``model.decoder`` (z -> x), raw GeV."""

    model: OtusModel
    config: OtusConfig
    provenance: dict[str, Any]
    history: dict[str, Any]
    validation: dict[str, float]
    path: Path

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def load_otus(source: str | os.PathLike | ModelFile, *, device: str | torch.device | None = None) -> LoadedOtus:
    """Load an OTUS checkpoint (a path, or a :class:`ModelFile` already read) for inference; ``device=None`` picks
    CUDA when available, else the CPU."""
    path = source.path if isinstance(source, ModelFile) else Path(source)
    content = read_otus_checkpoint(source)
    try:
        config = OtusConfig.from_dict(content["config"])
    except (ValueError, TypeError) as err:
        raise ValueError(f"OTUS checkpoint {str(path)!r} holds an invalid config: {err}") from err
    model = OtusModel(hidden=config.hidden)
    try:
        model.load_state_dict(content["model"], strict=True)
    except RuntimeError as err:
        raise ValueError(f"OTUS checkpoint {str(path)!r}: weights do not match its config: {err}") from err
    from turbosim_hep.runtime.device import resolve_device

    device = resolve_device(device)
    model.to(device).eval()
    return LoadedOtus(
        model=model,
        config=config,
        provenance=dict(content["provenance"]),
        history=dict(content["history"]),
        validation=dict(content["validation"]),
        path=Path(path),
    )
