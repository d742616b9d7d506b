"""An unselected full-simulation sample with each event's selection outcome: the data of the efficiency ε(z).

Only a sample made with ``turbosim generate --no-select`` serves: the outcome is decided by the selection's own
function (:func:`turbosim_hep.generation.selection.otus_selection`) on the full simulation's ``Electron``, ``Jet``,
``isoMuonCount`` and ``isoPhotonCount``. Read by the efficiency's training (:mod:`turbosim_hep.model.
efficiency_training`) and by its checks (:mod:`turbosim_hep.evaluation.efficiency_card`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ("EfficiencySample", "efficiency_sample")


@dataclasses.dataclass(frozen=True)
class EfficiencySample:
    """Parton events with their selection outcome.

    Attributes
    ----------
    z : (n, 24) float32
        Parton features [GeV] (e⁻, ν̄ₑ, b, b̄, u, d̄ × (px, py, pz, E)).
    passed : (n,) bool
        The event passes the selection (full simulation).
    run, event : (n,) uint32, uint64
        Event ids (the split's key).
    files : tuple[Path, ...]
    """

    z: np.ndarray
    passed: np.ndarray
    run: np.ndarray
    event: np.ndarray
    files: tuple[Path, ...]

    def __len__(self) -> int:
        return len(self.z)

    def split(self, name: str, *, fractions: tuple[float, float, float] | None = None) -> np.ndarray:
        """Mask ``(n,)`` of the events in split ``name`` ("train", "validation", "test")."""
        from turbosim_hep.events.split import DEFAULT_FRACTIONS, split_mask

        return split_mask(self.run, self.event, name, fractions=fractions or DEFAULT_FRACTIONS)


def efficiency_sample(inputs: str | os.PathLike | Sequence[str | os.PathLike]) -> EfficiencySample:
    """Read an unselected full-simulation sample (ROOT files, directories or a fileset JSON) for ε(z).

    ``ValueError`` naming the file when it lacks what the selection reads (a parton-only or Turbo-Sim file) or when
    every event passes or none does (a sample that was selected: make one with ``turbosim generate --no-select``).
    """
    import awkward as ak

    from turbosim_hep.events.features import partons_to_features
    from turbosim_hep.generation.selection import otus_selection
    from turbosim_hep.io.datasets import resolve_inputs
    from turbosim_hep.io.root import open_tree

    given = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    files = resolve_inputs(given)
    need = ("nElectron", "Electron_charge", "nJet", "isoMuonCount", "isoPhotonCount", "Parton_pt", "event")
    zs, passed, runs, events = [], [], [], []
    for f in files:
        tree = open_tree(f.path, tree=f.tree)
        missing = [b for b in need if b not in tree.keys()]
        if missing:
            raise ValueError(
                f"{str(f.path)!r} lacks the branches {missing!r} that the selection reads: train the efficiency on a "
                "full-simulation sample made with 'turbosim generate --no-select'"
            )
        arrays = tree.arrays(
            ["run", "event", "Parton_pt", "Parton_eta", "Parton_phi", "Parton_mass", "Electron_charge", "Jet_pt",
             "isoMuonCount", "isoPhotonCount"],
        )  # fmt: skip
        partons = ak.zip(
            {k: arrays[f"Parton_{k}"] for k in ("pt", "eta", "phi", "mass")}, with_name="PtEtaPhiMLorentzVector"
        )
        events_ = ak.zip(
            {
                "Electron": ak.zip({"charge": arrays["Electron_charge"]}),
                "Jet": ak.zip({"pt": arrays["Jet_pt"]}),
                "isoMuonCount": arrays["isoMuonCount"],
                "isoPhotonCount": arrays["isoPhotonCount"],
            },
            depth_limit=1,
        )
        zs.append(partons_to_features(partons))
        passed.append(otus_selection(events_)[0])
        runs.append(ak.to_numpy(arrays["run"]).astype(np.uint32))
        events.append(ak.to_numpy(arrays["event"]).astype(np.uint64))
    sample = EfficiencySample(
        z=np.concatenate(zs).astype(np.float32),
        passed=np.concatenate(passed),
        run=np.concatenate(runs),
        event=np.concatenate(events),
        files=tuple(f.path for f in files),
    )
    fraction = float(sample.passed.mean()) if len(sample) else float("nan")
    if not 0.0 < fraction < 1.0:
        raise ValueError(
            f"{len(sample)} events in {[str(f.path) for f in files]!r}, {fraction:.1%} pass the selection: the "
            "efficiency needs events that fail it too; make the sample with 'turbosim generate --no-select'"
        )
    return sample
