"""Lookup baseline on a reference sample: KS of reconstructed masses and jet1 features on the validation split.

Run ``python benchmarks/lookup_baseline.py lookup.pt DATA...`` after ``turbosim baseline-lookup DATA... --out
lookup.pt``. Simulates the validation split (by the file's split fractions) with the lookup and prints the KS
statistic against the full simulation of m_tt, m_W(had), m_t(lep), m_t(had), the jet1 and MET features, and simulate
events/s. With ``--variants`` it also refits on the train split with the response-test binning and with the full MET
balance, the measurements behind the defaults of :mod:`turbosim_hep.baselines.lookup.tables`. The choices are made on
the validation split, never on the test split the scorecard reports (``benchmarks/quality.py``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.stats import ks_2samp

MASSES = ("m_tt", "m_w_had", "m_t_lep", "m_t_had")
FEATURES = ("jet1_py", "jet1_pz", "jet1_E", "met_px", "met_pt")


def _scores(x_true: np.ndarray, x_sim: np.ndarray) -> dict[str, float]:
    from turbosim_hep.constants import X_FEATURES
    from turbosim_hep.physics.reconstruction import reconstruct_features

    a, b = reconstruct_features(x_true, level="reco"), reconstruct_features(x_sim, level="reco")
    out = {}
    for k in MASSES:
        out[k] = ks_2samp(a[k][np.isfinite(a[k])], b[k][np.isfinite(b[k])]).statistic
    for f in FEATURES:
        if f == "met_pt":
            out[f] = ks_2samp(np.hypot(x_true[:, 4], x_true[:, 5]), np.hypot(x_sim[:, 4], x_sim[:, 5])).statistic
        else:
            i = X_FEATURES.index(f)
            out[f] = ks_2samp(x_true[:, i], x_sim[:, i]).statistic
    return out


def _line(name: str, scores: dict[str, float]) -> str:
    return f"{name:<28}" + " ".join(f"{k} {v:.3f}" for k, v in scores.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="lookup file written by 'turbosim baseline-lookup'")
    parser.add_argument("data", nargs="+", help="the files it was fitted on (ROOT files, directories, fileset)")
    parser.add_argument("--variants", action="store_true", help="also refit with other binning / MET balance")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from turbosim_hep.baselines.lookup.tables import fit_lookup
    from turbosim_hep.baselines.lookup.transform import LookupTransform
    from turbosim_hep.events.split import split_mask
    from turbosim_hep.model.data import load_pairs

    tf = LookupTransform.load(args.model)
    fractions = tf.loaded.config.split_fractions
    data = load_pairs(args.data, progress=False)
    val = split_mask(data.run, data.event, "validation", fractions=fractions)
    z, x, run, event = data.z[val], data.x[val], data.run[val], data.event[val]
    print(f"{args.model}: fitted in {tf.loaded.provenance['fit_seconds']} s; {len(z)} validation events")
    t0 = time.perf_counter()
    x_sim = tf.simulate_features(z, run=run, event=event)  # jets sorted by pT
    seconds = time.perf_counter() - t0
    print(f"simulate: {len(z) / seconds:,.0f} events/s")
    print(_line("lookup (file)", _scores(x, x_sim)))
    if args.variants:
        train = data.split("train", fractions=fractions)
        options = tf.loaded.config.fit_options()
        coarse = {"pt_bins": (0, 30, 50, 80, 120, 200, np.inf), "eta_bins": (0, 1.5, 2.5, np.inf)}
        for name, change in (("response-test binning", coarse), ("full MET balance", {"met_balance": 1.0})):
            tables = fit_lookup(train.z, train.x, **{**options, **change})
            x_var = LookupTransform.from_tables(tables).simulate_features(z, run=run, event=event)
            print(_line(name, _scores(x, x_var)))


if __name__ == "__main__":
    main()
