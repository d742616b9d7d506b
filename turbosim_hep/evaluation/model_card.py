"""What a shipped model's card states and how to check it: the training data, named by what remakes it, the
*slice check* and the *scorecard check*.

A card names its training data by the ``turbosim generate`` command (seed, events, chunk size, run id), the versions
that ran it, the number of events and the *content digest* (:func:`content_digest`, over the events' values, which a
rerun reproduces, unlike the ROOT files' bytes, which hold a creation time and a random UUID) — never by a path on
the training machine: :func:`check_card` refuses a card with an absolute path. ``benchmarks/ship_model.py`` writes
them into ``turbosim_hep/shipped/NAME.json`` (package data) and ``NAME.md``; ``tests/test_shipped_models.py``
recomputes the checks from the reference sample and compares: the slice check exactly, the scorecard check
(scorecard figures on the test-split events of a few files) within the spreads it states.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

__all__ = (
    "SCORECARD_CHECK_FILES",
    "check_card",
    "content_digest",
    "data_digest",
    "generate_command",
    "scorecard_check",
    "slice_check",
    "training_data",
)

#: Reference files whose test-split events make the scorecard check (about 2300 events).
SCORECARD_CHECK_FILES = 20

#: An absolute POSIX path (``/work/...``, ``~/...``) or a Windows drive path; URLs (``https://...``) are not paths.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])(?:~/|/(?=[\w.-]+/))[\w./-]*|\b[A-Za-z]:\\[^\s`'\"]*")


def data_digest(files: list[Path]) -> str:
    """SHA-256 over the bytes of ``files`` in order (the training data's content digest)."""
    from turbosim_hep.io.digests import files_sha256

    return files_sha256(files)


def content_digest(files: list[Path], *, tree: str = "Events") -> str:
    """SHA-256 of the events in ``files`` (in order): every branch, sorted by name, as its name, dtype and values
    (jagged branches as counts then values). Equal for two runs that write the same events, whatever the files'
    creation times and UUIDs."""
    import awkward as ak
    import uproot

    h = hashlib.sha256()
    for f in files:
        with uproot.open(f) as fh:
            t = fh[tree]
            for name in sorted(t.keys()):
                arr = t[name].array(library="ak")
                h.update(name.encode())
                if arr.ndim > 1:
                    h.update(np.asarray(ak.num(arr, axis=1), dtype="<i8").tobytes())
                    arr = ak.flatten(arr, axis=None)
                values = ak.to_numpy(arr)
                h.update(values.dtype.str.encode())
                h.update(values.astype(values.dtype.newbyteorder("<")).tobytes())
    return h.hexdigest()


def generate_command(provenance: dict, name: str) -> str:
    """The ``turbosim generate`` command that remakes a sample, from its ``provenance.json``."""
    parts = [
        "turbosim generate",
        f"--events {provenance['n_events_generated']}",
        f"--seed {provenance['seed']}",
        f"--chunk-size {provenance['chunk_size']}",
    ]
    run = provenance.get("run", 1)  # samples made before run ids came from the seed have run = 1
    if run != provenance["seed"] + 1:
        parts.append(f"--run {run}")
    if provenance.get("selection") is None:
        parts.append("--no-select")
    jet_r = provenance.get("detector_card", {}).get("jet_r")
    if jet_r is not None and jet_r != 0.5:
        parts.append(f"--jet-r {jet_r}")
    return " ".join([*parts, f"--out {name}"])


def training_data(files: list[Path]) -> dict:
    """The card's record of the data in ``files`` (one ``turbosim generate`` directory): the command that remakes it,
    the versions that made it, files, events and content digest. No path."""
    directory = Path(files[0]).parent
    provenance_path = directory / "provenance.json"
    if not provenance_path.exists():
        raise FileNotFoundError(
            f"{str(provenance_path)!r} does not exist: a model card names its data by the 'turbosim generate' "
            "command recorded there; ship models trained on generated samples"
        )
    provenance = json.loads(provenance_path.read_text())
    versions = provenance.get("versions", {})
    return {
        "name": directory.name,
        "remake": generate_command(provenance, directory.name),
        "made_with": {k: versions.get(k) for k in ("turbosim-hep", "pythia8mc", "fastjet") if k in versions},
        "events_generated": provenance["n_events_generated"],
        "files": len(files),
        "events": provenance["n_events_written"],
        "content_sha256": content_digest(files),
    }


def check_card(text: str, *, source: str = "model card") -> None:
    """Refuse (``ValueError``) a card that names anything by an absolute path: the path of the training machine
    tells nobody else how to remake the model. Name data by its ``turbosim generate`` command and digest."""
    found = _ABSOLUTE_PATH.search(text)
    if found:
        raise ValueError(
            f"{source} names {found.group(0)!r}, an absolute path; name the training data by its 'turbosim generate' "
            "command, events and content digest (turbosim_hep.evaluation.model_card.training_data) and use relative "
            "paths"
        )


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
