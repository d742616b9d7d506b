"""Pythia 8 hard process and shower for pp -> t tbar -> (b u dbar)(bbar e- nubar_e), in batches.

Events come from ``Pythia.nextBatch`` (an awkward record of the full event record), so no Python loop runs over
particles. The parton truth is the six hard-process decay products *before* the shower, as in ``pythia.process``
(status 23), the LHE-like truth OTUS used. ``nextBatch`` returns only ``pythia.event``, where Pythia has boosted the
decay products to follow the recoiling (showered) tops and Ws; the process-level momenta are recovered exactly by
undoing those boosts: Pythia copies the decay products of a resonance with the boost that takes the resonance's
process-record momentum to its last event-record copy (``RotBstMatrix::bst(p_before, p_after)``), and the original
tops are kept unchanged in event-record lines 5 and 6. Momentum conservation of the result against those tops is
checked for every event, and ``tests/generation`` compares the result with ``pythia.process`` event by event.

Settings: REFERENCE.md §9 (they give e- nubar_e b bbar u dbar in 100 % of events, sigma ~ 17.5 pb at LO).
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np

from turbosim_hep.constants import PARTON_PDG_IDS

__all__ = (
    "LHEF_SETTINGS",
    "PYTHIA_SETTINGS",
    "ParticleBatch",
    "generate_batch",
    "lhef_settings",
    "make_pythia",
    "particle_batch",
    "pythia_seed",
)

#: Pythia settings for t tbar with the forced decays t -> W b, W+ -> u dbar, W- -> e- nubar_e (REFERENCE.md §9).
#: Shower, hadronisation and MPI stay at their defaults (on); no pile-up is ever added.
PYTHIA_SETTINGS: tuple[str, ...] = (
    "Beams:eCM = 13000.",
    "Top:gg2ttbar = on",
    "Top:qqbar2ttbar = on",
    "6:onMode = off",
    "6:onIfMatch = 24 5",
    "24:onMode = off",
    "24:onPosIfMatch = 1 2",
    "24:onNegIfMatch = 11 12",
    "Next:numberCount = 0",
    "Next:numberShowInfo = 0",
    "Next:numberShowProcess = 0",
    "Next:numberShowEvent = 0",
    "Init:showChangedSettings = off",
    "Init:showProcesses = off",
    "Init:showChangedParticleData = off",
    "Print:quiet = on",
)

#: Settings for showering a Les Houches file's events (REFERENCE.md §11): the beams and the hard process come from the
#: file; its decay chain is kept, and the forced decays apply to any top or W the file leaves undecayed.
LHEF_SETTINGS: tuple[str, ...] = ("Beams:frameType = 4",) + tuple(
    s for s in PYTHIA_SETTINGS if not s.startswith(("Beams:eCM", "Top:"))
)


def lhef_settings(path: str) -> tuple[str, ...]:
    """:data:`LHEF_SETTINGS` reading the Les Houches file ``path``."""
    return (*LHEF_SETTINGS, f"Beams:LHEF = {path}")


#: Largest seed Pythia accepts (``Random:seed``), REFERENCE.md §9.
MAX_PYTHIA_SEED = 900_000_000

_NEUTRINOS = (12, 14, 16)


@dataclass(frozen=True)
class ParticleBatch:
    """Stable particles and parton truth of a batch of ``n`` events, as flat arrays.

    Attributes
    ----------
    counts : (n,) int64
        Stable particles per event.
    pdg_id : (m,) int32
        PDG id of each stable particle (all events concatenated; neutrinos included).
    charge : (m,) float64
        Electric charge [e].
    px, py, pz, e : (m,) float64
        Four-momentum [GeV].
    partons : (n, 6, 4) float64
        Process-level px, py, pz, E [GeV] of e-, nubar_e, b, bbar, u, dbar (pre-shower, as ``pythia.process``).
    parton_masses : (n, 6) float64
        Their masses [GeV] as Pythia generated them.
    quarks_event : (n, 4, 4) float64
        px, py, pz, E [GeV] of the b, bbar, u, dbar first copies in the event record (after the shower's recoil;
        used for jet matching, REFERENCE.md §9).
    """

    counts: np.ndarray
    pdg_id: np.ndarray
    charge: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    partons: np.ndarray
    parton_masses: np.ndarray
    quarks_event: np.ndarray

    def __len__(self) -> int:
        return len(self.counts)


def pythia_seed(seed: int) -> int:
    """Map any non-negative integer to a valid ``Random:seed`` (1 ... 900,000,000)."""
    return int(seed) % MAX_PYTHIA_SEED + 1


def make_pythia(seed: int, *, settings: tuple[str, ...] = PYTHIA_SETTINGS):
    """A silenced, initialised ``pythia8mc.Pythia`` with ``settings`` and ``Random:seed = seed``.

    Every ``readString`` is checked: Pythia answers an unknown key with ``False`` rather than an exception.

    Raises
    ------
    ValueError
        A setting Pythia does not accept, or a seed outside 1 ... 900,000,000.
    RuntimeError
        ``Pythia.init()`` failed.
    """
    import pythia8mc

    if not 1 <= int(seed) <= MAX_PYTHIA_SEED:
        raise ValueError(f"Pythia seed must be in 1 ... {MAX_PYTHIA_SEED}, got {seed!r}; use pythia_seed(n)")
    pythia = pythia8mc.Pythia("", False)
    for line in (*settings, "Random:setSeed = on", f"Random:seed = {int(seed)}"):
        if not pythia.readString(line):
            raise ValueError(f"Pythia rejected the setting {line!r}; check its spelling against the Pythia manual")
    if not pythia.init():
        raise RuntimeError(f"Pythia.init() failed with settings {list(settings)!r}")
    return pythia


def _boost(p: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Pure Lorentz boost of ``(n, 4)`` vectors (px, py, pz, E) by velocity ``beta`` ``(n, 3)``."""
    b2 = np.sum(beta * beta, axis=1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p[:, :3], axis=1)
    gamma2 = np.divide(gamma - 1.0, b2, out=np.zeros_like(b2), where=b2 > 0)
    out = np.empty_like(p)
    out[:, :3] = p[:, :3] + (gamma2 * bp + gamma * p[:, 3])[:, None] * beta
    out[:, 3] = gamma * (p[:, 3] + bp)
    return out


