"""TurboSimProcessor: full simulation and Turbo-Sim side by side in a coffea workflow.

``process(events)`` drops events with NaN, infinity or unphysical values, wrong parton pdgIds or objects outside the
detector (counted in the cutflow as "finite and physical", with a warning; :mod:`~turbosim_hep.events.validity`); a
missing branch is a ``ValueError`` naming the file and the branch, and :func:`check_fileset` checks a fileset before
``processor.Runner`` opens it (an empty or damaged file would fail there with a traceback). It then selects the
events, simulates their partons with a trained model, reconstructs the t tbar system of both the full-simulation and
the Turbo-Sim reco, and fills one ``hist.Hist`` per observable with a ``simulation`` axis ("full-sim", "turbo-sim"),
plus a cutflow.

Partons that were never selected (``turbosim generate --no-select``, ``selected_input=False``, a model with an
efficiency ε(z)): the full simulation is selected as above, while Turbo-Sim simulates the partons of *every* event
and the histograms get only its responses with ``passSelection`` (drawn with probability ε(z), as
``simulate(..., selected_input=False)`` marks them), so both samples are selected ones, with integer counts and the
yield comparison the full simulation's selection makes. (A weighted histogram with ``efficiency`` has a smaller
spread; ``simulate()`` returns the weight for that.) The cutflow counts the Turbo-Sim events that pass.

With ``unfold=True`` it also unfolds the selected full-simulation events back to the parton level
(:meth:`~turbosim_hep.simulation.transform.EventTransform.unfold`) and fills, under ``"unfolded"``, one histogram per
parton-level observable of :data:`PARTON_OBSERVABLES` (m_tt, hadronic and leptonic top pT, y_tt, from
:func:`~turbosim_hep.evaluation.features.parton_observables`) with a ``level`` axis: "truth" (the events' partons)
and "unfolded".

It runs unchanged under ``processor.Runner`` with the Iterative, Futures and Dask executors.

The model is loaded once per worker process (a per-process cache keyed by the file and its modification time, kept
out of pickles), with one torch thread per worker: several torch threads per dask/futures worker oversubscribe the
cores and run ~100x slower (REFERENCE.md §8).
"""

from __future__ import annotations

import os
import warnings

import awkward as ak
import hist
import numpy as np
from coffea import processor

from turbosim_hep.constants import X_FEATURES
from turbosim_hep.evaluation.features import parton_observables
from turbosim_hep.events.features import partons_to_features, reco_to_features
from turbosim_hep.events.validity import invalid_events
from turbosim_hep.physics.reconstruction import reconstruct_features
from turbosim_hep.simulation.worker_cache import cached_transform

__all__ = ("LEVELS", "MASSES", "PARTON_OBSERVABLES", "SAMPLES", "TurboSimProcessor", "check_fileset")

#: Branches the processor reads, per collection: the partons it simulates and the full simulation it compares with.
REQUIRED: dict[str, tuple[str, ...]] = {
    "Parton": ("pt", "eta", "phi", "mass", "pdgId"),
    "Electron": ("pt", "eta", "phi", "mass"),
    "Jet": ("pt", "eta", "phi", "mass"),
    "MET": ("pt", "phi", "pzMiss"),
}


def _required_branches() -> list[str]:
    return [f"{c}_{k}" for c, fields in REQUIRED.items() for k in fields]


def check_fileset(fileset: dict, *, treename: str = "Events") -> None:
    """Check every file of a coffea ``fileset`` before ``processor.Runner`` reads it: it opens, holds the tree and
    the branches the processor needs. Raises a one-line ``ValueError`` naming the dataset, the file and what is
    wrong (coffea's preprocessing would fail on an empty or damaged file with a traceback).

    ``fileset`` is ``{dataset: {"files": {path: tree}}}`` or ``{dataset: [path, ...]}``.
    """
    from turbosim_hep.io.root import open_tree

    for dataset, entry in fileset.items():
        files = entry.get("files", entry) if isinstance(entry, dict) else entry
        items = files.items() if isinstance(files, dict) else ((f, treename) for f in files)
        for path, tree in items:
            try:
                t = open_tree(path, tree=tree or treename)
            except (OSError, ValueError) as err:
                raise ValueError(f"dataset {dataset!r}: {err}") from None
            names = set(t.keys())
            missing = [b for b in _required_branches() if b not in names]
            if missing:
                raise ValueError(
                    f"dataset {dataset!r}: {str(path)!r}: TTree {t.name!r} has no branch {missing[0]!r} (the processor "
                    f"needs {', '.join(_required_branches())})"
                )


