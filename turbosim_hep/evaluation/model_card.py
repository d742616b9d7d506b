"""What a shipped model's card states and how to check it: the training data's digest, the *slice check* and the
*scorecard check*.

``benchmarks/ship_model.py`` writes them into ``turbosim_hep/shipped/NAME.json`` (package data);
``tests/test_shipped_models.py`` recomputes both from the reference sample and compares: the slice check exactly,
the scorecard check (scorecard figures on the test-split events of a few files) within the spreads it states.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ("SCORECARD_CHECK_FILES", "data_digest", "scorecard_check", "slice_check")

#: Reference files whose test-split events make the scorecard check (about 2300 events).
SCORECARD_CHECK_FILES = 20


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


def scorecard_check(model: str | os.PathLike, files: list[Path], *, seed: int = 0) -> dict:
    """Scorecard figures of ``model`` on the *test*-split events of ``files``, each ``{"value", "spread"}``.

    KS of m_t^had, m_W^had and E^jet1 (x̃ of half A against the full simulation of half B), the share of x̃ outside
    the detector's phase space, and the rich classifier AUC of x̃ against x; spreads are the scorecard's (bootstrap,
    binomial). Deterministic for a given model, files and seed.
    """
    from turbosim_hep.constants import X_FEATURES
    from turbosim_hep.evaluation.classifiers import classifier_scorecard
    from turbosim_hep.evaluation.features import detector_features
    from turbosim_hep.evaluation.phase_space import phase_space_violations
    from turbosim_hep.evaluation.samples import load_features
    from turbosim_hep.evaluation.scoring import check_split, run_model
    from turbosim_hep.evaluation.uncertainty import ks_with_spread
    from turbosim_hep.events.split import split_uniform
    from turbosim_hep.simulation.registry import load_transform

    tf = load_transform(model, device="cpu")
    read_split, fractions = check_split(tf, files, "test")
    feats = load_features(files, split=read_split, fractions=fractions)
    x_tilde = run_model(tf, feats)[0]
    half = split_uniform(feats.run, feats.event, salt=0x7E57_4A1F) < 0.5
    rich_x, rich_model = detector_features(feats.x)[0], detector_features(x_tilde)[0]
    names = detector_features(feats.x[:1])[1]
    figures = {}
    for key in ("reco_m_t_had", "reco_m_w_had"):
        j = names.index(key)
        figures[f"ks_{key[5:]}"] = ks_with_spread(rich_model[half, j], rich_x[~half, j], seed=seed)
    j = X_FEATURES.index("jet1_E")
    figures["ks_jet1_E"] = ks_with_spread(x_tilde[half, j], feats.x[~half, j], seed=seed)
    ps = phase_space_violations(x_tilde)
    figures["outside_phase_space"] = {"value": ps["outside"], "spread": ps["outside_spread"]}
    auc = classifier_scorecard(feats.z, feats.x, {"x_tilde": x_tilde}, half, seed=seed, tests=("rich_x",))["rich_x"]
    figures["auc_rich_x"] = {"value": auc["auc"], "spread": auc["spread"]}
    return {"files": [Path(f).name for f in files], "split": "test", "n_events": len(feats), "figures": figures}
