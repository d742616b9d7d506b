"""Model files that cannot run code: ``torch.load(weights_only=True)`` plus a SHA-256 digest of the content.

Every model file of the toolkit (Turbo-Sim checkpoints, OTUS baselines) is a dict of plain values and tensors; its
``digest`` key holds :func:`content_digest` of the rest, so a file edited after it was written is recognised.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

__all__ = ("content_digest", "load_plain")


def _feed(h: Any, obj: Any) -> None:
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous().reshape(-1)
        h.update(f"T{t.dtype}{tuple(obj.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, dict):
        h.update(b"{")
        for key in sorted(obj, key=repr):
            h.update(repr(key).encode())
            _feed(h, obj[key])
        h.update(b"}")
    elif isinstance(obj, list | tuple):
        h.update(b"[")
        for item in obj:
            _feed(h, item)
        h.update(b"]")
    else:
        h.update(repr(obj).encode())


def content_digest(content: dict[str, Any]) -> str:
    """SHA-256 (hex) of every entry of ``content`` except ``digest``: tensors by dtype, shape and bytes."""
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in content.items() if k != "digest"})
    return h.hexdigest()


def load_plain(path: str | os.PathLike, *, what: str = "model file") -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; a ``ValueError`` naming the file if it is damaged or
    holds anything but tensors and plain data (refused for safety)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, zipfile.BadZipFile, EOFError, ValueError, OSError) as err:
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
        detail = ([ln for ln in lines if "WeightsUnpickler error" in ln] or lines or [type(err).__name__])[0]
        raise ValueError(
            f"{str(path)!r} is not a loadable {what} (damaged, or holds objects other than tensors and plain data, "
            f"which are refused for safety): {detail}"
        ) from err
