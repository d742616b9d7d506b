"""Generation speed: events/s per worker, 1 -> 2 worker scaling, time shares of Pythia, detector and clustering.

Targets: 2 workers >= 1.8x one worker; detector time <= clustering time.

    python benchmarks/generation.py            # 2000 events per run
    python benchmarks/generation.py --quick    # 400 events per run
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from turbosim_hep.generation.pipeline import generate


def _run(n: int, workers: int, out: Path) -> dict:
    t = time.perf_counter()
    generate(n, out, workers=workers, seed=2024, chunk_size=max(1, n // (2 * workers)), progress=False)
    wall = time.perf_counter() - t
    prov = json.loads((out / "provenance.json").read_text())
    return {"wall_s": wall, "prov": prov}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="400 events per run")
    args = parser.parse_args()
    n = 400 if args.quick else args.events
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
