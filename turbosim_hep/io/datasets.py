"""Where the events are: expand what a user names (ROOT files, directories, coffea fileset JSON) into ROOT files."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ("fileset_paths", "resolve_paths")


def fileset_paths(path: str | os.PathLike) -> list[Path]:
    """Files of a coffea fileset JSON: ``{dataset: {"files": {path: tree}}}`` (or lists); relative to the JSON."""
    path = Path(path)
    try:
        spec = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r} is not valid JSON: {err}") from None
    if not isinstance(spec, dict):
        raise ValueError(f"{str(path)!r}: a fileset is a JSON object {{dataset: files}}, got {type(spec).__name__}")
    out: list[Path] = []
    for dataset, entry in spec.items():
        files = entry.get("files", entry) if isinstance(entry, dict) else entry
        if not isinstance(files, dict | list):
            raise ValueError(f"{str(path)!r}: dataset {dataset!r} has no file list")
        for f in files:
            p = Path(f)
            out.append(p if p.is_absolute() else path.parent / p)
    return out


def resolve_paths(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """ROOT files named by ``paths``: files as given, directories by their ``fileset.json`` (else ``chunk-*.root``,
    else ``*.root``, sorted), fileset JSON files by their entries. Raises if a path is missing or nothing is found."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"{str(p)!r} does not exist (give ROOT files, directories or a fileset.json)")
        if p.is_dir():
            fileset = p / "fileset.json"
            found = (
                fileset_paths(fileset)
                if fileset.exists()
                else sorted(p.glob("chunk-*.root")) or sorted(p.glob("*.root"))
            )
            if not found:
                raise FileNotFoundError(f"directory {str(p)!r} holds no fileset.json, chunk-*.root or *.root files")
            out += found
        elif p.suffix == ".json":
            out += fileset_paths(p)
        else:
            out.append(p)
    if not out:
        raise ValueError("no input files given")
    return out
