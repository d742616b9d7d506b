"""Turn parton-level ntuples into Turbo-Sim detector-level ntuples in the generator's layout.

Each input file gives one output file of the same name in the output directory, holding the ids, the ``Parton``
collection (carried over) and the simulated ``Electron``, ``MET`` and ``Jet`` branches, so an analysis runs unchanged
on full-simulation and Turbo-Sim samples. Files are written atomically; an output that is already complete (same
number of entries as its input times ``n_samples``) is skipped, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import awkward as ak

from turbosim_hep.io.root import iterate_events, open_tree, write_events
from turbosim_hep.progress import progress_bar

__all__ = ("output_path", "simulate_files")


def output_path(source: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Where the Turbo-Sim version of ``source`` goes: ``out_dir / source.name``."""
    return Path(out_dir) / Path(source).name


def _complete(path: Path, expected: int) -> bool:
    if not path.exists():
        return False
    try:
        return open_tree(path).num_entries == expected
    except (ValueError, FileNotFoundError):
        return False


def simulate_files(
    inputs: Sequence[str | os.PathLike],
    model: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    n_samples: int = 1,
    seed: int | None = None,
    device: str | None = None,
    step_size: int = 200_000,
    progress: bool | None = None,
) -> list[Path]:
    """Simulate every input file (``Parton`` collection needed) with the model; return the output paths.

    ``n_samples`` detector responses are drawn per parton event (the output then has ``sample`` and
    ``sourceIndex`` branches; ``sourceIndex`` counts within the chunk it came from). Inputs are never overwritten.
    """
    from turbosim_hep.transform import load_transform

    inputs = [Path(p) for p in inputs]
    if not inputs:
        raise ValueError("no input files given")
    out_dir = Path(out_dir)
    sizes = {p: open_tree(p).num_entries for p in inputs}
    resolved_inputs = {p.resolve() for p in inputs}
    outputs = [output_path(p, out_dir) for p in inputs]
    for src, dst in zip(inputs, outputs, strict=True):
        if dst.resolve() in resolved_inputs:
            raise ValueError(f"output {str(dst)!r} would overwrite input {str(src)!r}; choose another --out directory")
    if len(set(outputs)) != len(outputs):
        raise ValueError("two inputs share a file name; their outputs would collide in the output directory")
    transform = load_transform(model, device=device, seed=seed)
    todo = [(s, d) for s, d in zip(inputs, outputs, strict=True) if not _complete(d, sizes[s] * n_samples)]
    with progress_bar(
        sum(sizes[s] for s, _ in todo), "simulate", disable=None if progress is None else not progress
    ) as bar:
        for src, dst in todo:

            def chunks(src: Path = src) -> Iterator[ak.Array]:
                for events in iterate_events(src, step_size=step_size, collections=("Parton",)):
                    reco = transform.simulate(events, n_samples=n_samples)
                    partons = events["Parton"] if n_samples == 1 else events["Parton"][ak.to_numpy(reco["sourceIndex"])]
                    bar.advance(len(events))
                    yield ak.with_field(reco, partons, "Parton")

            write_events(dst, chunks(), inputs=inputs)
    return outputs
