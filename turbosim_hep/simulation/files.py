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

One run at a time writes into a directory (:func:`turbosim_hep.io.locks.directory_lock`); oversampling streams in
bounded blocks (:func:`turbosim_hep.simulation.file_job.simulate_file`), and a run whose outputs would exceed
:data:`MAX_OUTPUT_EVENTS` or the free disk is refused before it starts.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import awkward as ak
import numpy as np

from turbosim_hep import __version__
from turbosim_hep.events.ids import check_unique_ids
from turbosim_hep.io.atomic import check_outputs
from turbosim_hep.io.datasets import resolve_inputs
from turbosim_hep.io.digests import file_sha256
from turbosim_hep.io.lhe import is_lhe_path, read_lhe
from turbosim_hep.io.locks import directory_lock
from turbosim_hep.io.root import open_tree
from turbosim_hep.runtime.advice import option
from turbosim_hep.runtime.progress import progress_bar
from turbosim_hep.runtime.seeds import check_seed
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

#: Most output events one call makes (input events x n_samples): the limit of ``generate``, ~1 TB of ROOT files.
MAX_OUTPUT_EVENTS = 10**10
#: ROOT bytes per simulated event, for the free-space check (measured: 102 for --samples 100000 on 43 events).
BYTES_PER_EVENT = 100


@dataclasses.dataclass(frozen=True)
class SimulatedFiles:
    """What :func:`simulate_files` did. Iterating gives the output paths, in input order.

    ``made``: outputs written for the first time; ``remade``: outputs replaced (incomplete, or other settings with
    ``overwrite=True``); ``skipped``: outputs already complete with the same settings; ``stale_removed``: temporary
    files of killed runs deleted; ``empty``: outputs made from inputs without events (they have no events either).
    """

    outputs: tuple[Path, ...]
    made: tuple[Path, ...] = ()
    remade: tuple[Path, ...] = ()
    skipped: tuple[Path, ...] = ()
    stale_removed: int = 0
    empty: tuple[Path, ...] = ()
    #: One line per Les Houches input: events read, kept, skipped by channel.
    lhe_summaries: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Path]:
        return iter(self.outputs)

    def __len__(self) -> int:
        return len(self.outputs)

    def summary(self) -> str:
        """One line: made / remade / skipped counts."""
        parts = [f"made {len(self.made)}", f"remade {len(self.remade)}", f"skipped {len(self.skipped)} (complete)"]
        if self.empty:
            parts.append(f"{len(self.empty)} input(s) without events gave output(s) without events")
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
    lhe_run: int = 1,
    strict: bool = False,
    selected_input: bool | None = None,
) -> SimulatedFiles:
    """Simulate every input (``Parton`` collection needed) with the model into ``out_dir``; see the module docstring.

    ``inputs`` are ROOT files, directories or fileset JSON (each file's tree is the fileset's, else ``Events``).
    ``n_samples`` detector responses are drawn per parton event (the output then has ``sample`` and
    ``sourceIndex`` branches; ``sourceIndex`` counts within the chunk it came from). ``seed`` is the noise seed
    (default: the model's). ``client`` (a ``distributed.Client``) runs one task per file on its cluster, the model
    loaded once per worker (:mod:`turbosim_hep.simulation.tasks`; inputs and ``out_dir`` on a filesystem the workers
    share); the outputs equal a serial run's. Returns a :class:`SimulatedFiles` (iterate it for the output paths).

    Les Houches files (``*.lhe``, ``*.lhe.gz``, e.g. from MadGraph) are read with
    :func:`~turbosim_hep.io.lhe.read_lhe`: ``run = lhe_run``, ``event`` = position in the file, ``genWeight`` kept,
    events of other decay channels counted and skipped (``strict``: refused); ``run.lhe.gz`` gives ``run.root``.

    ``selected_input`` says whether the partons passed the selection: ``True`` treats every event as selected (the
    outputs hold no extra branch), ``False`` marks each with ``passSelection`` and ``efficiency`` from the model's
    efficiency ε(z) (a ``ValueError`` if it has none), ``None`` (default) decides per file
    (:func:`~turbosim_hep.simulation.input_selection.recorded_selection`: Les Houches and ``generate --no-select``
    files are unselected) and, for a model without an efficiency, warns and treats them as selected.
    """
    samples_name = option(python="n_samples", cli="--samples")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise ValueError(f"{samples_name} must be an integer >= 1, got {n_samples!r}")
    if seed is not None:
        check_seed(seed)
    given = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    if not given:
        raise ValueError("no input files given")
    files = resolve_inputs(given)
    out_dir = Path(out_dir)
    out_flag = option(python="out_dir", cli="--out")
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"{out_flag} {str(out_dir)!r} exists and is not a directory; choose a directory")
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
    lhe_samples = {}
    for f in files:
        if is_lhe_path(f.path):
            sample = lhe_samples[f.path.resolve()] = read_lhe(f.path, run=lhe_run, strict=strict)
            sizes[f.path] = len(sample.events)
            ev = sample.events
            blocks.append((str(f.path), *(ak.to_numpy(ev[k]) for k in ("run", "luminosityBlock", "event"))))
            continue
        tree = open_tree(f.path, tree=f.tree)
        sizes[f.path] = tree.num_entries
        ids = tree.arrays(["run", "luminosityBlock", "event"], library="np") if "run" in tree.keys() else None
        if ids is not None:
            blocks.append((str(f.path), ids["run"], ids["luminosityBlock"], ids["event"]))
    check_unique_ids(blocks)
    total = sum(sizes.values()) * int(n_samples)
    if total > MAX_OUTPUT_EVENTS:
        raise ValueError(
            f"{samples_name} {int(n_samples):,} on {sum(sizes.values()):,} input events makes {total:,} events, more "
            f"than {MAX_OUTPUT_EVENTS:,} (~{total * BYTES_PER_EVENT / 1e12:,.0f} TB of ROOT files); draw fewer samples"
        )
    check_free_space(out_dir, total, samples_name, int(n_samples))
    transform = load_transform(model_path, device=device, seed=seed)  # the model file is read and hashed once
    selected = _selected_inputs(files, transform, selected_input, model_path)
    base = {
        "model_sha256": transform.model_sha256,
        "seed": int(getattr(transform, "seed", seed if seed is not None else -1)),
        "n_samples": int(n_samples),
    }
    with directory_lock(out_dir, verb="simulate", flag=out_flag):
        return _simulate_locked(
            files, outputs, out_dir, model, model_path, transform, base, sizes,
            n_samples=int(n_samples), step_size=step_size, overwrite=overwrite, progress=progress, client=client,
            device=device, lhe_samples=lhe_samples, lhe_settings={"lhe_run": int(lhe_run), "lhe_strict": bool(strict)},
            selected=selected,
        )  # fmt: skip


