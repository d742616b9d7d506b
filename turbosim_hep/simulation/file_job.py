"""Simulate (or unfold) one input file into one output file, atomically, with the sidecar that records what made it.

Beside each output ``NAME.root`` a sidecar ``NAME.root.json`` records the model file's SHA-256, the noise seed,
``n_samples``, the input file's path, tree and SHA-256, and the output's SHA-256 and entry count.
:func:`decide` tells what a rerun does with an existing output (make, remake, skip, or refuse); :func:`simulate_file`
and :func:`unfold_file` write the sidecar *pending* before the ROOT file and *complete* after, so a run killed at any
moment leaves nothing that a rerun would take for finished. This module is what a dask task runs
(:mod:`~turbosim_hep.simulation.tasks`), what :func:`~turbosim_hep.simulation.files.simulate_files` runs serially and
what :func:`~turbosim_hep.simulation.unfolding.unfold_file` runs (the verb's name, ``"simulate"`` or ``"unfold"``,
keeps their sidecars apart).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import awkward as ak
import numpy as np

from turbosim_hep.events.features import partons_to_features, reco_to_features
from turbosim_hep.io.atomic import atomic_path
from turbosim_hep.io.digests import file_sha256
from turbosim_hep.io.root import iterate_events, open_tree, read_events, write_events

__all__ = (
    "RECO_COLLECTIONS",
    "SIDECAR_VERSION",
    "decide",
    "output_path",
    "remove_stale_temporaries",
    "sidecar_path",
    "simulate_file",
    "unfold_file",
)

#: Version of the sidecar record; a record of another version is not trusted (the output is remade).
SIDECAR_VERSION = 1
#: Most output events simulated in one network call (and held in memory at once) when oversampling: ~100 MB.
MAX_ROWS_PER_CALL = 100_000
#: The detector-level collections that unfolding reads (and carries over into its output).
RECO_COLLECTIONS: tuple[str, ...] = ("Electron", "MET", "Jet")
#: How a sidecar's messages name the output of each verb.
_MADE = {"simulate": "simulated", "unfold": "unfolded"}


def output_path(source: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Where the Turbo-Sim version of ``source`` goes: ``out_dir / source.name`` (``run.lhe[.gz]`` -> ``run.root``)."""
    from turbosim_hep.io.lhe import is_lhe_path

    name = Path(source).name
    if is_lhe_path(name):
        name = name[: -len(".lhe.gz")] if name.lower().endswith(".gz") else name[: -len(".lhe")]
        name += ".root"
    return Path(out_dir) / name


def sidecar_path(output: str | os.PathLike) -> Path:
    """The sidecar JSON of an output file: ``NAME.root`` -> ``NAME.root.json``."""
    output = Path(output)
    return output.with_name(output.name + ".json")


def _read_sidecar(path: Path, verb: str) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("made_by") == f"turbosim {verb}" else None


def decide(dst: Path, settings: dict, overwrite: bool, *, verb: str = "simulate") -> str:
    """'make', 'remake' or 'skip' for an output of ``turbosim {verb}`` (``"simulate"`` or ``"unfold"``); raises
    ``FileExistsError`` where it must refuse."""
    record = _read_sidecar(sidecar_path(dst), verb)
    if not dst.exists():
        return "make" if record is None else "remake"
    if record is None:
        if overwrite:
            return "remake"
        raise FileExistsError(
            f"{str(dst)!r} exists and was not made by turbosim {verb} (no sidecar {sidecar_path(dst).name!r} of "
            f"turbosim {verb}); "
            "remove it, choose another --out, or pass --overwrite to replace it"
        )
    if record.get("version") != SIDECAR_VERSION or record.get("output") is None:
        return "remake"
    if record.get("settings") != settings:
        if overwrite:
            return "remake"
        old = record.get("settings", {})
        diff = sorted(k for k in set(settings) | set(old) if settings.get(k) != old.get(k))
        raise FileExistsError(
            f"{str(dst)!r} was {_MADE[verb]} with other settings (differing: {', '.join(diff)}); choose another --out "
            "or pass --overwrite to remake it"
        )
    try:
        intact = file_sha256(dst) == record["output"]["sha256"]
    except (OSError, KeyError, TypeError):
        intact = False
    return "skip" if intact else "remake"


