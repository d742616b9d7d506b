"""Prepare a trained model for shipping in ``turbosim_hep/models/``: inference-only copy plus its check figures.

    python benchmarks/ship_model.py /work/data/models/physics/model.pt ttbar-physics \\
        --data /work/shared/data/ttbar-ref --check-files 4

Writes ``turbosim_hep/models/NAME.pt`` (the checkpoint without optimiser and random-generator states, digest
recomputed, so it loads like any checkpoint) and ``NAME.json``: the training data (files, event count, SHA-256 of
the ROOT files' bytes), the training record (epochs, best epoch, seconds) and a *slice check*: figures of
``simulate()`` on every event of the first ``--check-files`` files of the data, which ``tests/test_shipped_models.py``
reproduces. The model card ``NAME.md`` is written by hand from ``benchmarks/quality.py``'s table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parents[1] / "turbosim_hep" / "models"


def data_digest(files: list[Path]) -> str:
    """SHA-256 over the bytes of ``files`` in order (the training data's content digest)."""
    h = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def slice_check(model: str | Path, files: list[Path]) -> dict:
    """Figures of ``simulate()`` on every event of ``files``: event count, mean jet pTs, MET and masses [GeV]."""
    import awkward as ak

    from turbosim_hep.io.root import read_events
    from turbosim_hep.physics.reconstruction import reconstruct_ttbar
    from turbosim_hep.transform import load_transform

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


def main() -> None:
    import torch

    from turbosim_hep.io.datasets import resolve_paths
    from turbosim_hep.model.checkpoint import load_model, save_checkpoint
    from turbosim_hep.model.normalisation import Normalisation

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="best checkpoint written by `turbosim train`")
    p.add_argument("name", help="shipped name, e.g. ttbar-physics")
    p.add_argument("--data", nargs="+", required=True, help="the data the model was trained on")
    p.add_argument("--check-files", type=int, default=4, help="files of the slice check (default: %(default)s)")
    args = p.parse_args()
    torch.set_num_threads(1)

    loaded = load_model(args.model, device="cpu")
    files = resolve_paths(args.data)
    trained_on = {str(Path(f["path"]).resolve()) for f in loaded.provenance["data"]["files"]}
    if {str(f.resolve()) for f in files} != trained_on:
        raise SystemExit(f"--data {args.data!r} is not the data {args.model!r} was trained on")
    out = MODELS_DIR / f"{args.name}.pt"
    provenance = {k: v for k, v in loaded.provenance.items() if k != "versions"}
    state = {k: loaded.state[k] for k in ("epoch", "best_metric", "best_epoch") if k in loaded.state}
    save_checkpoint(
        out,
        model=loaded.model,
        z_norm=Normalisation(loaded.z_mean, loaded.z_std),
        x_norm=Normalisation(loaded.x_mean, loaded.x_std),
        provenance=provenance,
        state=state,
    )
    metrics_path = Path(args.model).with_name(Path(args.model).stem + ".metrics.jsonl")
    records = [json.loads(s) for s in metrics_path.read_text().splitlines()] if metrics_path.exists() else []
    card = {
        "name": args.name,
        "config": loaded.config.to_dict(),
        "training_data": {
            "files": len(files),
            "directory": str(Path(files[0]).parent),
            "events": loaded.provenance["data"]["events"],
            "split_events": loaded.provenance.get("split_events"),
            "sha256_of_files": data_digest(files),
        },
        "training": {
            "epochs": len(records),
            "best_epoch": state.get("best_epoch"),
            "best_validation_selection": state.get("best_metric"),
            "train_seconds": round(sum(r["train_seconds"] for r in records), 1),
        },
        "slice_check": slice_check(out, files[: args.check_files]),
    }
    (MODELS_DIR / f"{args.name}.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) and {MODELS_DIR / (args.name + '.json')}")
    print(json.dumps(card["slice_check"], indent=1))


if __name__ == "__main__":
    main()
