"""ROOT I/O throughput of the event layout: write, read, and the ratio to a bare uproot read of the same branches.

Usage: python benchmarks/io.py [--events 1000000]. Target: read_events >= 0.8x the bare uproot read.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import uproot

from turbosim_hep.events.features import events_from_features, reco_to_features
from turbosim_hep.io.root import read_events, write_events


def _features(n: int, rng: np.random.Generator) -> np.ndarray:
    p = rng.normal(0.0, 60.0, size=(n, 6, 3))
    e = np.sqrt((p**2).sum(-1) + rng.uniform(0, 10, (n, 6)) ** 2)
    return np.concatenate([p, e[..., None]], axis=-1).reshape(n, 24).astype(np.float32)


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.events
    rng = np.random.default_rng(1)
    events = events_from_features(z=_features(n, rng), x=_features(n, rng))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.root"
        t_write = _best(lambda: write_events(path, events), repeat=1)
        names = list(uproot.open(path)["Events"].keys())
        t_bare = _best(lambda: uproot.open(path)["Events"].arrays(names))
        t_read = _best(lambda: read_events(path))
        t_feat = _best(lambda: reco_to_features(read_events(path, collections=("Electron", "Jet", "MET"))))
        size = path.stat().st_size / 1e6
    print(f"events: {n:,}   file size: {size:.0f} MB")
    print(f"write_events:                {n / t_write:12,.0f} events/s  ({t_write:.2f} s)")
    print(f"bare uproot arrays():        {n / t_bare:12,.0f} events/s  ({t_bare:.2f} s)")
    print(f"read_events:                 {n / t_read:12,.0f} events/s  ({t_read:.2f} s)")
    print(f"read reco + X features:      {n / t_feat:12,.0f} events/s  ({t_feat:.2f} s)")
    print(f"read_events / bare uproot:   {t_bare / t_read:12.2f}  (target >= 0.8)")


if __name__ == "__main__":
    main()
