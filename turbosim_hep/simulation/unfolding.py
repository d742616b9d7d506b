"""Unfold a detector-level ntuple into a parton-level one: ``turbosim unfold INPUT --model M --out OUT.root``.

The output is an ntuple in the generator's layout (:mod:`turbosim_hep.io.root`): the ids, the unfolded ``Parton``
collection (``nParton`` + ``Parton_{pt,eta,phi,mass,pdgId}``, six per event, as ``turbosim generate`` writes the
truth) and the input's ``Electron``, ``MET`` and ``Jet`` carried over, so ``read_events(OUT.root)`` gives parton and
detector side by side. With ``n_samples = K > 1`` each input event gives K parton events (posterior draws),
sample-major, with ``sample`` (0..K-1) and ``sourceIndex`` (the input entry, counted within its read chunk of
``step_size`` entries, as ``simulate`` counts it) branches.

It is ``turbosim simulate``'s file machinery run the other way (:func:`~turbosim_hep.simulation.file_job.unfold_file`):
the output is written to a temporary file and renamed; a sidecar ``OUT.root.json`` records the model's SHA-256, the
seed, ``n_samples`` and the input's path, tree and SHA-256 (pending before the write, complete after), so a rerun
skips a complete output made with the same settings, remakes an unfinished one, and refuses one made otherwise or a
file ``unfold`` did not make unless ``overwrite=True``. The input is never overwritten. One run at a time writes into
the output's directory (:func:`~turbosim_hep.io.locks.directory_lock`).

The unfolded partons are the network's four-vectors: a model whose encoder returns E < |p| gives partons with a
negative (signed) mass, which :func:`~turbosim_hep.io.root.read_events` refuses as unphysical unless
``validate=False`` (the shipped ``ttbar-physics`` does so for about half of the partons of each slot;
:func:`turbosim_hep.evaluation.unfolding_physics.off_shell_shares` counts them).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from turbosim_hep import __version__
from turbosim_hep.io.atomic import check_outputs
from turbosim_hep.io.datasets import resolve_inputs
from turbosim_hep.io.digests import file_sha256
from turbosim_hep.io.lhe import is_lhe_path
from turbosim_hep.io.locks import directory_lock
from turbosim_hep.io.root import open_tree
from turbosim_hep.runtime.advice import option
from turbosim_hep.runtime.progress import progress_bar
from turbosim_hep.runtime.seeds import check_seed
from turbosim_hep.simulation.file_job import (
    RECO_COLLECTIONS,
    SIDECAR_VERSION,
    decide,
    remove_stale_temporaries,
    sidecar_path,
)
from turbosim_hep.simulation.file_job import unfold_file as _unfold_job
from turbosim_hep.simulation.files import MAX_OUTPUT_EVENTS, check_free_space
from turbosim_hep.simulation.registry import load_transform, resolve_model_path

__all__ = ("UnfoldedFile", "reco_branches", "unfold_file")


def reco_branches() -> tuple[str, ...]:
    """The branches an input of :func:`unfold_file` needs: ``nElectron``, ``Electron_pt``, ..., ``MET_pzMiss``."""
    out = []
    for coll in RECO_COLLECTIONS:
        if coll == "MET":
            out += ["MET_pt", "MET_phi", "MET_pzMiss"]
        else:
            out += [f"n{coll}", *(f"{coll}_{k}" for k in ("pt", "eta", "phi", "mass"))]
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class UnfoldedFile:
    """What :func:`unfold_file` did: ``action`` is ``"make"``, ``"remake"`` or ``"skip"`` (complete already)."""

    output: Path
    action: str
    input_entries: int
    n_samples: int
    stale_removed: int = 0

    def summary(self) -> str:
        """One line: what was done, with how many events."""
        done = {"make": "made", "remake": "remade", "skip": "skipped (complete, same settings)"}[self.action]
        line = f"{str(self.output)!r} {done}: {self.input_entries:,} detector events"
        if self.n_samples > 1:
            line += f" x {self.n_samples} samples = {self.input_entries * self.n_samples:,} parton events"
        if self.stale_removed:
            line += f"; removed {self.stale_removed} temporary file(s) of an interrupted run"
        return line


def unfold_file(
    source: str | os.PathLike,
    model: str | os.PathLike,
    out: str | os.PathLike,
    *,
    n_samples: int = 1,
    seed: int | None = None,
    device: str | None = None,
    step_size: int = 200_000,
    overwrite: bool = False,
    progress: bool | None = None,
) -> UnfoldedFile:
    """Unfold the detector-level events of ``source`` with ``model`` into the ROOT file ``out``; see the module.

    Arguments
    ---------
    source
        A ROOT file with ``Electron``, ``MET`` and ``Jet`` branches (:func:`reco_branches`; ``turbosim generate`` or
        ``turbosim simulate`` output), or a fileset JSON / directory naming exactly one such file.
    model
        A model file or a shipped model's name (``"ttbar-physics"``).
    out
        The output ROOT file (``OUT.root``); never one of the inputs.
    n_samples
        Parton events drawn per detector event (K); K > 1 adds the ``sample`` and ``sourceIndex`` branches.
    seed
        Noise seed (default: the model's); each event's noise is keyed on it and the event's ids.
    device, step_size, progress
        Where the network runs; entries read at a time; the progress bar (``None``: when stderr is a terminal).
    overwrite
        Remake an output made with other settings or not made by ``unfold``.

    Returns
    -------
    :class:`UnfoldedFile`

    Example
    -------
    >>> unfold_file("ttbar/chunk-0000.root", "ttbar-physics", "unfolded.root", n_samples=4).summary()
    "'unfolded.root' made: 611 detector events x 4 samples = 2,444 parton events"
    """
    samples_name = option(python="n_samples", cli="--samples")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise ValueError(f"{samples_name} must be an integer >= 1, got {n_samples!r}")
    if seed is not None:
        check_seed(seed)
    files = resolve_inputs([source])
    if len(files) != 1:
        raise ValueError(
            f"{str(source)!r} names {len(files)} files; unfold takes one detector-level file: run it once per file"
        )
    src, tree_name = files[0].path, files[0].tree
    if is_lhe_path(src):
        raise ValueError(f"{str(src)!r} is a Les Houches file of partons; unfold takes detector-level events")
    out = Path(out)
    out_flag = option(python="out", cli="--out")
    if out.is_dir() or out.suffix.lower() != ".root":
        raise ValueError(f"{out_flag} {str(out)!r} must name a ROOT file such as unfolded.root, not a directory")
    model_path = resolve_model_path(model)
    check_outputs([out, sidecar_path(out)], [source, src, model_path], verb="unfold --out")
    tree = open_tree(src, tree=tree_name)
    missing = [b for b in reco_branches() if b not in tree.keys()]
    if missing:
        raise ValueError(
            f"{str(src)!r}: TTree {tree_name!r} has no branch {missing[0]!r}; unfold needs detector-level events "
            f"({', '.join(RECO_COLLECTIONS)}), e.g. a 'turbosim generate' or 'turbosim simulate' output"
        )
    entries = int(tree.num_entries)
    total = entries * int(n_samples)
    if total > MAX_OUTPUT_EVENTS:
        raise ValueError(
            f"{samples_name} {int(n_samples):,} on {entries:,} input events makes {total:,} events, more than "
            f"{MAX_OUTPUT_EVENTS:,}; draw fewer samples"
        )
    check_free_space(out.parent, total, samples_name, int(n_samples))
    transform = load_transform(model_path, device=device, seed=seed)
    if "unfold" not in transform.directions:
        raise ValueError(f"the model {str(model)!r} cannot unfold (it provides {transform.directions!r})")
    settings = {
        "model_sha256": transform.model_sha256,
        "seed": int(transform.seed),
        "n_samples": int(n_samples),
        "input_sha256": file_sha256(src),
        "input_tree": tree_name,
    }
    with directory_lock(out.parent, verb="unfold", flag=out_flag):
        stale = remove_stale_temporaries([out])
        action = decide(out, settings, overwrite, verb="unfold")
        if action != "skip":
            record = {
                "made_by": "turbosim unfold",
                "version": SIDECAR_VERSION,
                "settings": settings,
                "model": str(model_path),
                "input": str(src.resolve()),
                "input_entries": entries,
                "turbosim_hep": __version__,
            }
            with progress_bar(entries, "unfold", disable=None if progress is None else not progress) as bar:
                _unfold_job(
                    src, out, transform, tree=tree_name, record=record, n_samples=int(n_samples),
                    step_size=step_size, advance=bar.advance,
                )  # fmt: skip
    return UnfoldedFile(output=out, action=action, input_entries=entries, n_samples=int(n_samples), stale_removed=stale)
