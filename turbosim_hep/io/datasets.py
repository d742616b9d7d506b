"""Where the events are: expand what a user names (ROOT files, directories, coffea fileset JSON) into ROOT files.

Each file comes with the name of its TTree: a fileset's own (``{"files": {"a.root": "Events"}}``), else
:data:`~turbosim_hep.constants.TREE_NAME`. A file named twice (the same file given twice, or a directory and its
fileset) is an error: its events would count twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from turbosim_hep.constants import TREE_NAME

__all__ = ("InputFile", "fileset_paths", "resolve_inputs", "resolve_paths")


class InputFile(NamedTuple):
    """One input: the ROOT ``path``, the ``tree`` to read, and ``given``: the argument that named it."""

    path: Path
    tree: str
    given: str


def _fileset_entries(path: Path) -> list[tuple[Path, str]]:
    try:
        spec = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r} is not valid JSON: {err}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{str(path)!r} is not a text (JSON) file; a fileset is {{dataset: {{files}}}}") from None
    if not isinstance(spec, dict):
        raise ValueError(f"{str(path)!r}: a fileset is a JSON object {{dataset: files}}, got {type(spec).__name__}")
    out: list[tuple[Path, str]] = []
    for dataset, entry in spec.items():
        files = entry.get("files", entry) if isinstance(entry, dict) else entry
        if not isinstance(files, dict | list):
            raise ValueError(f"{str(path)!r}: dataset {dataset!r} has no file list")
        for f in files:
            tree = files[f] if isinstance(files, dict) else TREE_NAME
            if isinstance(tree, dict):  # coffea's {"object_path": "Events", ...} form
                tree = tree.get("object_path", tree.get("treename", TREE_NAME))
            if not isinstance(f, str) or not isinstance(tree, str):
                raise ValueError(
                    f"{str(path)!r}: dataset {dataset!r} entry {f!r}: {tree!r}; expected 'file.root': 'TreeName'"
                )
            p = Path(f)
            out.append((p if p.is_absolute() else path.parent / p, tree))
    return out


def fileset_paths(path: str | os.PathLike) -> list[Path]:
    """Files of a coffea fileset JSON: ``{dataset: {"files": {path: tree}}}`` (or lists); relative to the JSON."""
    return [p for p, _ in _fileset_entries(Path(path))]


def resolve_inputs(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[InputFile]:
    """The ROOT files and trees named by ``paths``: files as given, directories by their ``fileset.json`` (else
    ``chunk-*.root``, else ``*.root``, sorted), fileset JSON files by their entries.

    Raises ``FileNotFoundError`` if a path is missing or nothing is found, ``ValueError`` if a file is named twice.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    out: list[InputFile] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"{str(p)!r} does not exist (give ROOT files, directories or a fileset.json)")
        if p.is_dir():
            fileset = p / "fileset.json"
            if fileset.exists():
                found = _fileset_entries(fileset)
            else:
                files = sorted(p.glob("chunk-*.root")) or sorted(p.glob("*.root"))
                found = [(f, TREE_NAME) for f in files]
            if not found:
                raise FileNotFoundError(f"directory {str(p)!r} holds no fileset.json, chunk-*.root or *.root files")
            out += [InputFile(f, t, str(p)) for f, t in found]
        elif p.suffix == ".json":
            out += [InputFile(f, t, str(p)) for f, t in _fileset_entries(p)]
        else:
            out.append(InputFile(p, TREE_NAME, str(p)))
    if not out:
        raise ValueError("no input files given")
    seen: dict[Path, InputFile] = {}
    for item in out:
        key = item.path.resolve()
        if key in seen:
            first = seen[key]
            how = f"by {first.given!r} and by {item.given!r}" if first.given != item.given else f"by {item.given!r}"
            raise ValueError(
                f"{str(item.path)!r} is named twice ({how}); its events would count twice: give each file once"
            )
        seen[key] = item
    return out


def resolve_paths(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """The ROOT files of :func:`resolve_inputs` (without their tree names)."""
    return [item.path for item in resolve_inputs(paths)]