def remove_stale_temporaries(outputs: Sequence[Path]) -> int:
    n = 0
    for dst in outputs:
        for name in (dst.name, sidecar_path(dst).name):
            for stale in dst.parent.glob(f".{name}.*.tmp"):
                stale.unlink(missing_ok=True)
                n += 1
    return n


def _write_sidecar(path: Path, record: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")


def _check_finite(out: ak.Array, source: Path, first_entry: int, n_samples: int, verb: str) -> None:
    features = reco_to_features(out) if verb == "simulate" else partons_to_features(out)
    bad = ~np.all(np.isfinite(features), axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        given = "partons" if verb == "simulate" else "detector objects"
        raise ValueError(
            f"{str(source)!r}: the model gave NaN or infinity for entry {first_entry + i // n_samples} (event id "
            f"{int(out['event'][i])}); its {given} are finite: the model file is damaged or diverged"
        )


def _blocks(n_events: int, n_samples: int, max_rows: int) -> Iterator[tuple[int, int, int, int]]:
    """(first event, stop event, first sample, samples) of each network call, in output order, each at most
    ``max_rows`` output events: several events per call for small ``n_samples``, blocks of samples of one event for
    large ones (the output stays sample-major within each event)."""
    if n_events == 0:  # one empty call: the output's layout (with ``sample`` and ``sourceIndex`` if oversampling)
        yield 0, 0, 0, min(n_samples, max_rows)
        return
    per_call = max(1, max_rows // n_samples)
    for start in range(0, n_events, per_call):
        stop = min(start + per_call, n_events)
        if n_samples <= max_rows:
            yield start, stop, 0, n_samples
            continue
        for first in range(0, n_samples, max_rows):
            yield start, stop, first, min(max_rows, n_samples - first)


def _lhe_chunks(src: Path, settings: dict, step_size: int, sample=None) -> Iterator[ak.Array]:
    from turbosim_hep.io.lhe import read_lhe

    if sample is None:
        sample = read_lhe(src, run=settings["lhe_run"], strict=settings["lhe_strict"])
    for start in range(0, max(len(sample.events), 1), step_size):
        yield sample.events[start : start + step_size]


def simulate_file(
    src: Path,
    dst: Path,
    transform,
    *,
    tree: str,
    record: dict,
    n_samples: int = 1,
    step_size: int = 200_000,
    max_rows: int | None = None,
    advance=None,
    lhe_sample=None,
) -> Path:
    """Simulate one input file into ``dst`` (atomically) and write its sidecar ``record`` (completed with the
    output's digest). ``advance(n)`` is called with the parton events done.

    Oversampling streams: at most ``max_rows`` (default :data:`MAX_ROWS_PER_CALL`) output events are held at a
    time (one network call, appended to the file with ``extend``), whatever ``n_samples``; the events equal those of
    one call, since the noise is keyed on the event ids and the sample index. A file with no entries gives an output
    with no entries.

    A Les Houches input (its record's settings hold ``lhe_run`` and ``lhe_strict``) is read with
    :func:`~turbosim_hep.io.lhe.read_lhe` (or taken from ``lhe_sample``); its ``genWeight`` is carried over.
    Settings with ``"selected_input": False`` mark unselected partons: the output gets ``passSelection`` and
    ``efficiency`` (:meth:`~turbosim_hep.simulation.transform.EventTransform.simulate`).
    """
    settings = record["settings"]
    selected_input = bool(settings.get("selected_input", True))
    if "lhe_run" in settings:
        source, empty = _lhe_chunks(src, settings, step_size, lhe_sample), None
    else:
        source = iterate_events(src, step_size=step_size, collections=("Parton",), tree=tree)
        empty = functools.partial(read_events, src, collections=("Parton",), tree=tree)

    def respond(events: ak.Array, k: int, first_sample: int) -> ak.Array:
        return transform.simulate(events, n_samples=k, first_sample=first_sample, selected_input=selected_input)

    return _transform_file(
        src, dst, transform, "simulate", respond, ("Parton",), source, empty,
        record=record, n_samples=n_samples, max_rows=max_rows, advance=advance,
    )  # fmt: skip


def unfold_file(
    src: Path,
    dst: Path,
    transform,
    *,
    tree: str,
    record: dict,
    n_samples: int = 1,
    step_size: int = 200_000,
    max_rows: int | None = None,
    advance=None,
) -> Path:
    """Unfold one detector-level file into ``dst`` (atomically) and write its sidecar ``record``, as
    :func:`simulate_file` does the other way: the output holds the ids, the unfolded ``Parton`` collection and the
    input's :data:`RECO_COLLECTIONS` (carried over, repeated per sample when oversampling). ``advance(n)`` is called
    with the detector events done."""
    source = iterate_events(src, step_size=step_size, collections=RECO_COLLECTIONS, tree=tree)

    def respond(events: ak.Array, k: int, first_sample: int) -> ak.Array:
        return transform.unfold(events, n_samples=k, first_sample=first_sample)

    return _transform_file(
        src, dst, transform, "unfold", respond, RECO_COLLECTIONS, source,
        functools.partial(read_events, src, collections=RECO_COLLECTIONS, tree=tree),
        record=record, n_samples=n_samples, max_rows=max_rows, advance=advance,
    )  # fmt: skip


def _transform_file(
    src: Path, dst: Path, transform, verb: str, respond, carry: tuple[str, ...], source, empty, *, record: dict,
    n_samples: int, max_rows: int | None, advance,
) -> Path:  # fmt: skip
    """The file job of both verbs: ``respond(events, k, first_sample)`` is the transform's call on a block of input
    events, ``carry`` the input fields copied beside its output (with ``genWeight``), ``source`` yields the input's
    chunks and ``empty()`` reads an input without entries (an output of the same layout)."""
    max_rows = MAX_ROWS_PER_CALL if max_rows is None else int(max_rows)
    tally = getattr(transform, "redraws", None)
    before = None if tally is None else tally.as_dict()
    side = sidecar_path(dst)
    previous = side.read_bytes() if side.exists() else None
    _write_sidecar(side, {**record, "output": None})

    def transformed(events: ak.Array, first: int) -> Iterator[ak.Array]:
        for start, stop, first_sample, k in _blocks(len(events), n_samples, max_rows):
            part = events[start:stop]
            out = respond(part, k, first_sample)
            _check_finite(out, src, first + start, k, verb)
            weight = ak.to_numpy(part["genWeight"]) if "genWeight" in ak.fields(part) else None
            if n_samples == 1:
                for name in carry:
                    out = ak.with_field(out, part[name], name)
                yield out if weight is None else ak.with_field(out, weight, "genWeight")
                continue
            local = ak.to_numpy(out["sourceIndex"])
            out = ak.with_field(out, local + start, "sourceIndex")  # counts within the input chunk
            for name in carry:
                out = ak.with_field(out, part[name][local], name)
            yield out if weight is None else ak.with_field(out, weight[local], "genWeight")

    def chunks() -> Iterator[ak.Array]:
        first = 0
        for events in source:
            yield from transformed(events, first)
            first += len(events)
            if advance is not None:
                advance(len(events))
        if first == 0 and empty is not None:  # no entries: an empty output of the same layout
            yield from transformed(empty(), 0)

    try:
        write_events(dst, chunks(), inputs=[src])
    except BaseException:
        # the output was not replaced: put its sidecar back as it was (a kill -9 leaves the pending one, which a
        # rerun reads as "unfinished")
        if previous is None:
            side.unlink(missing_ok=True)
        else:
            with atomic_path(side) as tmp:
                tmp.write_bytes(previous)
        raise
    entries = open_tree(dst).num_entries
    output = {"sha256": file_sha256(dst), "entries": entries}
    if before is not None and tally.events > before["events"]:  # a decoder truncated to the phase space
        events, draws = tally.events - before["events"], tally.draws - before["draws"]
        output["redraws"] = {"draws_per_event": draws / events, "at_cap": tally.at_cap - before["at_cap"]}
    _write_sidecar(side, {**record, "output": output})
    return dst
