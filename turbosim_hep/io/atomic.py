"""Safe writes: a file appears at its path complete or not at all, and outputs never alias inputs.

:func:`atomic_path` writes through a temporary file beside the target, renamed at the end. :func:`check_outputs`:
every verb checks all the files it will write against all the files it reads.

A verb's outputs include its side files (``model.last.pt``, ``model.metrics.jsonl``, sidecar JSON, reports);
its inputs include data files, the directories and fileset JSON that named them, and the model file. An output is
refused when it *is* an input (same resolved path, or the same file through a hard link) or lies where an input
would be replaced, whatever ``--overwrite`` says.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from turbosim_hep.runtime.advice import option

__all__ = ("atomic_path", "check_outputs")

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
                "(inputs are never overwritten)"
            )


@contextlib.contextmanager
def atomic_path(path: PathLike, *, inputs: Iterable[PathLike] = (), overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block finishes.

    Refuses (``ValueError``) when ``path`` is one of ``inputs`` and (``FileExistsError``) when it exists and
    ``overwrite`` is false. On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    target = path.resolve()
    for src in inputs:
        if Path(src).resolve() == target:
            raise ValueError(f"refusing to write {str(path)!r}: it is also an input; choose another output path")
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{str(path)!r} exists; remove it or "
            + option(python="pass overwrite=True", cli="choose another output path")
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; a finished file gets the mode any new file of the user would (0666 minus the umask),
    # so colleagues sharing a directory can read it
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    # os.umask can only be read by setting it; the old value is restored at once
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
