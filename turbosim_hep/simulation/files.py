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
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from turbosim_hep import __version__
from turbosim_hep.events.ids import check_unique_ids
from turbosim_hep.io.atomic import check_outputs
from turbosim_hep.io.datasets import resolve_inputs
from turbosim_hep.io.digests import file_sha256
from turbosim_hep.io.root import open_tree
from turbosim_hep.runtime.progress import progress_bar
from turbosim_hep.simulation.file_job import (
    SIDECAR_VERSION,
    decide,
    output_path,
    remove_stale_temporaries,
    sidecar_path,
    simulate_file,
)
from turbosim_hep.simulation.registry import load_transform, resolve_model_path
from turbosim_hep.simulation.tasks import run_on_client

__all__ = ("SimulatedFiles", "simulate_files")


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
    transform = load_transform(model_path, device=device, seed=seed)  # the model file is read and hashed once
    base = {
        "model_sha256": transform.model_sha256,
        "seed": int(getattr(transform, "seed", seed if seed is not None else -1)),
        "n_samples": int(n_samples),
    }
    stale = remove_stale_temporaries(outputs) if out_dir.exists() else 0
    plan = []
    for f, dst in zip(files, outputs, strict=True):
        settings = {**base, "input_sha256": file_sha256(f.path), "input_tree": f.tree}
        plan.append((f, dst, settings, decide(dst, settings, overwrite)))
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
