"""The one model loader: a model argument (a file, or a shipped model's name) to a transform of any family.

Each model family registers its file format and loader with :func:`register_model_kind` when its module is imported.
The built-in families are known here by module name only and imported on first use, so no family imports another
(nor this module any of them) to be loadable. A model file is opened, checked and hashed once per load
(:func:`~turbosim_hep.io.safe_torch.open_model_file`); the transform keeps the digest as ``model_sha256``.

Example
-------
>>> from turbosim_hep.simulation.registry import load_transform, model_kinds
>>> tf = load_transform("ttbar-physics")        # doctest: +SKIP
>>> sorted(model_kinds())                       # doctest: +SKIP
['turbosim-hep checkpoint', 'turbosim-hep lookup', 'turbosim-hep otus baseline']
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from turbosim_hep.io.safe_torch import ModelFile, open_model_file

__all__ = (
    "BUILTIN_FAMILIES",
    "ModelKind",
    "load_transform",
    "model_kinds",
    "open_model",
    "register_model_kind",
    "resolve_model_path",
    "shipped_models",
)

#: Modules of the built-in model families; each calls :func:`register_model_kind` when imported.
BUILTIN_FAMILIES: tuple[str, ...] = (
    "turbosim_hep.model.transform",
    "turbosim_hep.baselines.otus.transform",
    "turbosim_hep.baselines.lookup.transform",
)

#: A loader: ``loader(model_file: ModelFile, *, device=None, seed=None, batch_size=65_536) -> EventTransform``.
Loader = Callable[..., Any]


@dataclasses.dataclass(frozen=True)
class ModelKind:
    """A registered model family: the ``format`` key of its files, its loader and a one-line description."""

    file_format: str
    loader: Loader
    description: str


_KINDS: dict[str, ModelKind] = {}


def register_model_kind(file_format: str, loader: Loader, *, description: str = "") -> None:
    """Make :func:`load_transform` read files whose ``format`` key is ``file_format`` with ``loader``.

    Registering the same format again from the same module replaces the entry (a module reload); another module
    claiming a registered format is a ``ValueError``.
    """
    if not isinstance(file_format, str) or not file_format:
        raise TypeError(f"file_format must be a non-empty string, got {file_format!r}")
    if not callable(loader):
        raise TypeError(f"loader must be callable, got {loader!r}")
    old = _KINDS.get(file_format)
    if old is not None and getattr(old.loader, "__module__", None) != getattr(loader, "__module__", None):
        raise ValueError(
            f"model format {file_format!r} is already registered by {old.loader.__module__!r}; choose another format"
        )
    _KINDS[file_format] = ModelKind(file_format, loader, description)


def _import_builtins() -> None:
    for module in BUILTIN_FAMILIES:
        importlib.import_module(module)


def model_kinds() -> dict[str, str]:
    """Registered model kinds: file format -> description (the built-in families imported first)."""
    _import_builtins()
    return {k.file_format: k.description for k in _KINDS.values()}


def _known() -> str:
    return "; ".join(f"{fmt!r} ({desc})" if desc else repr(fmt) for fmt, desc in model_kinds().items())


#: Folder of the models shipped with the package (``turbosim_hep/shipped/NAME.pt`` beside ``NAME.md``, its card).
SHIPPED_MODELS_DIR = Path(__file__).resolve().parents[1] / "shipped"


def shipped_models() -> dict[str, Path]:
    """Names of the models shipped with the package and their files (``turbosim_hep/shipped/*.pt``)."""
    return {p.stem: p for p in sorted(SHIPPED_MODELS_DIR.glob("*.pt"))}


def resolve_model_path(name_or_path: str | os.PathLike) -> Path:
    """The file a model argument names: an existing path, else the name of a shipped model (``ttbar-physics``).

    A path that exists always wins, so a local file called like a shipped model is used as given. Neither is the
    toolkit's one "model not found" ``FileNotFoundError``.
    """
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = shipped_models()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise FileNotFoundError(
        f"model file {str(path)!r} does not exist and is not a shipped model ({', '.join(shipped) or 'none'}); "
        "make one with 'turbosim train', 'turbosim baseline-otus' or 'turbosim baseline-lookup'"
    )


def open_model(model: str | os.PathLike | ModelFile) -> ModelFile:
    """Resolve a model argument and read its file once (bytes hashed, content loaded safely: no code can run).

    A file that does not load as tensors and plain data (a ROOT or text file, a damaged file) is a one-line
    ``ValueError`` naming it and the known model kinds.
    """
    if isinstance(model, ModelFile):
        return model
    path = resolve_model_path(model)
    try:
        return open_model_file(path, what="model file")
    except ValueError as err:
        if path.is_dir():
            raise
        raise ValueError(
            f"{str(path)!r} is not a model file: it does not load as a torch file of tensors and plain data (a ROOT, "
            f"text or damaged file?); known model kinds: {_known()}"
        ) from err


def load_transform(
    model: str | os.PathLike | ModelFile,
    *,
    device: str | None = None,
    seed: int | None = None,
    batch_size: int = 65_536,
) -> Any:
    """Load any model of the toolkit (a Turbo-Sim checkpoint, the OTUS or the lookup baseline, a file or a shipped
    model's name) as its :class:`~turbosim_hep.simulation.transform.EventTransform`, told apart by the file's
    ``format`` key; the file is read once.

    ``FileNotFoundError`` when the argument is neither a file nor a shipped model; a one-line ``ValueError`` naming
    the file and the known kinds for a file of no known kind.
    """
    model_file = open_model(model)
    content = model_file.content
    file_format = content.get("format") if isinstance(content, dict) else None
    kind = _KINDS.get(file_format) if isinstance(file_format, str) else None
    if kind is None:
        _import_builtins()
        kind = _KINDS.get(file_format) if isinstance(file_format, str) else None
    if kind is None:
        found = f"format {file_format!r}" if isinstance(content, dict) else f"a {type(content).__name__}"
        raise ValueError(
            f"{str(model_file.path)!r} is not a model file of a known kind (it holds {found}); known model kinds: "
            f"{_known()}"
        )
    return kind.loader(model_file, device=device, seed=seed, batch_size=batch_size)