def _simulate_locked(
    files, outputs, out_dir, model, model_path, transform, base, sizes, *, n_samples, step_size, overwrite, progress,
    client, device, lhe_samples, lhe_settings, selected,
) -> SimulatedFiles:  # fmt: skip
    """The part of :func:`simulate_files` that writes, run while holding ``out_dir``'s lock: no other run can take
    this run's live temporary files for those of a killed one."""
    stale = remove_stale_temporaries(outputs)
    plan = []
    for f, dst in zip(files, outputs, strict=True):
        settings = {**base, "input_sha256": file_sha256(f.path), "input_tree": f.tree}
        if f.path.resolve() in lhe_samples:
            settings.update(input_tree=None, **lhe_settings)
        if not selected[f.path]:  # recorded only when unselected: outputs of selected inputs keep their settings
            settings["selected_input"] = False
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
                lhe_sample=lhe_samples.get(Path(job["src"])),
            )
    return SimulatedFiles(
        outputs=tuple(outputs),
        made=tuple(d for _, d, _, a in plan if a == "make"),
        remade=tuple(d for _, d, _, a in plan if a == "remake"),
        skipped=tuple(d for _, d, _, a in plan if a == "skip"),
        stale_removed=stale,
        empty=tuple(d for f, d, _, a in plan if a != "skip" and sizes[f.path] == 0),
        lhe_summaries=tuple(sample.summary() for sample in lhe_samples.values()),
    )


def _selected_inputs(files, transform, selected_input: bool | None, model_path: Path) -> dict[Path, bool]:
    """Whether each input is taken as selected (see :func:`simulate_files`)."""
    import warnings

    from turbosim_hep.simulation.input_selection import recorded_selection

    if selected_input is not None:
        if not selected_input:
            transform._efficiency_model()  # a model without an efficiency stops here, saying how to attach one
        return {f.path: bool(selected_input) for f in files}
    selected = {f.path: recorded_selection(f.path) for f in files}
    unselected = [str(p) for p, s in selected.items() if not s]
    if unselected and transform.efficiency is None:
        warnings.warn(
            f"{unselected[0]!r}{f' and {len(unselected) - 1} more' if len(unselected) > 1 else ''} hold partons that "
            f"were never selected, but the model {str(model_path)!r} has no selection efficiency: every event is "
            "returned as if it passed the selection; attach one with 'turbosim train-efficiency', or pass "
            + option(python="selected_input=True", cli="--selected-input")
            + " to silence this",
            stacklevel=3,
        )
        return {p: True for p in selected}
    return selected


def check_free_space(out_dir: Path, events: int, samples_name: str, n_samples: int) -> None:
    """Refuse a run whose outputs would not fit on the output directory's filesystem (estimated, before starting)."""
    import shutil

    need = events * BYTES_PER_EVENT
    existing = next((d for d in (out_dir, *out_dir.parents) if d.exists()), None)
    if existing is None or need < 2**30:
        return
    free = shutil.disk_usage(existing).free
    if need > free:
        raise ValueError(
            f"{samples_name} {n_samples:,} makes {events:,} events, about {need / 1e9:,.0f} GB of ROOT files, but "
            f"{str(existing)!r} has {free / 1e9:,.0f} GB free; draw fewer samples or choose another output directory"
        )
