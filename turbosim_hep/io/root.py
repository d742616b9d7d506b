"""ROOT ntuples of the event layout: one ``Events`` TTree, NanoAOD-like flat branches.

Branches: ``run``, ``luminosityBlock``, ``event``; ``nParton`` + ``Parton_{pt,eta,phi,mass,pdgId}``;
``nElectron`` + ``Electron_*``; ``nJet`` + ``Jet_*``; ``MET_pt``, ``MET_phi``, ``MET_pzMiss``. Extra jagged or flat
branches are kept. Trees are written with ``file.mktree`` (plain assignment writes an RNTuple in uproot 5.7) and
filled with ``extend`` in chunks; every write goes to a temporary file in the same directory, renamed at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from turbosim_hep.constants import TREE_NAME
from turbosim_hep.events.layout import BEHAVIOR
from turbosim_hep.events.validity import validate as _validate
from turbosim_hep.io.atomic import atomic_path

__all__ = (
    "events_to_branches",
    "iterate_events",
    "open_tree",
    "read_events",
    "write_events",
)

_COLLECTIONS = ("Parton", "Electron", "Jet")
_VECTOR_NAMES = {"Parton": "Momentum4D", "Electron": "Momentum4D", "Jet": "Momentum4D", "MET": "Momentum2D"}

PathLike = str | os.PathLike


def events_to_branches(events: ak.Array) -> dict[str, ak.Array | np.ndarray]:
    """The mktree/extend payload of an events array: collections as ``ak.zip``-ed jagged records, flat arrays else.

    uproot turns ``{"Jet": zipped}`` into ``nJet`` + ``Jet_pt``, ...; ``MET`` becomes ``MET_pt`` etc.
    """
    out: dict[str, ak.Array | np.ndarray] = {}
    for name in ak.fields(events):
        value = events[name]
        fields = ak.fields(value)
        if not fields:
            out[name] = ak.to_numpy(value) if value.ndim == 1 else ak.without_parameters(value)
        elif value.ndim == 1:
            for f in fields:
                out[f"{name}_{f}"] = ak.to_numpy(value[f])
        else:
            out[name] = ak.zip({f: ak.without_parameters(value[f]) for f in fields})
    return out


def write_events(
    path: PathLike,
    events: ak.Array | Iterable[ak.Array],
    *,
    chunk_size: int = 200_000,
    inputs: Iterable[PathLike] = (),
    overwrite: bool = True,
    compression: object = uproot.ZLIB(1),
) -> Path:
    """Write events (one array or an iterable of chunks) to ``path`` as an ``Events`` TTree, atomically.

    Arrays are appended in slices of ``chunk_size`` events (one basket per branch per slice; >= 50k keeps reading
    fast). ``inputs`` are files the events came from: writing onto one of them is refused. Returns the path.
    """
    path = Path(path)
    chunks = [events] if isinstance(events, ak.Array) else events
    with atomic_path(path, inputs=inputs, overwrite=overwrite) as tmp:
        with uproot.recreate(tmp, compression=compression) as f:
            tree = None
            for chunk in chunks:
                for start in range(0, max(len(chunk), 1), chunk_size):
                    payload = events_to_branches(chunk[start : start + chunk_size])
                    if tree is None:
                        tree = f.mktree(TREE_NAME, {k: _branch_type(v) for k, v in payload.items()})
                    if len(chunk):
                        tree.extend(payload)
            if tree is None:
                raise ValueError(f"nothing to write to {str(path)!r}: no event chunks were given")
    return path


def _branch_type(value: ak.Array | np.ndarray) -> object:
    return value.dtype if isinstance(value, np.ndarray) else value.type


def open_tree(path: PathLike, *, tree: str = TREE_NAME) -> uproot.TTree:
    """Open ``path`` and return its TTree, with errors that name the file and the tree."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{str(path)!r} does not exist")
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory, not a ROOT file")
    if path.stat().st_size == 0:
        raise ValueError(f"{str(path)!r} is empty (0 bytes), not a ROOT file: remake it or leave it out")
    try:
        f = uproot.open(path)
    except Exception as err:  # uproot raises many types for a damaged file
        raise ValueError(f"{str(path)!r} is not a readable ROOT file (truncated or damaged?): {_line(err)}") from err
    try:
        obj = f[tree]
    except KeyError:
        keys = sorted({k.split(";")[0] for k in f.keys()})
        raise ValueError(f"{str(path)!r} has no TTree {tree!r}; it holds {keys!r}") from None
    except Exception as err:
        raise ValueError(f"{str(path)!r}: cannot read {tree!r} (truncated or damaged file?): {_line(err)}") from err
    if not isinstance(obj, uproot.TTree):
        raise ValueError(f"{str(path)!r}: {tree!r} is a {type(obj).__name__}, not a TTree")
    return obj


def _line(err: BaseException) -> str:
    """An exception's message on one line (uproot's span several)."""
    return " ".join(str(err).split())


