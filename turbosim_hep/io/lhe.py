"""Les Houches event files (MadGraph, POWHEG, ...) in and out: the six t tbar decay products as the ``Parton`` layout.

:func:`read_lhe` reads ``run.lhe`` or ``run.lhe.gz`` with ``pylhe`` and finds, in each event, the decay products of
pp -> t tbar -> (b W+)(bbar W-) -> (b u dbar)(bbar e- nubar_e) through the mother chain and the PDG ids, so the
incoming partons, the intermediate tops and Ws, extra radiation and copies of a resonance are all handled. Events of
another channel (charge-conjugate, mu, tau, another W+ or a hadronic W- decay, no t tbar decay chain in the record)
are counted by channel and skipped, or refused with ``strict=True``.

Ids: ``run`` is given (``run=``), ``luminosityBlock`` = 1 and ``event`` = the event's position in the file
(0, 1, ...; skipped events keep their numbers), so ``turbosim simulate run.lhe`` and ``turbosim generate --lhe
run.lhe`` give the same event the same id. The event weight (XWGTUP) becomes ``genWeight`` (NanoAOD's name).

Writing (:func:`~turbosim_hep.io.lhe_write.write_lhe`) and splitting a file into per-chunk files for Pythia are
:mod:`turbosim_hep.io.lhe_write`.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import awkward as ak
import numpy as np

from turbosim_hep.constants import PARTON_PDG_IDS

__all__ = ("LheSample", "is_lhe_path", "read_lhe", "skip_summary")

#: The channel kept: top and W decays, as PDG ids of the W daughters (any order).
_W_PLUS_WANTED = (2, -1)
_W_MINUS_WANTED = (11, -12)
_NAMES = {
    1: "d", 2: "u", 3: "s", 4: "c", 5: "b", 11: "e-", 12: "ve", 13: "mu-", 14: "vm", 15: "ta-", 16: "vt", 21: "g",
    22: "a",
}  # fmt: skip


def _name(pdg: int) -> str:
    base = _NAMES.get(abs(pdg), str(abs(pdg)))
    if abs(pdg) in (11, 13, 15):
        return base if pdg > 0 else base[:-1] + "+"
    return base if pdg > 0 else base + "~"


def is_lhe_path(path: str | os.PathLike) -> bool:
    """True for ``*.lhe`` and ``*.lhe.gz`` (the names ``read_lhe`` takes)."""
    name = Path(path).name.lower()
    return name.endswith(".lhe") or name.endswith(".lhe.gz")


@dataclasses.dataclass(frozen=True)
class LheSample:
    """What :func:`read_lhe` found in a file.

    Attributes
    ----------
    events
        ``run``, ``luminosityBlock``, ``event``, ``Parton`` (six, the layout's order), ``genWeight``: the kept events.
    path
        The file read.
    n_read
        Events in the file (kept and skipped).
    skipped
        Channel description -> number of events skipped (``"W+ -> c s~, W- -> e- ve~"``, ...).
    top_pz
        ``(n_read, 2)`` pz [GeV] of the t and tbar of every event (NaN where the record has none): the signature that
        matches an event showered by Pythia to its position in the file.
    p4, masses
        ``(n_kept, 6, 4)`` px, py, pz, E and ``(n_kept, 6)`` masses [GeV] of the kept decay products, float64 as
        written in the file (``events.Parton`` is made from them).
    """

    events: ak.Array
    path: Path
    n_read: int
    skipped: dict[str, int]
    top_pz: np.ndarray
    p4: np.ndarray
    masses: np.ndarray

    def summary(self) -> str:
        """One line: events read, kept, and the skipped ones by channel."""
        return skip_summary(self.path.name, self.n_read, len(self.events), self.skipped)


def skip_summary(name: str, n_read: int, n_kept: int, skipped: dict[str, int]) -> str:
    """One line: events read, kept, and the skipped ones by channel (most frequent first)."""
    line = f"{name}: {n_read} events read, {n_kept} kept (e- ve~ b b~ u d~)"
    if skipped:
        parts = ", ".join(f"{n} '{k}'" for k, n in sorted(skipped.items(), key=lambda kv: -kv[1]))
        line += f"; skipped {sum(skipped.values())} of other channels: {parts}"
    return line


def open_text(path: Path):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def iter_events(path: Path) -> Iterator[tuple[int, object]]:
    """(position, pylhe event) pairs; a parse error raises ``ValueError`` naming the file and the event."""
    import pylhe

    position = 0
    try:
        with warnings.catch_warnings():
            # pylhe turns an XML error into a RuntimeWarning and stops, which would silently truncate the sample
            warnings.simplefilter("error", RuntimeWarning)
            lhef = pylhe.LHEFile.frombuffer(open_text(path), with_attributes=False, generator=True)
            for event in lhef.events:
                yield position, event
                position += 1
    except (ValueError, RuntimeWarning, TypeError, IndexError, KeyError, EOFError, OSError) as exc:
        what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"{str(path)!r}: malformed Les Houches file at event {position} (counting from 0): {what}"
        ) from None


def _last_copy(i: int, daughters: dict[int, list[int]], ids: list[int]) -> int:
    """Follow a resonance through copies of itself (a single daughter of the same id) to the one that decays."""
    for _ in range(50):
        same = [d for d in daughters.get(i, []) if ids[d] == ids[i]]
        if not same:
            return i
        i = same[0]
    return i


def decode_event(event, position: int, path: Path) -> tuple[np.ndarray | None, str | None, tuple[float, float]]:
    """(six (px, py, pz, E, m) rows or None, skipped channel or None, (pz of t, pz of tbar)) of one event."""
    parts = event.particles
    n = len(parts)
    ids = [int(p.id) for p in parts]
    status = [int(p.status) for p in parts]
    daughters: dict[int, list[int]] = {}
    for i, p in enumerate(parts):
        for m in {int(p.mother1), int(p.mother2)}:
            if m > n or m < 0:
                raise ValueError(
                    f"{str(path)!r}: malformed Les Houches file at event {position} (counting from 0): particle "
                    f"{i + 1} has mother {m}, but the event has {n} particles"
                )
            if m > 0:
                daughters.setdefault(m - 1, []).append(i)
    tops = {}
    for sign in (1, -1):
        found = [i for i in range(n) if ids[i] == 6 * sign and status[i] == 2]
        first = [i for i in found if int(parts[i].mother1) == 0 or ids[int(parts[i].mother1) - 1] != ids[i]]
        tops[sign] = _last_copy((first or found)[0], daughters, ids) if found else None
    top_pz = tuple(float(parts[tops[s]].pz) if tops[s] is not None else float("nan") for s in (1, -1))
    if tops[1] is None or tops[-1] is None:
        return None, "no t t~ decay chain in the record", top_pz
    rows: dict[int, int] = {}
    decays = []
    wanted_all = True
    for sign in (1, -1):
        kids = daughters.get(tops[sign], [])
        b = [d for d in kids if ids[d] == 5 * sign]
        w = [d for d in kids if ids[d] == 24 * sign]
        if len(b) != 1 or len(w) != 1:
            return None, f"t{'~' if sign < 0 else ''} -> {' '.join(_name(ids[d]) for d in kids)}", top_pz
        w_last = _last_copy(w[0], daughters, ids)
        w_kids = sorted(
            (d for d in daughters.get(w_last, []) if status[d] == 1),
            key=lambda d: (abs(ids[d]) in (12, 14, 16), -ids[d]),
        )
        decays.append(f"W{'+' if sign > 0 else '-'} -> {' '.join(_name(ids[d]) for d in w_kids)}")
        wanted = _W_PLUS_WANTED if sign > 0 else _W_MINUS_WANTED
        wanted_all &= sorted(ids[d] for d in w_kids) == sorted(wanted)
        rows[5 * sign] = b[0]
        rows.update({ids[d]: d for d in w_kids})
    if not wanted_all:
        return None, ", ".join(decays), top_pz
    out = np.array([[parts[rows[pdg]].px, parts[rows[pdg]].py, parts[rows[pdg]].pz, parts[rows[pdg]].e,
                     parts[rows[pdg]].m] for pdg in PARTON_PDG_IDS], dtype=np.float64)  # fmt: skip
    if not np.all(np.isfinite(out)):
        raise ValueError(
            f"{str(path)!r}: malformed Les Houches file at event {position} (counting from 0): a decay product's "
            "momentum is NaN or infinite"
        )
    return out, None, top_pz


def decoded_events(
    path: Path, *, strict: bool = False, max_events: int | None = None
) -> Iterator[tuple[int, object, np.ndarray | None, str | None, tuple[float, float]]]:
    """Every event of ``path`` (the first ``max_events``) as ``(position, event, products, channel, top_pz)``.

    ``products`` are the six decay products ``(6, 5)`` (px, py, pz, E, mass [GeV]) of the kept channel, else None
    with ``channel`` naming the other one; with ``strict`` another channel is a ``ValueError`` naming the event.
    """
    for position, event in iter_events(path):
        if max_events is not None and position >= max_events:
            return
        p, channel, tpz = decode_event(event, position, path)
        if p is None and strict:
            raise ValueError(
                f"{str(path)!r}: event {position} (counting from 0) is not t t~ -> e- ve~ b b~ u d~ but "
                f"'{channel}'; drop --strict to skip such events"
            )
        yield position, event, p, channel, tpz


def read_lhe(
    path: str | os.PathLike, *, run: int = 1, strict: bool = False, max_events: int | None = None
) -> LheSample:
    """Read the e- nubar_e b bbar u dbar decay products of every t tbar event of a Les Houches file.

    Arguments
    ---------
    path
        ``*.lhe`` or ``*.lhe.gz`` (gzip is recognised by content).
    run
        The ``run`` id of every event (a uint32); give each sample its own.
    strict
        Refuse (``ValueError``) the first event of another channel instead of skipping it.
    max_events
        Read at most this many events from the start of the file.

    Returns
    -------
    LheSample
        The kept events in the layout of :mod:`turbosim_hep.events.layout` with ``genWeight``, and what was skipped.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A malformed file (one line naming the file and the event position), or with ``strict``, an event of another
        channel.
    """
    from turbosim_hep.events.layout import make_events, make_partons
    from turbosim_hep.physics.kinematics import ptetaphim_from_p4

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Les Houches file {str(path)!r} does not exist")
    if isinstance(run, bool) or not isinstance(run, int | np.integer) or not 0 <= run < 2**32:
        raise ValueError(f"run must be an integer in 0 ... 2**32 - 1, got {run!r}")
    rows, weights, positions, top_pz = [], [], [], []
    skipped: dict[str, int] = {}
    for position, event, p, channel, tpz in decoded_events(path, strict=strict, max_events=max_events):
        top_pz.append(tpz)
        if p is None:
            skipped[channel] = skipped.get(channel, 0) + 1
            continue
        rows.append(p)
        weights.append(float(event.eventinfo.weight))
        positions.append(position)
    if not top_pz:
        raise ValueError(f"{str(path)!r} holds no events")
    p = np.stack(rows) if rows else np.zeros((0, 6, 5))
    pt, eta, phi, _ = ptetaphim_from_p4(np.ascontiguousarray(p[..., :4]))
    events = make_events(
        event=np.asarray(positions, dtype=np.uint64),
        run=int(run),
        luminosity_block=1,
        partons=make_partons(pt, eta, phi, p[..., 4]),
        extra={"genWeight": np.asarray(weights, dtype=np.float32)},
    )
    tops = np.asarray(top_pz, dtype=np.float64).reshape(-1, 2)
    return LheSample(events, path, len(top_pz), skipped, tops, np.ascontiguousarray(p[..., :4]), p[..., 4].copy())