#: The two reco samples every histogram holds.
SAMPLES: tuple[str, ...] = ("full-sim", "turbo-sim")

#: Reconstructed masses histogrammed: name -> (label, bins, low, high) [GeV]. The m_t axes reach 600 GeV in 5 GeV
#: bins: the chi^2 assignment gives m_t(had) a long tail (11 % of full-sim events above 400 GeV, 4 % above 600).
MASSES: dict[str, tuple[str, int, float, float]] = {
    "m_tt": (r"$m_{t\bar{t}}$ [GeV]", 100, 250.0, 1500.0),
    "m_w_had": (r"$m_{W}^{had}$ [GeV]", 100, 0.0, 250.0),
    "m_t_lep": (r"$m_{t}^{lep}$ [GeV]", 120, 0.0, 600.0),
    "m_t_had": (r"$m_{t}^{had}$ [GeV]", 120, 0.0, 600.0),
}


#: The two parton-level samples of the unfolded histograms (``unfold=True``).
LEVELS: tuple[str, ...] = ("truth", "unfolded")

#: Parton-level observables of the unfolded histograms (keys of ``parton_observables``): name -> (label, bins, low,
#: high) [GeV; y_tt dimensionless].
PARTON_OBSERVABLES: dict[str, tuple[str, int, float, float]] = {
    "m_tt": (r"parton $m_{t\bar{t}}$ [GeV]", 100, 250.0, 1500.0),
    "top_pt_had": (r"parton $p_T^{t,had}$ [GeV]", 100, 0.0, 500.0),
    "top_pt_lep": (r"parton $p_T^{t,lep}$ [GeV]", 100, 0.0, 500.0),
    "y_tt": (r"parton $y_{t\bar{t}}$", 60, -3.0, 3.0),
}


def _feature_axis(name: str) -> tuple[str, int, float, float]:
    obj, comp = name.rsplit("_", 1)
    label = f"{obj} ${comp if comp != 'E' else 'E'}$ [GeV]".replace("$px$", "$p_x$")
    label = label.replace("$py$", "$p_y$").replace("$pz$", "$p_z$")
    if obj == "met" and comp in ("pz", "E"):
        return label, 100, (-3000.0 if comp == "pz" else 0.0), 3000.0
    if comp == "E":
        return label, 100, 0.0, 1500.0
    if comp == "pz":
        return label, 100, -1200.0, 1200.0
    return label, 100, -400.0, 400.0


