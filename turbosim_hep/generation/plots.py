"""Validation plots of a generated sample: parton W and top masses, jet multiplicity, cutflow, jet response."""

from __future__ import annotations

import json
from pathlib import Path

import awkward as ak
import numpy as np

from turbosim_hep.constants import M_TOP_GEV, M_W_GEV

__all__ = ("validation_plots",)


def _mass(p: np.ndarray) -> np.ndarray:
    """Invariant mass [GeV] of summed ``(n, k, 4)`` (px, py, pz, E) vectors."""
    s = p.sum(axis=1)
    return np.sqrt(np.maximum(s[:, 3] ** 2 - np.sum(s[:, :3] ** 2, axis=1), 0.0))


def _parton_p4(events: ak.Array) -> np.ndarray:
    from turbosim_hep.events.features import partons_to_features

    return partons_to_features(events).astype(np.float64).reshape(len(events), 6, 4)


def validation_plots(out: str | Path, *, max_events: int = 200_000) -> list[Path]:
    """Write PNG validation plots of the sample in directory ``out`` to ``out/plots``; return their paths.

    Reads at most ``max_events`` events from the chunk files.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    from turbosim_hep.figures.style import header_label
    from turbosim_hep.io.root import iterate_events

    out = Path(out)
    files = sorted(out.glob("chunk-*.root"))
    if not files:
        raise FileNotFoundError(f"no chunk-*.root files in {str(out)!r}; run turbosim generate first")
    parts, n = [], 0
    for chunk in iterate_events(files, step_size=50_000):
        parts.append(chunk)
        n += len(chunk)
        if n >= max_events:
            break
    events = ak.concatenate(parts)[:max_events]
    prov = json.loads((out / "provenance.json").read_text())
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    plt.style.use(mplhep.style.CMS)
    written = []

    def save(fig, name: str) -> None:
        path = plots / f"{name}.png"
        fig.savefig(path, bbox_inches="tight", dpi=80)
        plt.close(fig)
        written.append(path)

    p = _parton_p4(events)
    fig, axes = plt.subplots(1, 2, figsize=(16, 7))
    bins = np.linspace(60, 100, 81)
    axes[0].hist(_mass(p[:, [0, 1]]), bins=bins, histtype="step", lw=2, label=r"$e^- \bar\nu_e$")
    axes[0].hist(_mass(p[:, [4, 5]]), bins=bins, histtype="step", lw=2, label=r"$u \bar d$")
    axes[0].axvline(M_W_GEV, color="gray", ls="--")
    axes[0].set_xlabel(r"parton $m_W$ [GeV]")
    bins = np.linspace(140, 205, 66)
    axes[1].hist(_mass(p[:, [3, 0, 1]]), bins=bins, histtype="step", lw=2, label=r"$\bar b e^- \bar\nu_e$")
    axes[1].hist(_mass(p[:, [2, 4, 5]]), bins=bins, histtype="step", lw=2, label=r"$b u \bar d$")
    axes[1].axvline(M_TOP_GEV, color="gray", ls="--")
    axes[1].set_xlabel(r"parton $m_t$ [GeV]")
    for ax in axes:
        ax.set_ylabel("events")
        ax.legend()
        header_label(ax, "Simulation")
    save(fig, "parton_masses")

    fig, ax = plt.subplots(figsize=(8, 7))
    nj = ak.to_numpy(ak.num(events["Jet"], axis=1))
    before = prov.get("jet_multiplicity_before_selection")
    if before:
        for key, label in (("all", "all generated"), ("one_electron_no_muon_no_photon", r"1 $e$, 0 $\mu$, 0 $\gamma$")):
            counts = np.asarray(before[key], dtype=float)
            mplhep.histplot(counts / counts.sum(), np.arange(-0.5, len(counts)), ax=ax, lw=2, label=label)
        ax.set_ylabel("fraction of events (before the jet cut)")
        ax.legend()
    else:
        ax.hist(nj, bins=np.arange(-0.5, 13.5), histtype="step", lw=2)
        ax.set_ylabel("events (as written)")
    ax.set_xlabel("jet multiplicity")
    save(fig, "jet_multiplicity")

    fig, ax = plt.subplots(figsize=(10, 7))
    names, counts = list(prov["cutflow"]), np.array(list(prov["cutflow"].values()), dtype=float)
    ax.bar(range(len(names)), counts / counts[0], color="tab:blue")
    for i, c in enumerate(counts):
        ax.text(i, c / counts[0] + 0.01, f"{c / counts[0]:.1%}", ha="center", fontsize=14)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=14)
    ax.set_ylabel("fraction of generated events")
    ax.set_ylim(0, 1.1)
    header_label(ax, "Simulation")
    save(fig, "cutflow")

    jets = events["Jet"]
    if "partonIdx" in ak.fields(jets):
        idx = ak.to_numpy(ak.flatten(jets["partonIdx"]))
        jpt = ak.to_numpy(ak.flatten(jets["pt"])).astype(np.float64)
        owner = np.repeat(np.arange(len(events)), nj)
        ok = idx >= 0
        ppt = np.hypot(p[owner[ok], idx[ok], 0], p[owner[ok], idx[ok], 1])
        resp = jpt[ok] / ppt
        fig, ax = plt.subplots(figsize=(8, 7))
        bins = np.linspace(0, 2.5, 101)
        for lo, hi in ((20, 50), (50, 100), (100, 1e4)):
            sel = (ppt >= lo) & (ppt < hi)
            label = f"parton $p_T$ {lo}-{hi:g} GeV" if hi < 1e4 else f"parton $p_T$ > {lo} GeV"
            ax.hist(resp[sel], bins=bins, histtype="step", lw=2, density=True,
                    label=f"{label}: median {np.median(resp[sel]):.3f}")  # fmt: skip
        ax.set_xlabel(r"jet response $p_T^{reco} / p_T^{parton}$")
        ax.set_ylabel("density")
        ax.legend(fontsize=13)
        header_label(ax, "Simulation")
        save(fig, "jet_response")
    return written
