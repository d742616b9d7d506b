"""Outputs never alias inputs: every verb checks all the files it will write against all the files it reads.

A verb's outputs include its side files (``model.last.pt``, ``model.metrics.jsonl``, sidecar JSON, reports);
its inputs include data files, the directories and fileset JSON that named them, and the model file. An output is
refused when it *is* an input (same resolved path, or the same file through a hard link) or lies where an input
would be replaced, whatever ``--overwrite`` says.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ("check_outputs",)

PathLike = str | os.PathLike


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(outputs: Iterable[PathLike], inputs: Iterable[PathLike], *, verb: str) -> None:
    """Raise ``ValueError`` if any of ``outputs`` is one of ``inputs`` (by resolved path or inode).

    ``verb`` names the command in the message (e.g. ``"train --out"``).
    """
    ins = [Path(p) for p in inputs]
    resolved = {p.resolve(): p for p in ins}
    for out in map(Path, outputs):
        target = out.resolve()
        hit = resolved.get(target)
        if hit is None and out.exists():
            hit = next((p for p in ins if p.exists() and _same_file(out, p)), None)
        if hit is not None:
            raise ValueError(
                f"{verb}: refusing to write {str(out)!r}: it is the input {str(hit)!r}; choose another output path "
                "(inputs are never overwritten, whatever --overwrite says)"
            )
