"""What a shipped model's card states and how to check it: the training data's digest and the *slice check*.

``benchmarks/ship_model.py`` writes both into ``turbosim_hep/shipped/NAME.json``; ``tests/test_shipped_models.py``
recomputes the slice check from the reference sample and compares.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ("data_digest", "slice_check")


def data_digest(files: list[Path]) -> str:
    """SHA-256 over the bytes of ``files`` in order (the training data's content digest)."""
    from turbosim_hep.io.digests import files_sha256

    return files_sha256(files)


def slice_check(model: str | os.PathLike, files: list[Path]) -> dict:
    """Figures of ``simulate()`` on every event of ``files``: event count, mean jet pTs, MET and masses [GeV]."""
    import awkward as ak

    from turbosim_hep.io.root import read_events
    from turbosim_hep.physics.reconstruction import reconstruct_ttbar
    from turbosim_hep.simulation.registry import load_transform

    tf = load_transform(model, device="cpu")
    events = ak.concatenate([read_events(f) for f in files])
    reco = tf.simulate(events)
    masses = reconstruct_ttbar(reco)
    jet_pt = ak.to_numpy(reco.Jet.pt).astype(np.float64)
    return {
        "files": [f.name for f in files],
        "n_events": len(reco),
        "mean_jet_pt_gev": [float(v) for v in jet_pt.mean(axis=0)],
        "mean_met_pt_gev": float(np.mean(ak.to_numpy(reco.MET.pt))),
        "median_m_w_had_gev": float(np.nanmedian(ak.to_numpy(masses["m_w_had"]))),
        "median_m_t_had_gev": float(np.nanmedian(ak.to_numpy(masses["m_t_had"]))),
        "min_jet_mass_gev": float(ak.min(reco.Jet.mass)),
    }
