"""t tbar reconstruction for validation: neutrino pz, chi^2 jet assignment, W / top / t tbar masses.

The front end over :mod:`turbosim_hep.physics.kernels`, for the two ways events arrive:

- :func:`reconstruct_features` takes the ``(n, 24)`` feature arrays the networks see (the hot path of training
  validation and evaluation) and returns a dict of NumPy arrays;
- :func:`reconstruct_ttbar` takes an events array of :mod:`~turbosim_hep.events.layout` (awkward with vector
  behaviour) and
  returns an awkward record per event, ``None`` where the event cannot be reconstructed.

Definitions (arXiv:2112.10629; REFERENCE.md §6): the neutrino has px, py = MET (for partons: the true nubar's) and
the pz of the smaller-|pz| root of the W mass constraint (the real part when complex, flagged); the four jets
(partons: b, bbar, u, dbar, used without their labels) are assigned by the minimum chi^2 of 12 combinations; m_tt is
the mass of electron + neutrino + all four jets. Masses are signed, ``copysign(sqrt(|m^2|), m^2)`` (vector's
convention): an unphysical system gets a negative mass, never NaN and never a silently positive one. Everything is
computed in float64 whatever the input precision.

Output fields / keys: ``m_tt``, ``m_w_had``, ``m_w_lep``, ``m_t_lep``, ``m_t_had`` [GeV], ``chi2`` (dimensionless),
``b_lep``, ``b_had``, ``q1``, ``q2`` (indices 0-3 into the four jets: the four
leading jets by pT, or for partons the quarks in the order b, bbar, u, dbar), ``nu_pz`` [GeV], ``complex_root``;
at parton level also ``b_correct`` (the chosen assignment is the true one: b_lep = bbar, b_had = b, W = u dbar) and
``w_correct`` (the W pair is {u, dbar}, b quarks possibly swapped).
"""

from __future__ import annotations

from collections.abc import Sequence

import awkward as ak
import numpy as np

from turbosim_hep.constants import (
    CHI2_SIGMA_TOP_HAD_GEV,
    CHI2_SIGMA_TOP_LEP_GEV,
    CHI2_SIGMA_W_HAD_GEV,
    M_TOP_GEV,
    M_W_GEV,
    N_FEATURES,
)
from turbosim_hep.physics import kernels

__all__ = (
    "DEFAULT_SIGMAS",
    "LEVELS",
    "NEUTRINO_MODES",
    "assign_jets",
    "reconstruct_features",
    "reconstruct_ttbar",
    "solve_neutrino_pz",
)

#: chi^2 widths [GeV] of (m_t^lep, m_W^had, m_t^had), REFERENCE.md §6.
DEFAULT_SIGMAS: tuple[float, float, float] = (CHI2_SIGMA_TOP_LEP_GEV, CHI2_SIGMA_W_HAD_GEV, CHI2_SIGMA_TOP_HAD_GEV)
#: Accepted values of ``level``: detector objects X or partons Z.
LEVELS: tuple[str, ...] = ("reco", "parton")
#: Accepted values of ``neutrino``: pz from the W constraint, or the true nubar (parton level only).
NEUTRINO_MODES: tuple[str, ...] = ("solved", "true")

_MASS_KEYS = ("m_tt", "m_w_had", "m_w_lep", "m_t_lep", "m_t_had")
_INDEX_KEYS = ("b_lep", "b_had", "q1", "q2")
#: Parton-level truth in the jet slots (b, bbar, u, dbar): bbar is the leptonic top's b (tbar -> bbar e- nubar).
_TRUE_B_LEP, _TRUE_B_HAD, _TRUE_Q1, _TRUE_Q2 = 1, 0, 2, 3


def _check_options(level: str, neutrino: str, sigmas: Sequence[float]) -> tuple[float, float, float]:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS!r}, got {level!r}")
    if neutrino not in NEUTRINO_MODES:
        raise ValueError(f"neutrino must be one of {NEUTRINO_MODES!r}, got {neutrino!r}")
    if neutrino == "true" and level != "parton":
        raise ValueError("neutrino='true' needs level='parton' (detector events have no true neutrino pz)")
    return _check_sigmas(sigmas)


