"""SHA-256 digests of files, read in 1 MiB blocks (model files, input and output ntuples)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

__all__ = ("file_sha256", "files_sha256")


def _feed(h, path: str | os.PathLike) -> None:
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of the bytes of ``path``."""
    h = hashlib.sha256()
    _feed(h, path)
    return h.hexdigest()


def files_sha256(paths: Iterable[str | os.PathLike]) -> str:
    """Hex SHA-256 over the bytes of ``paths`` in order."""
    h = hashlib.sha256()
    for p in paths:
        _feed(h, p)
    return h.hexdigest()
