"""What the evaluation compares: paired Z/X features of the test events and the named variables built from them.

:func:`load_features` reads the paired parton (Z) and detector (X) features of one split (:class:`FeatureSet`);
:func:`make_samples` turns truth and model outputs into :class:`SpaceSamples`: the 24 features, MET pT and the
reconstructed masses of each space, with their TeX labels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from turbosim_hep.constants import N_FEATURES, X_FEATURES, Z_FEATURES
from turbosim_hep.runtime.advice import option

__all__ = (
    "ARTEFACT_FEATURES",
    "MASS_NAMES",
    "SOURCES",
    "FeatureSet",
    "Reconstruct",
    "SpaceSamples",
    "load_features",
    "make_samples",
)

#: Reconstructed masses of the report (keys of ``reconstruct_features``), in Table-1 order.
MASS_NAMES: tuple[str, ...] = ("m_tt", "m_w_had", "m_t_lep", "m_t_had")

#: Detector artefacts kept for OTUS compatibility (REFERENCE.md §1); flagged in the report, not the neutrino.
ARTEFACT_FEATURES: tuple[str, ...] = ("met_pz", "met_E")

SOURCES: tuple[str, ...] = ("truth", "sampled", "reconstructed")
_OBJECT_TEX = {
    "electron": "electron",
    "antineutrino": r"$\bar{\nu}_e$",
    "b": "$b$",
    "bbar": r"$\bar{b}$",
    "u": "$u$",
    "dbar": r"$\bar{d}$",
    "met": "MET",
    "jet1": "jet 1",
    "jet2": "jet 2",
    "jet3": "jet 3",
    "jet4": "jet 4",
}
_COMPONENT_TEX = {"px": "$p_x$", "py": "$p_y$", "pz": "$p_z$", "E": "$E$", "pt": "$p_T$"}
_MASS_TEX = {
    "m_tt": r"$m_{t\bar{t}}$",
    "m_w_had": r"$m_{W}^{\mathrm{had}}$",
    "m_t_lep": r"$m_{t}^{\mathrm{lep}}$",
    "m_t_had": r"$m_{t}^{\mathrm{had}}$",
}

Reconstruct = Callable[..., Mapping[str, np.ndarray]]


# --------------------------------------------------------------------------------------------------------- samples
@dataclass(frozen=True)
class SpaceSamples:
    """Named 1-d variables of one space (Z or X) for truth and model outputs, on the same ``n`` events.

    ``columns[source]`` is an ``(n, k)`` float64 array for source "truth", "sampled" or "reconstructed" (absent when
    the output was not given); ``names``, ``kinds`` ("feature", "derived", "mass") and ``labels`` (TeX, with unit)
    describe the ``k`` columns.
    """

    space: str
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    labels: tuple[str, ...]
    columns: dict[str, np.ndarray]

    def column(self, source: str, name: str) -> np.ndarray:
        return self.columns[source][:, self.names.index(name)]

    def classifier_inputs(self, source: str) -> np.ndarray:
        """The 24 features plus the reconstructed masses, ``(n, 28)``."""
        keep = [j for j, k in enumerate(self.kinds) if k != "derived"]
        return self.columns[source][:, keep]


def _feature_label(name: str) -> str:
    obj, _, comp = name.rpartition("_")
    return f"{_COMPONENT_TEX[comp]} of {_OBJECT_TEX[obj]} [GeV]"


def _space_variables(
    features: np.ndarray, space: str, reconstruct: Reconstruct
) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != N_FEATURES:
        raise ValueError(f"{space} features must have shape (n, {N_FEATURES}), got {f.shape!r}")
    base = Z_FEATURES if space == "Z" else X_FEATURES
    names, kinds, cols = list(base), ["feature"] * N_FEATURES, [f]
    if space == "X":
        names.append("met_pt")
        kinds.append("derived")
        cols.append(np.hypot(f[:, 4], f[:, 5])[:, None])
    masses = reconstruct(f, level="parton" if space == "Z" else "reco")
    for m in MASS_NAMES:
        names.append(m)
        kinds.append("mass")
        cols.append(np.asarray(masses[m], dtype=np.float64)[:, None])
    labels = tuple(
        f"{_MASS_TEX[n]} [GeV]" if k == "mass" else _feature_label(n) for n, k in zip(names, kinds, strict=True)
    )
    return np.concatenate(cols, axis=1), tuple(names), tuple(kinds), labels


def _default_reconstruct() -> Reconstruct:
    from turbosim_hep.physics.reconstruction import reconstruct_features

    return reconstruct_features


def make_samples(
    z_true: np.ndarray,
    x_true: np.ndarray,
    z_gen: np.ndarray | None = None,
    x_gen: np.ndarray | None = None,
    *,
    z_rec: np.ndarray | None = None,
    x_rec: np.ndarray | None = None,
    reconstruct: Reconstruct | None = None,
) -> dict[str, SpaceSamples]:
    """Features, MET pT and reconstructed masses of truth and model outputs, per space.

    Parameters
    ----------
    z_true, x_true : ``(n, 24)`` parton and detector truth of the same events [GeV].
    z_gen, x_gen : sampled outputs z̃ = E(x) and x̃ = D(z), ``(n, 24)`` [GeV] (row i from event i's input).
    z_rec, x_rec : reconstructed outputs ẑ = E(D(z)) and x̂ = D(E(x)), ``(n, 24)`` [GeV]; optional.
    reconstruct : ``f(features, *, level) -> dict`` of masses; defaults to
        :func:`turbosim_hep.physics.reconstruction.reconstruct_features`.

    Returns
    -------
    ``{"Z": SpaceSamples, "X": SpaceSamples}``
    """
    reconstruct = reconstruct or _default_reconstruct()
    n = len(z_true)
    out: dict[str, SpaceSamples] = {}
    for space, arrays in (
        ("Z", {"truth": z_true, "sampled": z_gen, "reconstructed": z_rec}),
        ("X", {"truth": x_true, "sampled": x_gen, "reconstructed": x_rec}),
    ):
        columns: dict[str, np.ndarray] = {}
        for source, arr in arrays.items():
            if arr is None:
                continue
            if len(arr) != n:
                raise ValueError(f"{space} {source} has {len(arr)} rows but the truth has {n}; rows must pair up")
            columns[source], names, kinds, labels = _space_variables(arr, space, reconstruct)
        out[space] = SpaceSamples(space=space, names=names, kinds=kinds, labels=labels, columns=columns)
    return out


# --------------------------------------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class FeatureSet:
    """Paired parton and detector features of the selected events, with their ids."""

    z: np.ndarray
    x: np.ndarray
    run: np.ndarray
    luminosity_block: np.ndarray
    event: np.ndarray
    sources: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.z)


def _features_of(chunk, source: str, select: Callable) -> tuple[np.ndarray, ...]:
    """(z, x, run, lumi, event) of the selected events of one chunk; layout errors name ``source``."""
    import awkward as ak

    from turbosim_hep.events.features import partons_to_features, reco_to_features

    ids = [ak.to_numpy(chunk[k]) for k in ("run", "luminosityBlock", "event")]
    try:
        return select(partons_to_features(chunk), reco_to_features(chunk), *ids)
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from err


def load_features(
    data: Any,
    *,
    split: str | None = "test",
    fractions: tuple[float, float, float] | None = None,
    max_events: int | None = None,
    step_size: int = 200_000,
) -> FeatureSet:
    """Paired Z and X features of the ``split`` events of ``data``.

    ``data`` is a ROOT file, a directory (its ``fileset.json`` or ``*.root``), a coffea fileset JSON, a list of
    these, an events array (:mod:`turbosim_hep.events.layout`), or a mapping with ``z`` and ``x`` ``(n, 24)`` arrays and
    optionally ``run``, ``luminosityBlock``, ``event`` (default: 1, 1, row index). ``split=None`` keeps every event;
    ``fractions`` are the (train, validation, test) fractions of the split (default
    :data:`turbosim_hep.events.split.DEFAULT_FRACTIONS`: pass the model's own); ``max_events`` keeps the first that many
    selected events.
    """
    import awkward as ak

    from turbosim_hep.events.split import DEFAULT_FRACTIONS, split_mask

    fr = DEFAULT_FRACTIONS if fractions is None else tuple(fractions)

    def select(z, x, run, lumi, event):
        keep = np.ones(len(z), dtype=bool) if split is None else split_mask(run, event, split, fractions=fr)
        return z[keep], x[keep], run[keep], lumi[keep], event[keep]

    if isinstance(data, Mapping):
        missing = [k for k in ("z", "x") if k not in data]
        if missing:
            raise ValueError(f"in-memory data needs keys 'z' and 'x' ((n, 24) arrays); missing {missing!r}")
        z, x = np.asarray(data["z"]), np.asarray(data["x"])
        n = len(z)
        ids = (
            np.broadcast_to(np.asarray(data.get("run", 1), dtype=np.uint32), (n,)),
            np.broadcast_to(np.asarray(data.get("luminosityBlock", 1), dtype=np.uint32), (n,)),
            np.asarray(data.get("event", np.arange(n)), dtype=np.uint64),
        )
        parts, sources = [select(z, x, *ids)], ("<arrays>",)
    elif isinstance(data, ak.Array):
        parts, sources = [_features_of(data, "<events array>", select)], ("<events array>",)
    else:
        from turbosim_hep.events.ids import check_unique_ids
        from turbosim_hep.io.datasets import resolve_inputs
        from turbosim_hep.io.root import iterate_events

        inputs = resolve_inputs(data)
        sources = tuple(str(f.path) for f in inputs)
        parts, blocks, total = [], [], 0
        for path, tree, _ in inputs:
            n_file = len(parts)
            collections = ("Parton", "Electron", "Jet", "MET")
            for chunk in iterate_events(path, step_size=step_size, collections=collections, tree=tree, detector=True):
                part = _features_of(chunk, str(path), select)
                parts.append(part)
                total += len(part[0])
                if max_events is not None and total >= max_events:
                    break
            mine = parts[n_file:]
            blocks.append((str(path), *(np.concatenate([p[k] for p in mine] or [np.zeros(0)]) for k in (2, 3, 4))))
            if max_events is not None and total >= max_events:
                break
        check_unique_ids(blocks)
        if not parts:
            raise ValueError(f"no events in {list(sources)!r}: every TTree is empty")
    z, x, run, lumi, event = (np.concatenate([p[i] for p in parts]) for i in range(5))
    if max_events is not None:
        z, x, run, lumi, event = (a[:max_events] for a in (z, x, run, lumi, event))
    if len(z) == 0:
        raise ValueError(
            f"no {split!r} events in {list(sources)!r}; check the data or "
            + option(python="pass split=None", cli="use --split all on a sample the model did not train on")
        )
    return FeatureSet(z=z, x=x, run=run, luminosity_block=lumi, event=event, sources=sources)
