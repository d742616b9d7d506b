"""Lookup tables of the classical fast simulation: binned, joint detector responses learned from paired events.

For each object kind (electron, b quark, light quark) the response of the reco object to its parton,
``(pT_reco / pT_parton, s·(η_reco − η_parton), Δφ ∈ (−π, π], m_reco)`` with ``s`` the sign of the parton's η (a
symmetric detector: "towards the beam" is kept) and the mass for jets only, is stored as raw tuples in bins of parton
pT and |η|. Simulating a parton picks one stored tuple of its bin, so the response keeps its correlations and its
tails: jets are assigned to quarks with :func:`~turbosim_hep.evaluation.response.match_jets_to_quarks` and *all*
assigned pairs are kept, matched within ΔR or not.

The MET is ``ν̄_T − c·Σ(reco − parton)_T`` over the electron and the four jets, with ``pzMiss = −Σ pz(parton) −
c·Σ(reco − parton)_z`` (c = ``met_balance``; c = 1 is the transverse balance and ``pzMiss = −Σ pz(reco)``), plus a
resampled residual ``(r_parallel, r_perp, r_z)``, stored in the frame of the neutrino's transverse momentum and binned
in its magnitude.

Bins with fewer than ``min_entries`` tuples borrow a coarser range: all |η| bins of their pT bin, then neighbouring
pT bins, until enough tuples are in range (the pool is sorted by bin, so every range is one contiguous slice).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from turbosim_hep.constants import M_ELECTRON_GEV, N_FEATURES
from turbosim_hep.physics.kinematics import p4_from_ptetaphim, ptetaphim_from_p4

__all__ = (
    "DEFAULT_ABS_ETA_BINS",
    "DEFAULT_MAX_DR",
    "DEFAULT_MET_BALANCE",
    "DEFAULT_MET_BINS_GEV",
    "DEFAULT_MIN_ENTRIES",
    "DEFAULT_PT_BINS_GEV",
    "NOISE_DIM",
    "OBJECT_KINDS",
    "LookupTables",
    "ResponseTable",
    "fit_lookup",
    "simulate_lookup",
)

#: Parton-pT bin edges [GeV] of the object responses (finer than the response test's: within a wide low bin the
#: ratio of a 5 GeV parton and that of a 28 GeV one differ severalfold; KS of jet1 E 0.045 -> 0.026 on the reference
#: sample's validation split, benchmarks/lookup_baseline.py; the choices are made there, never on the test split).
DEFAULT_PT_BINS_GEV: tuple[float, ...] = (0, 10, 20, 30, 40, 50, 65, 80, 100, 120, 150, 200, 300, np.inf)
#: Parton-|η| bin edges of the object responses (barrel, endcap, forward; the detector ends near 5).
DEFAULT_ABS_ETA_BINS: tuple[float, ...] = (0.0, 0.8, 1.5, 2.0, 2.5, 3.0, 3.5, 4.5, np.inf)
#: Neutrino-pT bin edges [GeV] of the MET residual.
DEFAULT_MET_BINS_GEV: tuple[float, ...] = (0, 20, 40, 60, 80, 110, 150, 200, np.inf)
#: Share of the simulated objects' transverse (and z) mismeasurement the MET follows: 1 is the full transverse
#: balance, 0 smears the neutrino alone. 0 by default: the per-object resampling makes the summed visible
#: mismeasurement over twice as wide as the full simulation's (whose jets' mismeasurements largely cancel), and any
#: share of it widens the MET (reference sample's validation split, benchmarks/lookup_baseline.py: KS of MET pT 0.25
#: at 1, 0.006 at 0).
DEFAULT_MET_BALANCE: float = 0.0
#: Fewest stored tuples a bin may resample from before it borrows from coarser bins.
DEFAULT_MIN_ENTRIES: int = 50
#: ΔR below which an assigned jet counts as matched (recorded per bin as the efficiency; all pairs are resampled).
DEFAULT_MAX_DR: float = 0.4
_MAX_DR_ELECTRON = 0.2  # as the conditional-response test (turbosim_hep.evaluation.response)

#: Object kinds and their Z object slots (0 e-, 2 b, 3 bbar, 4 u, 5 dbar).
OBJECT_KINDS: dict[str, tuple[int, ...]] = {"electron": (0,), "b": (2, 3), "light": (4, 5)}
#: Uniforms one event consumes: electron, b, bbar, u, dbar, MET residual.
NOISE_DIM: int = 6
_QUARKS = (2, 3, 4, 5)


@dataclasses.dataclass(frozen=True)
class ResponseTable:
    """Stored response tuples of one object kind (or the MET residual), sorted by bin.

    ``pool`` ``(N, k)`` float32; bin ``b`` resamples ``pool[start[b]:stop[b]]``; ``entries`` counts the tuples of
    the bin itself and ``efficiency`` the fraction of them matched within ΔR (NaN where empty or undefined); all
    four are shaped by the binning: ``(n_pt, n_eta)`` for objects, ``(n_met,)`` for the MET.
    """

    pool: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    entries: np.ndarray
    efficiency: np.ndarray

    def draw(self, bins: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One stored tuple per row ``(n, k)`` float64: ``bins`` flat bin indices ``(n,)``, ``u`` in [0, 1) ``(n,)``."""
        start, stop = self.start.reshape(-1)[bins], self.stop.reshape(-1)[bins]
        index = start + np.minimum((u * (stop - start)).astype(np.int64), stop - start - 1)
        return self.pool[index].astype(np.float64)


