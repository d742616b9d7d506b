"""Turn parton-level ntuples into Turbo-Sim detector-level ntuples in the generator's layout.

Each input file gives one output file of the same name in the output directory, holding the ids, the ``Parton``
collection (carried over) and the simulated ``Electron``, ``MET`` and ``Jet`` branches, so an analysis runs unchanged
on full-simulation and Turbo-Sim samples.

Beside each output ``NAME.root`` a sidecar ``NAME.root.json`` records what made it: the model file's SHA-256, the
noise seed, ``n_samples``, the input file's path, tree and SHA-256, and the output's SHA-256 and entry count. A
rerun into the same directory

- **skips** an output whose sidecar matches the run's settings and whose bytes match the recorded digest;
- **remakes** one whose sidecar matches but whose file is missing or changed (a run killed mid-file);
- **refuses** (``FileExistsError``) one made with other settings (naming them) or a file it did not make (no
  sidecar, e.g. a full-simulation chunk copied in), unless ``overwrite=True``, which remakes it.

The ROOT file is written to a temporary file and renamed; the sidecar is written as *pending* before and completed
after, so a run killed at any moment leaves nothing that a rerun would take for finished. Temporary files of killed
runs are removed. Inputs are never overwritten, whatever ``overwrite`` says.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import awkward as ak
import numpy as np

from turbosim_hep.io.root import iterate_events, open_tree, write_events
from turbosim_hep.runtime.progress import progress_bar

__all__ = ("SimulatedFiles", "output_path", "sidecar_path", "simulate_files")

#: Version of the sidecar record; a record of another version is not trusted (the output is remade).
SIDECAR_VERSION = 1


def output_path(source: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Where the Turbo-Sim version of ``source`` goes: ``out_dir / source.name``."""
    return Path(out_dir) / Path(source).name


def sidecar_path(output: str | os.PathLike) -> Path:
    """The sidecar JSON of an output file: ``NAME.root`` -> ``NAME.root.json``."""
    output = Path(output)
    return output.with_name(output.name + ".json")


@dataclasses.dataclass(frozen=True)
class SimulatedFiles:
    """What :func:`simulate_files` did. Iterating gives the output paths, in input order.

    ``made``: outputs written for the first time; ``remade``: outputs replaced (incomplete, or other settings with
    ``overwrite=True``); ``skipped``: outputs already complete with the same settings; ``stale_removed``: temporary
    files of killed runs deleted.
    """

    outputs: tuple[Path, ...]
    made: tuple[Path, ...] = ()
    remade: tuple[Path, ...] = ()
    skipped: tuple[Path, ...] = ()
    stale_removed: int = 0

    def __iter__(self) -> Iterator[Path]:
        return iter(self.outputs)

    def __len__(self) -> int:
        return len(self.outputs)

    def summary(self) -> str:
        """One line: made / remade / skipped counts."""
        parts = [f"made {len(self.made)}", f"remade {len(self.remade)}", f"skipped {len(self.skipped)} (complete)"]
        if self.stale_removed:
            parts.append(f"removed {self.stale_removed} temporary file(s) of an interrupted run")
        return ", ".join(parts)