def _group_branches(names: Sequence[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Split branch names into flat ones and collections (``Jet`` -> [``pt``, ...]) keyed by counter ``nJet``."""
    collections = {n[1:]: [] for n in names if n.startswith("n") and n[1:2].isupper()}
    flat: list[str] = []
    for n in names:
        prefix, _, rest = n.partition("_")
        if rest and (prefix in collections or prefix == "MET"):
            collections.setdefault(prefix, []).append(rest)
        elif not (n.startswith("n") and n[1:] in collections):
            flat.append(n)
    return flat, collections


def _assemble(arrays: ak.Array, names: Sequence[str], source: str, tree: str, first_entry: int = 0) -> ak.Array:
    flat, collections = _group_branches(names)
    out: dict[str, ak.Array] = {f: arrays[f] for f in flat}
    for coll, fields in collections.items():
        if not fields:
            continue
        if coll == "MET":
            for f in fields:
                if arrays[f"MET_{f}"].ndim != 1:
                    raise ValueError(
                        f"{source}: TTree {tree!r}, branch 'MET_{f}' is jagged; MET branches hold one value per entry"
                    )
            out["MET"] = ak.zip({f: arrays[f"MET_{f}"] for f in fields}, with_name="Momentum2D", behavior=BEHAVIOR)
            continue
        counter = f"n{coll}"
        counts = ak.to_numpy(arrays[counter]) if counter in ak.fields(arrays) else None
        for f in fields:
            branch = arrays[f"{coll}_{f}"]
            if branch.ndim != 2:
                raise ValueError(
                    f"{source}: TTree {tree!r}, branch '{coll}_{f}' holds one value per entry (type "
                    f"{str(branch.type.content)!r}), but a {coll} branch must be a jagged array counted by {counter!r}"
                )
            got = ak.to_numpy(ak.num(branch, axis=1))
            if counts is not None and not np.array_equal(got, counts):
                i = int(np.flatnonzero(got != counts)[0])
                raise ValueError(
                    f"{source}: TTree {tree!r}, branch '{coll}_{f}' has {got[i]} values in entry {first_entry + i} "
                    f"but its counter {counter!r} says {counts[i]}"
                )
        name = _VECTOR_NAMES.get(coll)
        out[coll] = ak.zip({f: arrays[f"{coll}_{f}"] for f in fields}, with_name=name, behavior=BEHAVIOR)
    return ak.Array(ak.zip(out, depth_limit=1), behavior=BEHAVIOR)


def _required(collections: Sequence[str] | None) -> list[str]:
    req = ["run", "luminosityBlock", "event"]
    for c in collections or ():
        if c == "MET":
            req += ["MET_pt", "MET_phi", "MET_pzMiss"]
        else:
            req += [f"n{c}"] + [f"{c}_{f}" for f in ("pt", "eta", "phi", "mass")]
    return req


def _branch_names(tree: uproot.TTree, source: str, collections: Sequence[str] | None) -> list[str]:
    names = list(tree.keys())
    for req in _required(collections):
        if req not in names:
            raise ValueError(f"{source}: TTree {tree.name!r} has no branch {req!r}")
    for req in _required(collections):
        interp = tree[req].interpretation
        dtype = getattr(interp, "from_dtype", None) or getattr(getattr(interp, "content", None), "from_dtype", None)
        if dtype is None or dtype.kind not in "iuf":
            raise ValueError(
                f"{source}: TTree {tree.name!r}, branch {req!r} holds {tree[req].typename!r}; expected numbers"
            )
    if collections is None:
        return names
    keep = set(_required(collections))
    return [
        n
        for n in names
        if n in keep or n.partition("_")[0] in collections or (n.startswith("n") and n[1:] in collections)
    ]


def read_events(
    path: PathLike,
    *,
    collections: Sequence[str] | None = None,
    entry_start: int | None = None,
    entry_stop: int | None = None,
    tree: str = TREE_NAME,
    validate: bool = True,
    detector: bool = False,
) -> ak.Array:
    """Read one file of the layout into an events array.

    ``collections`` (e.g. ``("Parton",)`` or ``("Electron", "Jet", "MET")``) limits what is read and makes the
    named ones required; ``None`` reads every branch. ``validate`` applies the toolkit's validation policy
    (:mod:`turbosim_hep.events.validity`): a non-finite or unphysical value is a ``ValueError`` naming the file, tree,
    branch and entry; ``detector`` adds the detector's coverage (files read as truth, see the validity module).
    """
    t = open_tree(path, tree=tree)
    source = str(path)
    names = _branch_names(t, source, collections)
    try:
        arrays = t.arrays(names, entry_start=entry_start, entry_stop=entry_stop)
    except Exception as err:
        raise ValueError(f"{source}: cannot read branches of {tree!r} (truncated or damaged file?): {err}") from err
    first = 0 if entry_start is None else entry_start
    events = _assemble(arrays, names, source, tree, first)
    if validate:
        _validate(events, source=source, tree=tree, first_entry=first, detector=detector)
    return events


def iterate_events(
    paths: PathLike | Sequence[PathLike],
    *,
    step_size: int = 200_000,
    collections: Sequence[str] | None = None,
    tree: str | Sequence[str] = TREE_NAME,
    validate: bool = True,
    detector: bool = False,
) -> Iterator[ak.Array]:
    """Yield events arrays of at most ``step_size`` events from one or more files, in order.

    ``tree`` is one name for every file or one per file (a fileset's). ``validate``, ``detector`` as in
    :func:`read_events`.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    trees = [tree] * len(paths) if isinstance(tree, str) else list(tree)
    if len(trees) != len(paths):
        raise ValueError(f"{len(paths)} files but {len(trees)} tree names")
    for path, name in zip(paths, trees, strict=True):
        t = open_tree(path, tree=name)
        source = str(path)
        names = _branch_names(t, source, collections)
        first = 0
        try:
            for arrays in t.iterate(names, step_size=step_size):
                events = _assemble(arrays, names, source, name, first)
                if validate:
                    _validate(events, source=source, tree=name, first_entry=first, detector=detector)
                first += len(events)
                yield events
        except ValueError:
            raise
        except Exception as err:
            raise ValueError(f"{source}: cannot read {name!r} (truncated or damaged file?): {err}") from err