@dataclasses.dataclass(frozen=True)
class LookupTables:
    """Everything the lookup simulation needs: the binning, one :class:`ResponseTable` per object kind
    (:data:`OBJECT_KINDS`) and one for the MET residual; ``n_events`` is the size of the fit sample."""

    pt_bins_gev: tuple[float, ...]
    abs_eta_bins: tuple[float, ...]
    met_bins_gev: tuple[float, ...]
    met_balance: float
    min_entries: int
    max_dr: float
    objects: dict[str, ResponseTable]
    met: ResponseTable
    n_events: int


def _edges(edges, name: str) -> np.ndarray:
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or len(e) < 2 or np.any(np.diff(e) <= 0) or e[0] < 0:
        raise ValueError(f"{name} must be at least two increasing edges >= 0, got {edges!r}")
    return e


def _bin(values: np.ndarray, edges) -> np.ndarray:
    """Bin index of each value; values beyond the outer edges go to the outer bins."""
    edges = np.asarray(edges, dtype=np.float64)
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)


def _wrap(dphi: np.ndarray) -> np.ndarray:
    return np.pi - np.mod(np.pi - dphi, 2.0 * np.pi)  # into (-pi, pi]


def _side(eta: np.ndarray) -> np.ndarray:
    return np.where(eta < 0, -1.0, 1.0)


def _table(keys: np.ndarray, rows: np.ndarray, matched: np.ndarray | None, shape: tuple[int, ...], min_entries: int):
    """Sort ``rows`` by flat bin ``keys`` and give every bin of ``shape`` (pT[, |η|]) a slice of >= min_entries."""
    ok = np.all(np.isfinite(rows), axis=1)
    keys, rows = keys[ok], rows[ok]
    if len(rows) == 0:
        raise ValueError("no finite response in the training events; fit on events with real objects")
    n_pt, n_eta = shape[0], (shape[1] if len(shape) > 1 else 1)
    counts = np.bincount(keys, minlength=n_pt * n_eta)
    edge = np.concatenate([[0], np.cumsum(counts)])  # bin b holds pool[edge[b]:edge[b + 1]]
    row_edge = edge[::n_eta]  # pT bin i, all |η| bins, holds pool[row_edge[i]:row_edge[i + 1]]
    start, stop = edge[:-1].copy(), edge[1:].copy()
    for b in np.flatnonzero(counts < min_entries):
        first = last = b // n_eta
        lo, hi = row_edge[first], row_edge[last + 1]
        while hi - lo < min_entries and (first > 0 or last < n_pt - 1):
            first, last = max(first - 1, 0), min(last + 1, n_pt - 1)
            lo, hi = row_edge[first], row_edge[last + 1]
        start[b], stop[b] = lo, hi
    if matched is None:
        efficiency = np.full(n_pt * n_eta, np.nan)
    else:
        hits = np.bincount(keys, weights=matched[ok].astype(np.float64), minlength=n_pt * n_eta)
        with np.errstate(invalid="ignore", divide="ignore"):
            efficiency = hits / counts
    return ResponseTable(
        pool=rows[np.argsort(keys, kind="stable")].astype(np.float32),
        start=start.reshape(shape),
        stop=stop.reshape(shape),
        entries=counts.reshape(shape),
        efficiency=efficiency.reshape(shape),
    )