def _check_sigmas(sigmas: Sequence[float]) -> tuple[float, float, float]:
    s = tuple(float(v) for v in sigmas)
    if len(s) != 3 or not all(np.isfinite(v) and v > 0 for v in s):
        raise ValueError(
            f"sigmas must be three positive widths in GeV (m_t^lep, m_W^had, m_t^had), got {tuple(sigmas)!r}"
        )
    return s  # type: ignore[return-value]


def _neutrino_p4(lepton: np.ndarray, met_px: np.ndarray, met_py: np.ndarray, m_w: float) -> tuple[np.ndarray, ...]:
    """(n, 4) massless neutrino with px, py = MET and the solved pz, plus pz and the complex-root flag."""
    pz, is_complex = kernels.neutrino_pz(
        lepton[:, 0], lepton[:, 1], lepton[:, 2], lepton[:, 3], met_px, met_py, float(m_w)
    )
    return kernels.massless_p4(met_px, met_py, pz), pz, is_complex


def _reconstruct_objects(
    objects: np.ndarray,
    *,
    true_neutrino: bool,
    m_w: float,
    m_top: float,
    sigmas: tuple[float, float, float],
) -> dict[str, np.ndarray]:
    """Reconstruction of ``(n, 6, 4)`` float64 objects (lepton, MET or nubar, four jets)."""
    lepton = objects[:, 0]
    if true_neutrino:
        nu = np.ascontiguousarray(objects[:, 1])
        pz, is_complex = nu[:, 2].copy(), np.zeros(len(nu), dtype=bool)
    else:
        nu, pz, is_complex = _neutrino_p4(lepton, objects[:, 1, 0], objects[:, 1, 1], m_w)
    jets = objects[:, 2:]
    assignment, chi2 = kernels.assign_jets(lepton, nu, jets, float(m_w), float(m_top), *sigmas)
    masses = kernels.ttbar_masses(lepton, nu, jets, assignment)
    out = dict(zip(_MASS_KEYS, masses, strict=True))
    out["chi2"] = chi2
    out.update({key: np.ascontiguousarray(assignment[:, j]) for j, key in enumerate(_INDEX_KEYS)})
    out["nu_pz"] = pz
    out["complex_root"] = is_complex
    return out


def _add_truth(out: dict[str, np.ndarray]) -> None:
    w_ok = (out["q1"] == _TRUE_Q1) & (out["q2"] == _TRUE_Q2)
    out["w_correct"] = w_ok
    out["b_correct"] = w_ok & (out["b_lep"] == _TRUE_B_LEP) & (out["b_had"] == _TRUE_B_HAD)


def reconstruct_features(
    features: np.ndarray,
    *,
    level: str,
    neutrino: str = "solved",
    m_w: float = M_W_GEV,
    m_top: float = M_TOP_GEV,
    sigmas: Sequence[float] = DEFAULT_SIGMAS,
) -> dict[str, np.ndarray]:
    """Reconstruct t tbar masses from ``(n, 24)`` feature arrays.

    Parameters
    ----------
    features : (n, 24) float array [GeV]
        ``level="reco"``: X = electron, MET, jet1..jet4; ``level="parton"``: Z = e-, nubar, b, bbar, u, dbar; each
        (px, py, pz, E). Only MET's px, py are read (its pz, E are detector artefacts). Cast to float64.
    level : {"reco", "parton"}
        Which space ``features`` is; at parton level the quarks play the jets (their order is not used by the
        assignment) and the truth flags are added.
    neutrino : {"solved", "true"}
        "solved": pz from the W mass constraint; "true" (parton level only): the nubar's own four-momentum.
    m_w, m_top : float
        W and top masses [GeV] for the neutrino constraint and the chi^2.
    sigmas : three floats
        chi^2 widths [GeV] of m_t^lep, m_W^had, m_t^had.

    Returns
    -------
    dict of (n,) arrays
        float64 ``m_tt``, ``m_w_had``, ``m_w_lep``, ``m_t_lep``, ``m_t_had`` [GeV], ``chi2``, ``nu_pz`` [GeV];
        int64 ``b_lep``, ``b_had``, ``q1``, ``q2`` (jet slots 0-3); bool ``complex_root``; at parton level also bool
        ``b_correct`` and ``w_correct``. Rows with non-finite inputs give NaN chi^2 and masses and indices -1.

    Example
    -------
    >>> out = reconstruct_features(x_test, level="reco")
    >>> np.median(out["m_t_had"])
    """
    s = _check_options(level, neutrino, sigmas)
    x = np.asarray(features)
    if x.ndim != 2 or x.shape[1] != N_FEATURES:
        raise ValueError(f"features must have shape (n, {N_FEATURES}), got {x.shape!r}")
    objects = np.ascontiguousarray(x, dtype=np.float64).reshape(len(x), 6, 4)
    out = _reconstruct_objects(objects, true_neutrino=neutrino == "true", m_w=m_w, m_top=m_top, sigmas=s)
    if level == "parton":
        _add_truth(out)
    return out


