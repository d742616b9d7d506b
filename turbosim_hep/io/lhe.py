"""Les Houches event files (MadGraph, POWHEG, ...) in and out: the six t tbar decay products as the ``Parton`` layout.

:func:`read_lhe` reads ``run.lhe`` or ``run.lhe.gz`` with ``pylhe`` and finds, in each event, the decay products of
pp -> t tbar -> (b W+)(bbar W-) -> (b u dbar)(bbar e- nubar_e) through the mother chain and the PDG ids, so the
incoming partons, the intermediate tops and Ws, extra radiation and copies of a resonance are all handled. Events of
another channel (charge-conjugate, mu, tau, another W+ or a hadronic W- decay, no t tbar decay chain in the record)
are counted by channel and skipped, or refused with ``strict=True``.

Ids: ``run`` is given (``run=``), ``luminosityBlock`` = 1 and ``event`` = the event's position in the file
(0, 1, ...; skipped events keep their numbers), so ``turbosim simulate run.lhe`` and ``turbosim generate --lhe
run.lhe`` give the same event the same id. The event weight (XWGTUP) becomes ``genWeight`` (NanoAOD's name).

:func:`write_lhe` writes parton events of the layout as a Les Houches file with the full decay chain (two incoming
gluons, t, tbar, W+, W-, the six decay products and, where the six do not balance in pT, a recoiling gluon), which
Pythia showers (``Beams:frameType = 4``); the tests make their LHE samples with it.
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

__all__ = ("LheChunk", "LheSample", "is_lhe_path", "read_lhe", "skip_summary", "split_kept", "write_lhe")

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


def _open_text(path: Path):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _events(path: Path) -> Iterator[tuple[int, object]]:
    """(position, pylhe event) pairs; a parse error raises ``ValueError`` naming the file and the event."""
    import pylhe

    position = 0
    try:
        with warnings.catch_warnings():
            # pylhe turns an XML error into a RuntimeWarning and stops, which would silently truncate the sample
            warnings.simplefilter("error", RuntimeWarning)
            lhef = pylhe.LHEFile.frombuffer(_open_text(path), with_attributes=False, generator=True)
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


def _decode(event, position: int, path: Path) -> tuple[np.ndarray | None, str | None, tuple[float, float]]:
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
    for position, event in _events(path):
        if max_events is not None and position >= max_events:
            break
        p, channel, tpz = _decode(event, position, path)
        top_pz.append(tpz)
        if p is None:
            if strict:
                raise ValueError(
                    f"{str(path)!r}: event {position} (counting from 0) is not t t~ -> e- ve~ b b~ u d~ but "
                    f"'{channel}'; drop --strict to skip such events"
                )
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


#: One particle line with 17 significant digits per momentum component (pylhe's default keeps 9).
_PARTICLE_FORMAT = (
    "{id:5d} {status:3d} {mother1:3d} {mother2:3d} {color1:3d} {color2:3d} {px: .16e} {py: .16e} {pz: .16e} "
    "{e: .16e} {m: .16e} {lifetime: 10.4e} {spin: 10.4e}"
)


def _mass(v: np.ndarray) -> float:
    return float(np.sqrt(max(v[3] ** 2 - v[0] ** 2 - v[1] ** 2 - v[2] ** 2, 0.0)))


def _particle(pdg: int, status: int, mothers: tuple[int, int], colour: tuple[int, int], p4, mass: float):
    import pylhe

    px, py, pz, e = (float(v) for v in p4)
    return pylhe.LHEParticle(pdg, status, *mothers, *colour, px, py, pz, e, float(mass), 0.0, 9.0)


def write_lhe(
    path: str | os.PathLike,
    events: ak.Array,
    *,
    weights: np.ndarray | None = None,
    sqrt_s_gev: float = 13_000.0,
    xsec_pb: float = 1.0,
) -> Path:
    """Write parton events (a ``Parton`` collection of six, the layout's order) as a Les Houches file.

    Each event is gg -> t tbar (+ a recoiling gluon where the six carry transverse momentum), t -> b W+ -> b u dbar,
    tbar -> bbar W- -> bbar e- nubar_e, every momentum written with 17 significant digits (lossless for float64).
    A name ending in ``.gz`` is gzipped. Written atomically.
    """
    import pylhe

    from turbosim_hep.io.atomic import atomic_path
    from turbosim_hep.physics.kinematics import p4_from_ptetaphim

    coll = events["Parton"] if "Parton" in ak.fields(events) else events
    pt, eta, phi, mass = (ak.to_numpy(coll[k]).astype(np.float64) for k in ("pt", "eta", "phi", "mass"))
    z = p4_from_ptetaphim(pt, eta, phi, mass)  # float64 from the stored numbers, as read_lhe's inverse
    n = len(z)
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    slot = {pdg: k for k, pdg in enumerate(PARTON_PDG_IDS)}
    out = []
    for i in range(n):
        p, m = z[i], mass[i]
        w_plus, w_minus = p[slot[2]] + p[slot[-1]], p[slot[11]] + p[slot[-12]]
        top, tbar = p[slot[5]] + w_plus, p[slot[-5]] + w_minus
        system = top + tbar
        recoil = np.array([-system[0], -system[1], 0.0, np.hypot(system[0], system[1])])
        total = system + recoil
        a = np.array([0.0, 0.0, (total[3] + total[2]) / 2, (total[3] + total[2]) / 2])
        b = np.array([0.0, 0.0, -(total[3] - total[2]) / 2, (total[3] - total[2]) / 2])
        radiates = recoil[3] > 0
        # colour lines as MadGraph writes gg -> t t~ (g): 501 joins the gluons, 502 runs to the t~, 503 to the t
        # (through the extra gluon, which passes 504 on to the t, when there is one)
        t_colour = 504 if radiates else 503
        particles = [
            _particle(21, -1, (0, 0), (501, 502), a, 0.0),
            _particle(21, -1, (0, 0), (503, 501), b, 0.0),
            _particle(6, 2, (1, 2), (t_colour, 0), top, _mass(top)),
            _particle(-6, 2, (1, 2), (0, 502), tbar, _mass(tbar)),
            _particle(24, 2, (3, 3), (0, 0), w_plus, _mass(w_plus)),
            _particle(5, 1, (3, 3), (t_colour, 0), p[slot[5]], m[slot[5]]),
            _particle(-24, 2, (4, 4), (0, 0), w_minus, _mass(w_minus)),
            _particle(-5, 1, (4, 4), (0, 502), p[slot[-5]], m[slot[-5]]),
            _particle(2, 1, (5, 5), (505, 0), p[slot[2]], m[slot[2]]),
            _particle(-1, 1, (5, 5), (0, 505), p[slot[-1]], m[slot[-1]]),
            _particle(11, 1, (7, 7), (0, 0), p[slot[11]], m[slot[11]]),
            _particle(-12, 1, (7, 7), (0, 0), p[slot[-12]], m[slot[-12]]),
        ]
        if radiates:
            particles.append(_particle(21, 1, (1, 2), (503, 504), recoil, 0.0))
        info = pylhe.LHEEventInfo(len(particles), 1, float(weights[i]), float(system[3]) / 2, 0.0078125, 0.118)
        out.append(pylhe.LHEEvent(eventinfo=info, particles=particles))
    init = pylhe.LHEInit(
        initInfo=pylhe.LHEInitInfo(2212, 2212, sqrt_s_gev / 2, sqrt_s_gev / 2, 0, 0, 0, 0, 3, 1),
        procInfo=[pylhe.LHEProcInfo(float(xsec_pb), 0.0, float(xsec_pb), 1)],
        generators=[],
    )
    fmt = dataclasses.replace(pylhe.DEFAULT_FORMAT, particle=_PARTICLE_FORMAT)
    path = Path(path)
    with atomic_path(path) as tmp:
        text = pylhe.LHEFile(init=init, events=out).tolhe(fmt)
        if path.name.endswith(".gz"):
            with gzip.open(tmp, "wt") as fh:
                fh.write(text)
        else:
            tmp.write_text(text)
    return path


@dataclasses.dataclass(frozen=True)
class LheChunk:
    """One chunk of a Les Houches file, its kept events rewritten to their own file for Pythia.

    ``positions`` are the kept events' positions in the original file (their ``event`` ids), ``n_read`` the events
    of the original file the chunk covers, ``skipped`` the other channels among them.
    """

    index: int
    path: Path
    positions: tuple[int, ...]
    n_read: int
    skipped: dict[str, int]


def _init_block(path: Path) -> str:
    """The file's text up to and including ``</init>`` (the opening tag, header and init block)."""
    lines = []
    with _open_text(path) as fh:
        for raw in fh:
            line = raw.decode("utf-8", errors="replace")
            lines.append(line)
            if "</init>" in line:
                return "".join(lines)
    raise ValueError(f"{str(path)!r}: no <init> block found; is it a Les Houches file?")


def split_kept(
    path: str | os.PathLike,
    chunk_size: int,
    directory: str | os.PathLike,
    *,
    strict: bool = False,
    max_events: int | None = None,
    name: str = ".lhe-chunk-{:04d}.lhe",
) -> list[LheChunk]:
    """Write the kept (e- nubar_e b bbar u dbar) events of each ``chunk_size`` events of ``path`` to their own file.

    Chunk k covers the file's events ``k * chunk_size ... (k + 1) * chunk_size - 1``; its file (``directory /
    name.format(k)``) holds the original header and init block and the kept events with every momentum written to 17
    significant digits, so what Pythia reads equals what :func:`read_lhe` reads.
    """
    import pylhe

    path, directory = Path(path), Path(directory)
    if not path.is_file():
        raise FileNotFoundError(f"Les Houches file {str(path)!r} does not exist")
    head = _init_block(path)
    fmt = dataclasses.replace(pylhe.DEFAULT_FORMAT, particle=_PARTICLE_FORMAT)
    chunks: list[LheChunk] = []
    texts: list[str] = []
    positions: list[int] = []
    skipped: dict[str, int] = {}
    n_in_chunk = 0

    def flush() -> None:
        index = len(chunks)
        target = directory / name.format(index)
        target.write_text(head + "".join(texts) + "</LesHouchesEvents>\n")
        chunks.append(LheChunk(index, target, tuple(positions), n_in_chunk, dict(skipped)))

    for position, event in _events(path):
        if max_events is not None and position >= max_events:
            break
        p, channel, _ = _decode(event, position, path)
        if p is None:
            if strict:
                raise ValueError(
                    f"{str(path)!r}: event {position} (counting from 0) is not t t~ -> e- ve~ b b~ u d~ but "
                    f"'{channel}'; drop --strict to skip such events"
                )
            skipped[channel] = skipped.get(channel, 0) + 1
        else:
            texts.append(event.tolhe(fmt) + "\n")
            positions.append(position)
        n_in_chunk += 1
        if n_in_chunk == chunk_size:
            flush()
            texts, positions, skipped, n_in_chunk = [], [], {}, 0
    if n_in_chunk:
        flush()
    if not chunks:
        raise ValueError(f"{str(path)!r} holds no events")
    return chunks