def _assigned(z: np.ndarray, x: np.ndarray, max_dr: float) -> tuple[np.ndarray, np.ndarray]:
    """x's objects in parton order ``(n, 6, 4)`` (the jets assigned to b, bbar, u, dbar) and the jets' ΔR match."""
    from turbosim_hep.evaluation.response import match_jets_to_quarks

    jet_index, matched = match_jets_to_quarks(z, x, max_dr=max_dr)
    reco = x.reshape(len(x), 6, 4).copy()
    reco[:, 2:] = np.take_along_axis(reco[:, 2:], jet_index[:, :, None], axis=1)
    return reco, matched


def _met_frame(zo: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pT [GeV] of the neutrino and the unit vectors along and across it, ``(n,)``, ``(n, 2)``, ``(n, 2)``."""
    nu = zo[:, 1, :2]
    pt = np.hypot(nu[:, 0], nu[:, 1])
    along = np.where(pt[:, None] > 0, nu / np.where(pt > 0, pt, 1.0)[:, None], [1.0, 0.0])
    return pt, along, np.stack([-along[:, 1], along[:, 0]], axis=1)


def _met_prediction(zo: np.ndarray, reco: np.ndarray, balance: float) -> np.ndarray:
    """``(n, 3)`` MET (px, py, pzMiss) [GeV] before the residual: neutrino minus ``balance`` x the mismeasurement."""
    visible = [0, *_QUARKS]
    mismeasured = (reco[:, visible, :3] - zo[:, visible, :3]).sum(axis=1)
    base = np.concatenate([zo[:, 1, :2], -zo[:, visible, 2].sum(axis=1)[:, None]], axis=1)
    return base - balance * mismeasured


def _features(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != N_FEATURES:
        raise ValueError(f"{name} must have shape (n, {N_FEATURES}), got {a.shape!r}")
    return a


def fit_lookup(
    z: np.ndarray,
    x: np.ndarray,
    *,
    pt_bins: tuple[float, ...] = DEFAULT_PT_BINS_GEV,
    eta_bins: tuple[float, ...] = DEFAULT_ABS_ETA_BINS,
    met_bins: tuple[float, ...] = DEFAULT_MET_BINS_GEV,
    met_balance: float = DEFAULT_MET_BALANCE,
    min_entries: int = DEFAULT_MIN_ENTRIES,
    max_dr: float = DEFAULT_MAX_DR,
) -> LookupTables:
    """Learn the lookup tables from paired events of the *training* split (seconds for 10^5 events).

    Parameters
    ----------
    z, x : ``(n, 24)`` parton and detector features of the same events [GeV].
    pt_bins, eta_bins : parton-pT [GeV] and parton-|η| bin edges of the object responses.
    met_bins : neutrino-pT bin edges [GeV] of the MET residual. Values beyond any outer edge fall in the outer bin.
    met_balance : share of the objects' mismeasurement the MET follows (module docstring).
    min_entries : fewest tuples a bin resamples from; sparser bins borrow from coarser ones.
    max_dr : ΔR of a matched jet, for the efficiency recorded per bin (information only).
    """
    z, x = _features(z, "z"), _features(x, "x")
    if len(z) != len(x) or len(z) == 0:
        raise ValueError(f"z and x must hold the same, non-zero number of events, got {len(z)} and {len(x)}")
    if int(min_entries) != min_entries or min_entries < 1:
        raise ValueError(f"min_entries must be a positive integer, got {min_entries!r}")
    if not np.isfinite(met_balance):
        raise ValueError(f"met_balance must be finite (0: neutrino only, 1: full balance), got {met_balance!r}")
    pt_e, eta_e, met_e = _edges(pt_bins, "pt_bins"), _edges(eta_bins, "eta_bins"), _edges(met_bins, "met_bins")
    n = len(z)
    zo = z.reshape(n, 6, 4)
    reco, jet_ok = _assigned(z, x, max_dr)
    pt_z, eta_z, phi_z, _ = ptetaphim_from_p4(zo)
    pt_x, eta_x, phi_x, m_x = ptetaphim_from_p4(reco)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = pt_x / pt_z
    deta, dphi = _side(eta_z) * (eta_x - eta_z), _wrap(phi_x - phi_z)
    matched = np.zeros((n, 6), dtype=bool)
    matched[:, 0] = np.hypot(deta[:, 0], dphi[:, 0]) < _MAX_DR_ELECTRON
    matched[:, 2:] = jet_ok
    shape = (len(pt_e) - 1, len(eta_e) - 1)
    objects = {}
    for kind, slots in OBJECT_KINDS.items():
        s = list(slots)
        cols = [ratio[:, s], deta[:, s], dphi[:, s]] + ([] if kind == "electron" else [np.maximum(m_x[:, s], 0.0)])
        rows = np.stack([c.reshape(-1) for c in cols], axis=1)
        keys = _bin(pt_z[:, s], pt_e).reshape(-1) * shape[1] + _bin(np.abs(eta_z[:, s]), eta_e).reshape(-1)
        objects[kind] = _table(keys, rows, matched[:, s].reshape(-1), shape, int(min_entries))
    r = x[:, 4:7] - _met_prediction(zo, reco, float(met_balance))
    nu_pt, along, across = _met_frame(zo)
    rows = np.stack([(r[:, :2] * along).sum(1), (r[:, :2] * across).sum(1), r[:, 2]], axis=1)
    return LookupTables(
        pt_bins_gev=tuple(float(v) for v in pt_e),
        abs_eta_bins=tuple(float(v) for v in eta_e),
        met_bins_gev=tuple(float(v) for v in met_e),
        met_balance=float(met_balance),
        min_entries=int(min_entries),
        max_dr=float(max_dr),
        objects=objects,
        met=_table(_bin(nu_pt, met_e), rows, None, (len(met_e) - 1,), int(min_entries)),
        n_events=n,
    )


def simulate_lookup(tables: LookupTables, z: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Detector features ``(n, 24)`` float64 [GeV] of partons ``z`` ``(n, 24)`` [GeV], jets sorted by pT.

    ``uniforms`` ``(n, NOISE_DIM)`` in [0, 1) pick the stored tuple of the electron, b, bbar, u, dbar and the MET
    residual; each output row is a pure function of its row of ``z`` and ``uniforms``.
    """
    z = _features(z, "z")
    u = np.asarray(uniforms, dtype=np.float64)
    if u.shape != (len(z), NOISE_DIM):
        raise ValueError(f"uniforms must have shape ({len(z)}, {NOISE_DIM}), got {u.shape!r}")
    n = len(z)
    zo = z.reshape(n, 6, 4)
    pt_z, eta_z, phi_z, _ = ptetaphim_from_p4(zo)
    n_eta = len(tables.abs_eta_bins) - 1
    reco = np.zeros((n, 6, 4))
    for column, slot in enumerate((0, *_QUARKS)):
        kind = next(k for k, slots in OBJECT_KINDS.items() if slot in slots)
        bins = _bin(pt_z[:, slot], tables.pt_bins_gev) * n_eta + _bin(np.abs(eta_z[:, slot]), tables.abs_eta_bins)
        t = tables.objects[kind].draw(bins, u[:, column])
        mass = np.full(n, M_ELECTRON_GEV) if kind == "electron" else t[:, 3]
        eta = eta_z[:, slot] + _side(eta_z[:, slot]) * t[:, 1]
        reco[:, slot] = p4_from_ptetaphim(t[:, 0] * pt_z[:, slot], eta, phi_z[:, slot] + t[:, 2], mass)
    nu_pt, along, across = _met_frame(zo)
    r = tables.met.draw(_bin(nu_pt, tables.met_bins_gev), u[:, 5])
    met = _met_prediction(zo, reco, tables.met_balance)
    met[:, :2] += r[:, :1] * along + r[:, 1:2] * across
    met[:, 2] += r[:, 2]
    reco[:, 1, :3] = met
    reco[:, 1, 3] = np.linalg.norm(met, axis=1)
    jets = reco[:, 2:]
    order = np.argsort(-np.hypot(jets[..., 0], jets[..., 1]), axis=1, kind="stable")
    reco[:, 2:] = np.take_along_axis(jets, order[..., None], axis=1)
    return reco.reshape(n, N_FEATURES)
