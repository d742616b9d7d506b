"""t tbar reconstruction speed on one core: numba kernels vs the pure vector/awkward reference of the same definitions.

Usage: python benchmarks/reconstruction.py [--events 1000000] [--reference-events N] [--quick]
Targets: reconstruct_features >= 3M events/s/core and >= 10x the vector/awkward path. Compile time of the kernels
(cold, and loaded from numba's on-disk cache) is measured in fresh subprocesses and shown separately.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402

import numpy as np  # noqa: E402

from turbosim_hep.events.features import events_from_features  # noqa: E402
from turbosim_hep.physics.reconstruction import reconstruct_features, reconstruct_ttbar  # noqa: E402

_HELPERS = Path(__file__).resolve().parents[1] / "tests" / "physics"

_FIRST_CALL = """
import time, numpy as np
t0 = time.perf_counter()
from turbosim_hep.physics.reconstruction import reconstruct_features
t1 = time.perf_counter()
reconstruct_features(np.ones((4, 24)), level="parton")
reconstruct_features(np.ones((4, 24)), level="parton", neutrino="true")
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
"""


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", _HELPERS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _best(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _first_call(cache_dir: str) -> tuple[float, float]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    res = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=True)
    t_import, t_call = (float(v) for v in res.stdout.split())
    return t_import, t_call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reference-events", type=int, default=None, help="events for the vector path (default all)")
    parser.add_argument("--quick", action="store_true", help="100k events")
    args = parser.parse_args()
    n = 100_000 if args.quick else args.events
    n_ref = min(n, args.reference_events or n)
    toy, reference = _load("toy_ttbar"), _load("reference_ttbar")

    with tempfile.TemporaryDirectory() as cache:
        imp_cold, cold = _first_call(cache)
        imp_warm, warm = _first_call(cache)
    print("first call (fresh process, 2 specialisations: solved and true neutrino):")
    print(f"  import reconstruction:       {imp_cold:8.3f} s")
    print(f"  compile, empty numba cache:  {cold:8.3f} s")
    print(f"  load from numba cache:       {warm:8.3f} s")

    rng = np.random.default_rng(2112)
    z = toy.toy_ttbar_partons(n, rng)
    x64 = toy.toy_detector_features(z, rng)
    x32 = x64.astype(np.float32)
    reconstruct_features(x64[:10], level="reco")  # compile or load outside the timing
    reconstruct_features(z[:10], level="parton", neutrino="true")

    t_x32, out = _best(lambda: reconstruct_features(x32, level="reco"))
    t_x64, _ = _best(lambda: reconstruct_features(x64, level="reco"))
    t_z, _ = _best(lambda: reconstruct_features(z, level="parton", neutrino="true"))
    events = events_from_features(x=x32[:n_ref])
    t_ak, _ = _best(lambda: reconstruct_ttbar(events), repeat=1)
    t_ref, ref = _best(lambda: reference.reconstruct(x32[:n_ref].astype(np.float64).reshape(-1, 6, 4)), repeat=1)

    same = np.mean(ref["b_lep"] == out["b_lep"][:n_ref]) * 100
    dev = np.max(np.abs(ref["m_t_had"] - out["m_t_had"][:n_ref]) / np.maximum(np.abs(ref["m_t_had"]), 1.0))
    rate = n / t_x32
    rate_ref = n_ref / t_ref
    print(f"\nevents: {n:,} (vector path: {n_ref:,}), one core")
    print(f"reconstruct_features X float32: {rate:14,.0f} events/s  ({t_x32:.3f} s)")
    print(f"reconstruct_features X float64: {n / t_x64:14,.0f} events/s  ({t_x64:.3f} s)")
    print(f"reconstruct_features Z, true nu:{n / t_z:14,.0f} events/s  ({t_z:.3f} s)")
    print(f"reconstruct_ttbar (awkward API):{n_ref / t_ak:14,.0f} events/s  ({t_ak:.3f} s)")
    print(f"vector/awkward reference:       {rate_ref:14,.0f} events/s  ({t_ref:.3f} s)")
    print(f"speed-up numba / vector:        {rate / rate_ref:14.1f} x   (target >= 10)")
    print(f"events/s/core target 3M:        {'met' if rate >= 3e6 else 'NOT met':>14}")
    print(f"agreement: same b_lep {same:.3f} %, max rel. dev. m_t_had {dev:.1e}")


if __name__ == "__main__":
    main()