def _undo_copy_boost(p: np.ndarray, after: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Map ``p`` by the pure boost taking ``after`` to ``before`` (equal masses).

    Pythia moves decay products with ``RotBstMatrix::bst(p_before, p_after)``, the single pure boost taking one
    four-vector to another of the same mass; its inverse is the same construction with the roles swapped.
    """
    e_sum = after[:, 3] + before[:, 3]
    beta = (before[:, :3] - after[:, :3]) / e_sum[:, None]
    beta *= (2.0 / (1.0 + np.sum(beta * beta, axis=1)))[:, None]
    return _boost(p, beta)


def _bottom_copy(idx: np.ndarray, pid: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Follow each particle's chain of same-id copies down to its last copy (global flat indices)."""
    idx = idx.copy()
    for _ in range(200):
        a, b = d1[idx], d2[idx]
        same_a = (a >= 0) & (pid[np.maximum(a, 0)] == pid[idx])
        same_b = (b >= 0) & (pid[np.maximum(b, 0)] == pid[idx]) & ~same_a
        step = same_a | same_b
        if not step.any():
            return idx
        idx = np.where(same_a, a, np.where(same_b, b, idx))
    raise RuntimeError("Pythia event record: a copy chain is longer than 200 entries; the record looks corrupted")


def _truth(batch: ak.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Process-level six partons (n, 6, 4), their masses (n, 6), event-record quark copies (n, 4, 4)."""
    prt = batch["prt"]
    counts = ak.to_numpy(ak.num(prt, axis=1)).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    flat = ak.flatten(prt, axis=1)
    pid = ak.to_numpy(flat["id"]).astype(np.int64)
    status = ak.to_numpy(flat["status"])
    p = np.stack([ak.to_numpy(flat["p"][c]) for c in ("px", "py", "pz", "e")], axis=1)
    owner = np.repeat(np.arange(len(counts)), counts)
    d1 = ak.to_numpy(flat["daughter1"]).astype(np.int64)
    d2 = ak.to_numpy(flat["daughter2"]).astype(np.int64)
    d1 = np.where(d1 > 0, d1 + start[owner], -1)
    d2 = np.where(d2 > 0, d2 + start[owner], -1)
    n = len(counts)
    out = np.empty((n, 6, 4))
    masses = np.empty((n, 6))
    quarks = np.empty((n, 4, 4))
    # Event-record lines 5 and 6 hold the hard process's t and tbar unchanged (status -22).
    if np.any(counts < 7) or np.any(status[start + 5] != -22) or np.any(status[start + 6] != -22):
        raise RuntimeError("Pythia event record: lines 5 and 6 are not the hard-process tops; check PYTHIA_SETTINGS")
    top_line = np.where(pid[start + 5] == 6, start + 5, start + 6)
    tbar_line = np.where(pid[start + 5] == -6, start + 5, start + 6)
    # top id -> (parton slot of its b, parton slots of its W's two daughters), slots as in PARTON_PDG_IDS
    layout = {6: (2, (4, 5)), -6: (3, (0, 1))}
    for top_id, line in ((6, top_line), (-6, tbar_line)):
        b_slot, (s1, s2) = layout[top_id]
        last = _bottom_copy(line, pid, d1, d2)
        da, db = d1[last], d2[last]
        if np.any((da < 0) | (db != da + 1)):
            raise RuntimeError(f"top {top_id}: its last copy does not decay to exactly two particles (t -> W b)")
        w_first = np.where(np.abs(pid[da]) == 24, da, db)
        b_first = np.where(np.abs(pid[da]) == 24, db, da)
        top_proc, top_evt = p[line], p[last]
        w_proc = _undo_copy_boost(p[w_first], top_evt, top_proc)
        w_last = _bottom_copy(w_first, pid, d1, d2)
        fa, fb = d1[w_last], d2[w_last]
        if np.any((fa < 0) | (fb != fa + 1)):
            raise RuntimeError(f"top {top_id}: its W does not decay to exactly two particles")
        f1 = np.where(pid[fa] == PARTON_PDG_IDS[s1], fa, fb)
        f2 = np.where(pid[fa] == PARTON_PDG_IDS[s1], fb, fa)
        got = np.stack([pid[b_first], pid[f1], pid[f2]], axis=1)
        want = np.array([PARTON_PDG_IDS[b_slot], PARTON_PDG_IDS[s1], PARTON_PDG_IDS[s2]])
        bad = np.flatnonzero(np.any(got != want, axis=1))
        if len(bad):
            raise RuntimeError(
                f"hard process: event {int(bad[0])} of the batch decays the top {top_id} to pdgIds "
                f"{got[bad[0]].tolist()!r}, expected {want.tolist()!r} (one each of 11, -12, 5, -5, 2, -1 in "
                "all); check the forced-decay settings (24:onPosIfMatch / 24:onNegIfMatch)"
            )
        out[:, b_slot] = _undo_copy_boost(p[b_first], top_evt, top_proc)
        out[:, s1] = _undo_copy_boost(p[f1], p[w_last], w_proc)
        out[:, s2] = _undo_copy_boost(p[f2], p[w_last], w_proc)
        quarks[:, b_slot - 2] = p[b_first]
        if top_id == 6:
            quarks[:, s1 - 2], quarks[:, s2 - 2] = p[f1], p[f2]
    masses[:] = np.sqrt(np.maximum(out[..., 3] ** 2 - np.sum(out[..., :3] ** 2, axis=-1), 0.0))
    tops = p[top_line] + p[tbar_line]
    miss = np.abs(out.sum(axis=1) - tops).max(axis=1)
    bad = np.flatnonzero(miss > 1e-6 * np.maximum(tops[:, 3], 1.0))
    if len(bad):
        raise RuntimeError(
            f"hard process: the six decay products of event {int(bad[0])} miss the t tbar momentum by "
            f"{float(miss[bad[0]]):.3g} GeV; the event-record layout is not the one this module expects"
        )
    return out, masses, quarks


def _stable(batch: ak.Array) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    prt = batch["prt"]
    final = prt[prt["status"] > 0]
    counts = ak.to_numpy(ak.num(final, axis=1)).astype(np.int64)
    flat = ak.flatten(final, axis=1)
    pid = ak.to_numpy(flat["id"]).astype(np.int32)
    mom = [np.ascontiguousarray(ak.to_numpy(flat["p"][c]), dtype=np.float64) for c in ("px", "py", "pz", "e")]
    return counts, pid, mom


def generate_batch(pythia, n_events: int) -> ParticleBatch:
    """Generate ``n_events`` showered, hadronised events with ``pythia`` and return them as flat arrays.

    Events Pythia fails to make are skipped and replaced, so exactly ``n_events`` come back; the sequence is fixed
    by the seed. Keep ``n_events`` at or below ~1000 (``nextBatch`` holds ~0.33 MB per event).

    Raises
    ------
    RuntimeError
        An event whose hard process is not exactly e-, nubar_e, b, bbar, u, dbar (the decay settings are wrong).
    """
    if n_events < 1:
        raise ValueError(f"n_events must be at least 1, got {n_events!r}")
    parts = []
    got = 0
    for _ in range(100):
        batch = pythia.nextBatch(n_events - got, "skip")
        if len(batch):
            parts.append(batch)
            got += len(batch)
        if got >= n_events:
            break
    else:
        raise RuntimeError(f"Pythia produced only {got} of {n_events} events after 100 tries")
    return particle_batch(pythia, parts[0] if len(parts) == 1 else ak.concatenate(parts))


def particle_batch(pythia, batch: ak.Array) -> ParticleBatch:
    """The :class:`ParticleBatch` of a ``nextBatch`` record (truth from the hard process, stable particles)."""
    partons, masses, quarks = _truth(batch)
    counts, pid, (px, py, pz, e) = _stable(batch)
    ids, inverse = np.unique(pid, return_inverse=True)
    charge = np.array([pythia.particleData.charge(int(i)) for i in ids], dtype=np.float64)[inverse]
    return ParticleBatch(counts, pid, charge, px, py, pz, e, partons, masses, quarks)


def is_neutrino(pdg_id: np.ndarray) -> np.ndarray:
    """True for neutrinos of any flavour (invisible to the detector)."""
    return np.isin(np.abs(pdg_id), _NEUTRINOS)


def sigma_pb(pythia) -> tuple[float, float]:
    """Pythia's generated cross-section and its uncertainty [pb] (``sigmaGen`` is in mb)."""
    info = pythia.infoPython()
    return float(info.sigmaGen()) * 1e9, float(info.sigmaErr()) * 1e9
