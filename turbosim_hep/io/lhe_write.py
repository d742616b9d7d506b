"""Les Houches files out: parton events of the layout written with their full decay chain, and a file split into the
per-chunk files one Pythia instance reads each.

:func:`write_lhe` writes two incoming gluons, t, tbar, W+, W-, the six decay products and, where the six do not
balance in pT, a recoiling gluon, which Pythia showers (``Beams:frameType = 4``); the tests make their LHE samples
with it. :func:`split_kept` writes, per chunk, the events of the kept channel of a file read by
:func:`~turbosim_hep.io.lhe.read_lhe`.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
from pathlib import Path

import awkward as ak
import numpy as np

from turbosim_hep.constants import PARTON_PDG_IDS
from turbosim_hep.io.lhe import decoded_events, open_text

__all__ = ("LheChunk", "split_kept", "write_lhe")


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
    with open_text(path) as fh:
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

    for position, event, p, channel, _ in decoded_events(path, strict=strict, max_events=max_events):
        if p is None:
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