def _p4(obj: ak.Array) -> np.ndarray:
    """(n, 4) float64 px, py, pz, E of one vector-behaved object per event (no None), cast before vector computes."""
    obj = ak.values_astype(obj, np.float64)
    return np.stack([ak.to_numpy(getattr(obj, c)) for c in ("px", "py", "pz", "E")], axis=-1)


def _p4_fixed(coll: ak.Array, k: int) -> np.ndarray:
    """(n, k, 4) float64 four-momenta of a ``var * Momentum4D`` collection with exactly k entries per event."""
    flat = _p4(ak.flatten(coll, axis=1))
    return flat.reshape(len(coll), k, 4)


def _transverse(met: ak.Array) -> tuple[np.ndarray, np.ndarray]:
    met = ak.values_astype(met, np.float64)
    return ak.to_numpy(met.px), ak.to_numpy(met.py)


def solve_neutrino_pz(electron: ak.Array, met: ak.Array, *, m_w: float = M_W_GEV) -> tuple[np.ndarray, np.ndarray]:
    """Neutrino pz [GeV] from one electron and the MET per event.

    Parameters
    ----------
    electron : (n,) vector-behaved four-vectors (e.g. ``events.Electron[:, 0]``)
    met : (n,) vector-behaved two- or four-vectors; only px, py are used [GeV]
    m_w : float
        W mass [GeV] of the constraint (e + nu)^2 = m_w^2.

    Returns
    -------
    pz : (n,) float64
        The smaller-|pz| root [GeV], or the real part -b/2a when the roots are complex.
    is_complex : (n,) bool
        Where the roots were complex.
    """
    lepton = _p4(electron)
    met_px, met_py = _transverse(met)
    return kernels.neutrino_pz(lepton[:, 0], lepton[:, 1], lepton[:, 2], lepton[:, 3], met_px, met_py, float(m_w))


def assign_jets(
    electron: ak.Array,
    neutrino: ak.Array,
    jets: ak.Array,
    *,
    m_w: float = M_W_GEV,
    m_top: float = M_TOP_GEV,
    sigmas: Sequence[float] = DEFAULT_SIGMAS,
) -> ak.Array:
    """Chi^2 assignment of exactly four jets per event to b_lep, b_had and the hadronic W pair (q1, q2).

    Parameters
    ----------
    electron, neutrino : (n,) vector-behaved four-vectors [GeV]
    jets : (n, 4) (or ``var`` with exactly four) vector-behaved four-vectors [GeV], any order
    m_w, m_top : float
        Masses [GeV] in the chi^2.
    sigmas : three floats
        chi^2 widths [GeV] of m_t^lep, m_W^had, m_t^had.

    Returns
    -------
    ak.Array of records ``{b_lep, b_had, q1, q2, chi2}``: jet indices (q1 < q2) and the minimum chi^2.
    """
    s = _check_sigmas(sigmas)
    counts = ak.to_numpy(ak.num(jets, axis=1))
    if np.any(counts != 4):
        bad = int(np.flatnonzero(counts != 4)[0])
        raise ValueError(f"jets: event {bad} has {counts[bad]} jets, need exactly 4 (take the four leading ones)")
    assignment, chi2 = kernels.assign_jets(
        _p4(electron), _p4(neutrino), _p4_fixed(jets, 4), float(m_w), float(m_top), *s
    )
    fields = {key: assignment[:, j] for j, key in enumerate(_INDEX_KEYS)}
    fields["chi2"] = chi2
    return ak.zip(fields)