class TurboSimProcessor(processor.ProcessorABC):
    """Compare full simulation with Turbo-Sim on the same parton events.

    Arguments
    ---------
    model
        Path of a model file (``turbosim train``, ``baseline-otus``, ``baseline-lookup``; readable from every
        worker) or the name of a shipped model (``"ttbar-physics"``).
    seed
        Noise seed (default: the model's); the noise of each event is keyed on its ids, so results do not depend on
        chunking or executor.
    selection
        "auto" (the OTUS selection when the generator's muon/photon counts are present, else at least one electron
        and four jets), "otus", "minimal" or "none" (every event must then have an electron and four jets).
    selected_input
        ``True`` (default): the events passed the selection the model was trained on. ``False``: they were never
        selected; Turbo-Sim's histograms then hold only its events with ``passSelection`` (needs a model with an
        efficiency, ``turbosim train-efficiency``; use the OTUS selection, the one ε(z) learns, for the full sim).
    unfold
        Also unfold the selected full-simulation events and fill ``output[dataset]["unfolded"]``: one histogram per
        :data:`PARTON_OBSERVABLES` entry with a ``level`` axis ("truth": the events' partons, "unfolded"); the
        cutflow counts the events as "unfolded".
    device, batch_size, torch_threads
        Where and how the network runs on each worker.
    """

    def __init__(
        self,
        model: str | os.PathLike,
        *,
        seed: int | None = None,
        selection: str = "auto",
        selected_input: bool = True,
        unfold: bool = False,
        device: str = "cpu",
        batch_size: int = 65_536,
        torch_threads: int = 1,
    ) -> None:
        if selection not in ("auto", "otus", "minimal", "none"):
            raise ValueError(f"selection must be 'auto', 'otus', 'minimal' or 'none', got {selection!r}")
        self.model = str(model)
        self.seed = seed
        self.selection = selection
        self.selected_input = bool(selected_input)
        self.unfold = bool(unfold)
        self.device = device
        self.batch_size = batch_size
        self.torch_threads = torch_threads

    def _select(self, events) -> tuple[np.ndarray, dict[str, int]]:
        fields = ak.fields(events)
        use_otus = self.selection == "otus" or (
            self.selection == "auto" and "isoMuonCount" in fields and "isoPhotonCount" in fields
        )
        if use_otus:
            from turbosim_hep.generation.selection import otus_selection

            mask, cutflow = otus_selection(events)
            return mask, {("events read" if k == "generated" else k): v for k, v in cutflow.items()}
        n = len(events)
        if self.selection == "none":
            return np.ones(n, dtype=bool), {"all events": n}
        mask = (ak.to_numpy(ak.num(events.Electron, axis=1)) >= 1) & (ak.to_numpy(ak.num(events.Jet, axis=1)) >= 4)
        return mask, {"all events": n, ">= 1 electron and >= 4 jets": int(mask.sum())}

    @staticmethod
    def _histograms() -> dict[str, hist.Hist]:
        sample = hist.axis.StrCategory(list(SAMPLES), name="simulation", label="Simulation")
        hists = {}
        for name in X_FEATURES:
            label, bins, lo, hi = _feature_axis(name)
            hists[name] = hist.Hist(sample, hist.axis.Regular(bins, lo, hi, name="value", label=label))
        for name, (label, bins, lo, hi) in MASSES.items():
            hists[name] = hist.Hist(sample, hist.axis.Regular(bins, lo, hi, name="value", label=label))
        return hists

    @staticmethod
    def _unfolded_histograms() -> dict[str, hist.Hist]:
        level = hist.axis.StrCategory(list(LEVELS), name="level", label="Parton level")
        return {
            name: hist.Hist(level, hist.axis.Regular(bins, lo, hi, name="value", label=label))
            for name, (label, bins, lo, hi) in PARTON_OBSERVABLES.items()
        }

    def _fill_unfolded(self, transform, selected) -> dict[str, hist.Hist]:
        """Truth and unfolded parton-level observables of the selected events."""
        hists = self._unfolded_histograms()
        unfolded = partons_to_features(transform.unfold(selected))
        for level, z in zip(LEVELS, (partons_to_features(selected), unfolded), strict=True):
            observables = parton_observables(z)
            for name, h in hists.items():
                h.fill(level=level, value=observables[name])
        return hists

    def process(self, events):
        dataset = events.metadata.get("dataset", "unknown") if hasattr(events, "metadata") else "unknown"
        where = events.metadata.get("filename", dataset) if hasattr(events, "metadata") else dataset
        fields = ak.fields(events)
        for coll, names in REQUIRED.items():
            have = ak.fields(events[coll]) if coll in fields else []
            missing = [k for k in names if k not in have]
            if missing:
                raise ValueError(
                    f"{where}: no branch '{coll}_{missing[0]}'; the processor needs {', '.join(_required_branches())} "
                    "(check the fileset with turbosim_hep.processors.check_fileset)"
                )
        n_read = len(events)
        bad, per_branch = invalid_events(events, detector=True)
        if bad.any():
            warnings.warn(
                f"{where}: dropped {int(bad.sum())} of {n_read} events with NaN, infinity or unphysical values "
                f"(events per branch: {per_branch}); counted in the cutflow as 'finite and physical'",
                stacklevel=2,
            )
            events = events[~bad]
        mask, selection = self._select(events)
        cutflow = {"events read": n_read, "finite and physical": len(events)}
        cutflow.update(list(selection.items())[1:])
        selected = events[mask]
        transform = cached_transform(
            self.model, seed=self.seed, device=self.device, batch_size=self.batch_size, threads=self.torch_threads
        )
        # the Turbo-Sim events as the features the histograms need (simulate() without building its records)
        if self.selected_input:
            turbo = transform.simulate_as_features(selected)
        else:
            turbo = transform.simulate_as_features(events, selected_input=False)
        hists = self._histograms()
        for sample, features in zip(SAMPLES, (reco_to_features(selected), turbo), strict=True):
            for j, name in enumerate(X_FEATURES):
                hists[name].fill(simulation=sample, value=features[:, j])
            masses = reconstruct_features(features, level="reco")
            for name in MASSES:
                hists[name].fill(simulation=sample, value=masses[name])
        if self.selected_input:
            cutflow["simulated"] = len(turbo)
        else:
            cutflow["simulated"] = len(events)
            cutflow["turbo-sim passSelection"] = len(turbo)
        out = {"hists": hists, "cutflow": cutflow}
        if self.unfold:
            out["unfolded"] = self._fill_unfolded(transform, selected)
            cutflow["unfolded"] = len(selected)
        return {dataset: out}

    def postprocess(self, accumulator):
        return accumulator
