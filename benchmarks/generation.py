"""Generation speed: events/s per worker, 1 -> 2 worker scaling, time shares of Pythia, detector and clustering.

Targets: 2 workers >= 1.8x one worker; detector time <= clustering time.

    python benchmarks/generation.py            # 2000 events per run
    python benchmarks/generation.py --quick    # 400 events per run
    python benchmarks/generation.py --detector-only --events 500   # detector vs clustering on one Pythia batch
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from turbosim_hep.generation.pipeline import generate


def _run(n: int, workers: int, out: Path) -> dict:
    t = time.perf_counter()
    generate(n, out, workers=workers, seed=2024, chunk_size=max(1, n // (2 * workers)), progress=False)
    wall = time.perf_counter() - t
    prov = json.loads((out / "provenance.json").read_text())
    return {"wall_s": wall, "prov": prov}


def _detector_only(n: int, repeat: int) -> None:
    """Time the detector and the clustering on one batch of ``n`` Pythia events (generated once), ``repeat`` times.

    The first call compiles (or loads) the numba kernels and is not counted; min and median are printed because
    other processes on the machine inflate single timings.
    """
    from turbosim_hep.generation.detector import simulate_detector
    from turbosim_hep.generation.detector_card import DetectorCard
    from turbosim_hep.generation.pythia import generate_batch, make_pythia

    batch = generate_batch(make_pythia(2024), n)
    card = DetectorCard()
    simulate_detector(batch, card, np.random.default_rng(0))
    det, clu = [], []
    for i in range(repeat):
        timing = simulate_detector(batch, card, np.random.default_rng(i + 1)).timing
        det.append(timing["detector_s"])
        clu.append(timing["clustering_s"])
    for name, t in (("detector", det), ("clustering", clu)):
        print(f"  {name:<10} {1e3 * np.min(t) / n:.3f} ms/event min, {1e3 * np.median(t) / n:.3f} median")
    ok = np.median(det) <= np.median(clu)
    print(f"detector <= clustering (median of {repeat}, {n} events): {ok} ({np.median(det) / np.median(clu):.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="400 events per run")
    parser.add_argument("--detector-only", action="store_true", help="only time detector vs clustering on one batch")
    parser.add_argument("--repeat", type=int, default=10, help="repetitions for --detector-only")
    args = parser.parse_args()
    n = 400 if args.quick else args.events
    if args.detector_only:
        _detector_only(n, args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        one = _run(n, 1, Path(tmp) / "w1")
        two = _run(n, 2, Path(tmp) / "w2")
    for name, r in (("1 worker", one), ("2 workers", two)):
        p = r["prov"]
        print(
            f"{name}: {n / r['wall_s']:.1f} generated events/s, {p['n_events_written'] / r['wall_s']:.1f} "
            f"selected events/s (wall {r['wall_s']:.1f} s, selected {p['n_events_written'] / n:.1%})"
        )
    print(f"scaling 1 -> 2 workers: {one['wall_s'] / two['wall_s']:.2f}x (target >= 1.8x; shared CPUs lower it)")
    t = one["prov"]["timing"]["worker_seconds_all_chunks"]
    total = t["total_s"]
    for key in ("init_s", "pythia_s", "detector_s", "clustering_s", "events_s", "write_s"):
        print(f"  {key[:-2]:<10} {t[key] / total:6.1%}  ({1e3 * t[key] / n:.2f} ms/event)")
    ok = t["detector_s"] <= t["clustering_s"]
    print(f"detector <= clustering: {ok} ({t['detector_s']:.2f} s vs {t['clustering_s']:.2f} s)")
    print(f"per worker: {one['prov']['timing']['events_per_worker_second']:.1f} generated events/s")


if __name__ == "__main__":
    main()