def _leading(coll: ak.Array, k: int) -> ak.Array:
    order = ak.argsort(coll.pt, axis=1, ascending=False)
    return coll[order][:, :k]


def reconstruct_ttbar(
    events: ak.Array,
    *,
    level: str = "reco",
    neutrino: str = "solved",
    m_w: float = M_W_GEV,
    m_top: float = M_TOP_GEV,
    sigmas: Sequence[float] = DEFAULT_SIGMAS,
) -> ak.Array:
    """Reconstruct the t tbar system of every event of an events array (:mod:`turbosim_hep.events.layout` layout).

    Parameters
    ----------
    events : ak.Array
        ``level="reco"`` reads ``Electron`` (the leading one by pT), ``MET`` (px, py) and ``Jet`` (the four leading
        by pT); ``level="parton"`` reads ``Parton`` (e-, nubar px, py, and b, bbar, u, dbar as the jets).
    level : {"reco", "parton"}
    neutrino : {"solved", "true"}
        "true" (parton level only) uses the nubar's pz and energy instead of solving for pz.
    m_w, m_top : float
        W and top masses [GeV].
    sigmas : three floats
        chi^2 widths [GeV] of m_t^lep, m_W^had, m_t^had.

    Returns
    -------
    ak.Array, ``n * ?{m_tt, m_w_had, m_w_lep, m_t_lep, m_t_had, chi2, b_lep, b_had, q1, q2, nu_pz, complex_root}``
        (plus ``b_correct``, ``w_correct`` at parton level). An event without an electron or with fewer than four
        jets is ``None`` (the whole record), never a number. Jet indices count the four leading jets (0 = leading).

    Example
    -------
    >>> reco = reconstruct_ttbar(events)
    >>> h.fill(m_tt=ak.drop_none(reco.m_tt))
    """
    s = _check_options(level, neutrino, sigmas)
    n = len(events)
    fields = ak.fields(events)
    if level == "reco":
        missing = [f for f in ("Electron", "Jet", "MET") if f not in fields]
        if missing:
            raise ValueError(f"level='reco' needs the fields Electron, Jet and MET; missing {missing!r} in {fields!r}")
        good = (ak.to_numpy(ak.num(events.Electron, axis=1)) >= 1) & (ak.to_numpy(ak.num(events.Jet, axis=1)) >= 4)
        sel = events if good.all() else events[good]
        objects = np.empty((int(good.sum()), 6, 4), dtype=np.float64)
        objects[:, 0] = _p4(_leading(sel.Electron, 1)[:, 0])
        objects[:, 1, 0], objects[:, 1, 1] = _transverse(sel.MET)
        objects[:, 1, 2:] = 0.0
        objects[:, 2:] = _p4_fixed(_leading(sel.Jet, 4), 4)
    else:
        if "Parton" not in fields:
            raise ValueError(f"level='parton' needs the field Parton; the events have {fields!r}")
        counts = ak.to_numpy(ak.num(events.Parton, axis=1))
        if np.any(counts != 6):
            bad = int(np.flatnonzero(counts != 6)[0])
            raise ValueError(f"Parton: event {bad} has {counts[bad]} partons, expected 6 (e-, nubar, b, bbar, u, dbar)")
        good = np.ones(n, dtype=bool)
        objects = _p4_fixed(events.Parton, 6)
    result = _reconstruct_objects(objects, true_neutrino=neutrino == "true", m_w=m_w, m_top=m_top, sigmas=s)
    if level == "parton":
        _add_truth(result)
    if good.all():
        return ak.zip(result, depth_limit=1)
    # scatter the reconstructable events back; the rest are masked as whole records
    index = np.cumsum(good) - 1
    index[~good] = 0
    full = {}
    for key, value in result.items():
        padded = value[index] if len(value) else np.zeros(n, dtype=value.dtype)
        full[key] = padded
    return ak.mask(ak.zip(full, depth_limit=1), good)
