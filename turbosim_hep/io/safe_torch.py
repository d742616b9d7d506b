"""Model files that cannot run code: ``torch.load(weights_only=True)`` plus a SHA-256 digest of the content.

Every model file of the toolkit (Turbo-Sim checkpoints, OTUS baselines) is a dict of plain values and tensors; its
``digest`` key holds :func:`content_digest` of the rest, so a file edited after it was written is recognised.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
from pathlib import Path
from typing import Any

__all__ = ("ModelFile", "content_digest", "load_plain", "model_file_header", "open_model_file", "read_model_file")


def _feed(h: Any, obj: Any) -> None:
    import torch

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


@dataclasses.dataclass(frozen=True)
class ModelFile:
    """A model file read once: its path, the SHA-256 of its bytes and its content (tensors and plain data)."""

    path: Path
    sha256: str
    content: Any


def open_model_file(path: str | os.PathLike, *, what: str = "model file") -> ModelFile:
    """Read ``path`` once: hash its bytes and ``torch.load(..., weights_only=True)`` them on the CPU.

    ``FileNotFoundError`` for a missing file; a ``ValueError`` naming the file if it is damaged or holds anything but
    tensors and plain data (refused for safety).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a directory; give the model file (.pt) itself")
    import torch  # here, so that importing the model registry does not load torch

    data = path.read_bytes()
    try:
        content = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # foreign bytes fail in many ways (IndexError on a ROOT file, KeyError, ...)
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
        text = " ".join(lines)
        if "WeightsUnpickler error:" in text:  # torch's long advice around the one informative phrase
            detail = text.split("WeightsUnpickler error:", 1)[1].split(" Check the documentation", 1)[0].strip()
            detail = f"not a torch file of plain data ({detail})"
        else:
            detail = (lines or [type(err).__name__])[0]
        raise ValueError(
            f"{str(path)!r} is not a loadable {what} (damaged, or holds objects other than tensors and plain data, "
            f"which are refused for safety): {detail}"
        ) from err
    return ModelFile(path=path, sha256=hashlib.sha256(data).hexdigest(), content=content)


def load_plain(path: str | os.PathLike, *, what: str = "model file") -> Any:
    """The content of a model file (:func:`open_model_file` without the digest)."""
    return open_model_file(path, what=what).content


#: Keys every model file of the toolkit holds, whatever its family (checked by :func:`read_model_file`).
HEADER_KEYS: tuple[str, ...] = ("format", "format_version", "layout_version", "z_features", "x_features", "digest")


def model_file_header(file_format: str, format_version: int) -> dict[str, Any]:
    """The shared head of a model file's content: format, its version, the event layout and the feature names."""
    from turbosim_hep.constants import LAYOUT_VERSION, X_FEATURES, Z_FEATURES

    return {
        "format": file_format,
        "format_version": format_version,
        "layout_version": LAYOUT_VERSION,
        "z_features": list(Z_FEATURES),
        "x_features": list(X_FEATURES),
    }


def read_model_file(
    source: str | os.PathLike | ModelFile,
    *,
    file_format: str,
    format_version: int,
    keys: tuple[str, ...],
    what: str,
    hint: str = "",
) -> dict[str, Any]:
    """Check what every model file of the toolkit shares; ``source`` is a path or a :class:`ModelFile` already read.

    Checks, each a ``ValueError`` naming the file: the ``format`` key is ``file_format`` (``hint`` is added to that
    message), no key of ``keys`` is missing, ``format_version`` matches, the event layout version and the 24 + 24
    feature names are this toolkit's, and the content digest matches (the file was not edited). ``keys`` are the
    family's own keys, beside :data:`HEADER_KEYS`.
    """
    from turbosim_hep.constants import LAYOUT_VERSION, X_FEATURES, Z_FEATURES

    model_file = source if isinstance(source, ModelFile) else open_model_file(source, what=what)
    path, content = model_file.path, model_file.content
    if not isinstance(content, dict) or content.get("format") != file_format:
        found = content.get("format") if isinstance(content, dict) else type(content).__name__
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise ValueError(f"{str(path)!r} is not {article} {what} (format {found!r}, expected {file_format!r}){hint}")
    missing = [k for k in (*HEADER_KEYS, *keys) if k not in content]
    if missing:
        raise ValueError(f"{what} {str(path)!r} lacks keys {missing!r}; it is incomplete or from another tool")
    if content["format_version"] != format_version:
        raise ValueError(
            f"{what} {str(path)!r} has format version {content['format_version']!r}, this turbosim-hep reads "
            f"{format_version}; use the turbosim-hep version that wrote it (see its 'versions')"
        )
    if content["layout_version"] != LAYOUT_VERSION:
        raise ValueError(
            f"{what} {str(path)!r} was trained on event layout version {content['layout_version']!r}, this "
            f"turbosim-hep uses {LAYOUT_VERSION}; retrain on data of the current layout"
        )
    for key, expected in (("z_features", Z_FEATURES), ("x_features", X_FEATURES)):
        if list(content[key]) != list(expected):
            raise ValueError(
                f"{what} {str(path)!r} has {len(content[key])} {key} {content[key]!r}, expected the "
                f"{len(expected)} features {list(expected)!r}"
            )
    if content["digest"] != content_digest(content):
        raise ValueError(
            f"{what} {str(path)!r} fails its integrity check (content edited after it was written); "
            "use an unmodified copy"
        )
    return content