def _read_sidecar(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("made_by") == "turbosim simulate" else None


def _decide(dst: Path, settings: dict, overwrite: bool) -> str:
    """'make', 'remake' or 'skip' for an output; raises ``FileExistsError`` where it must refuse."""
    from turbosim_hep.io.digests import file_sha256

    record = _read_sidecar(sidecar_path(dst))
    if not dst.exists():
        return "make" if record is None else "remake"
    if record is None:
        if overwrite:
            return "remake"
        raise FileExistsError(
            f"{str(dst)!r} exists and was not made by turbosim simulate (no sidecar {sidecar_path(dst).name!r}); "
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
            f"{str(dst)!r} was simulated with other settings (differing: {', '.join(diff)}); choose another --out "
            "or pass --overwrite to remake it"
        )
    try:
        intact = file_sha256(dst) == record["output"]["sha256"]
    except (OSError, KeyError, TypeError):
        intact = False
    return "skip" if intact else "remake"


def _remove_stale_temporaries(outputs: Sequence[Path]) -> int:
    n = 0
    for dst in outputs:
        for name in (dst.name, sidecar_path(dst).name):
            for stale in dst.parent.glob(f".{name}.*.tmp"):
                stale.unlink(missing_ok=True)
                n += 1
    return n


def _write_sidecar(path: Path, record: dict) -> None:
    from turbosim_hep.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")


def _check_finite(reco: ak.Array, source: Path, first_entry: int, n_samples: int) -> None:
    from turbosim_hep.events.features import reco_to_features

    x = reco_to_features(reco)
    bad = ~np.all(np.isfinite(x), axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{str(source)!r}: the model gave NaN or infinity for entry {first_entry + i // n_samples} (event id "
            f"{int(reco['event'][i])}); its partons are finite: the model file is damaged or diverged"
        )


def simulate_file(
    src: Path,
    dst: Path,
    transform,
    *,
    tree: str,
    record: dict,
    n_samples: int = 1,
    step_size: int = 200_000,
    advance=None,
) -> Path:
    """Simulate one input file into ``dst`` (atomically) and write its sidecar ``record`` (completed with the
    output's digest). ``advance(n)`` is called with the parton events done."""
    from turbosim_hep.io.digests import file_sha256

    side = sidecar_path(dst)
    previous = side.read_bytes() if side.exists() else None
    _write_sidecar(side, {**record, "output": None})

    def chunks() -> Iterator[ak.Array]:
        first = 0
        for events in iterate_events(src, step_size=step_size, collections=("Parton",), tree=tree):
            reco = transform.simulate(events, n_samples=n_samples)
            _check_finite(reco, src, first, n_samples)
            partons = events["Parton"] if n_samples == 1 else events["Parton"][ak.to_numpy(reco["sourceIndex"])]
            first += len(events)
            if advance is not None:
                advance(len(events))
            yield ak.with_field(reco, partons, "Parton")

    try:
        write_events(dst, chunks(), inputs=[src])
    except BaseException:
        # the output was not replaced: put its sidecar back as it was (a kill -9 leaves the pending one, which a
        # rerun reads as "unfinished")
        if previous is None:
            side.unlink(missing_ok=True)
        else:
            from turbosim_hep.io.atomic import atomic_path

            with atomic_path(side) as tmp:
                tmp.write_bytes(previous)
        raise
    entries = open_tree(dst).num_entries
    _write_sidecar(side, {**record, "output": {"sha256": file_sha256(dst), "entries": entries}})
    return dst


def simulate_files(
    inputs: str | os.PathLike | Sequence[str | os.PathLike],
    model: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    n_samples: int = 1,
    seed: int | None = None,
    device: str | None = None,
    step_size: int = 200_000,
    overwrite: bool = False,
    progress: bool | None = None,
    client=None,
) -> SimulatedFiles:
    """Simulate every input (``Parton`` collection needed) with the model into ``out_dir``; see the module docstring.

    ``inputs`` are ROOT files, directories or fileset JSON (each file's tree is the fileset's, else ``Events``).
    ``n_samples`` detector responses are drawn per parton event (the output then has ``sample`` and
    ``sourceIndex`` branches; ``sourceIndex`` counts within the chunk it came from). ``seed`` is the noise seed
    (default: the model's). ``client`` (a ``distributed.Client``) runs one task per file on its cluster, the model
    loaded once per worker (:mod:`turbosim_hep.simulation.tasks`; inputs and ``out_dir`` on a filesystem the workers
    share); the outputs equal a serial run's. Returns a :class:`SimulatedFiles` (iterate it for the output paths).
    """
    from turbosim_hep import __version__
    from turbosim_hep.events.ids import check_unique_ids
    from turbosim_hep.io.atomic import check_outputs
    from turbosim_hep.io.datasets import resolve_inputs
    from turbosim_hep.io.digests import file_sha256
    from turbosim_hep.simulation.registry import resolve_model_path
    from turbosim_hep.simulation.transform import load_transform

    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    given = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    if not given:
        raise ValueError("no input files given")
    files = resolve_inputs(given)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"--out {str(out_dir)!r} exists and is not a directory")
    model_path = resolve_model_path(model)
    outputs = [output_path(f.path, out_dir) for f in files]
    names = [o.name for o in outputs]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        clash = [str(f.path) for f, o in zip(files, outputs, strict=True) if o.name == dup]
        raise ValueError(
            f"inputs {clash!r} share the file name {dup!r}; their outputs would collide in {str(out_dir)!r}"
        )
    check_outputs(
        [*outputs, *map(sidecar_path, outputs)],
        [*given, *(f.path for f in files), model_path],
        verb="simulate --out",
    )
    sizes = {}
    blocks = []
    for f in files:
        tree = open_tree(f.path, tree=f.tree)
        sizes[f.path] = tree.num_entries
        ids = tree.arrays(["run", "luminosityBlock", "event"], library="np") if "run" in tree.keys() else None
        if ids is not None:
            blocks.append((str(f.path), ids["run"], ids["luminosityBlock"], ids["event"]))
    check_unique_ids(blocks)
    transform = load_transform(model, device=device, seed=seed)
    base = {
        "model_sha256": file_sha256(model_path),
        "seed": int(getattr(transform, "seed", seed if seed is not None else -1)),
        "n_samples": int(n_samples),
    }
    stale = _remove_stale_temporaries(outputs) if out_dir.exists() else 0
    plan = []
    for f, dst in zip(files, outputs, strict=True):
        settings = {**base, "input_sha256": file_sha256(f.path), "input_tree": f.tree}
        plan.append((f, dst, settings, _decide(dst, settings, overwrite)))
    todo = [p for p in plan if p[3] != "skip"]
    jobs = [
        {
            "src": str(f.path.resolve()),
            "dst": str(dst.resolve()),
            "tree": f.tree,
            "record": {
                "made_by": "turbosim simulate",
                "version": SIDECAR_VERSION,
                "settings": settings,
                "model": str(model_path),
                "input": str(f.path.resolve()),
                "input_entries": sizes[f.path],
                "turbosim_hep": __version__,
            },
            "n_samples": int(n_samples),
            "step_size": int(step_size),
        }
        for f, dst, settings, _ in todo
    ]
    disable = None if progress is None else not progress
    with progress_bar(sum(j["record"]["input_entries"] for j in jobs), "simulate", disable=disable) as bar:
        if client is not None and jobs:
            from turbosim_hep.simulation.tasks import run_on_client

            out_dir.mkdir(parents=True, exist_ok=True)
            # a model file travels by its absolute path, a shipped model by its name (resolved on each worker)
            worker_model = str(model_path.resolve()) if Path(model).exists() else str(model)
            for job in jobs:
                job.update(model=worker_model, seed=base["seed"], device=device)
            run_on_client(client, jobs, bar)
            jobs = []  # done on the cluster
        for job in jobs:
            simulate_file(
                Path(job["src"]),
                Path(job["dst"]),
                transform,
                tree=job["tree"],
                record=job["record"],
                n_samples=n_samples,
                step_size=step_size,
                advance=bar.advance,
            )
    return SimulatedFiles(
        outputs=tuple(outputs),
        made=tuple(d for _, d, _, a in plan if a == "make"),
        remade=tuple(d for _, d, _, a in plan if a == "remake"),
        skipped=tuple(d for _, d, _, a in plan if a == "skip"),
        stale_removed=stale,
    )
