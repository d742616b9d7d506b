"""The selection-efficiency model ε(z) against the full simulation on the test split, and what it costs.

Usage: python benchmarks/efficiency.py DATA --model MODEL_WITH_EFFICIENCY.pt [--out DIR] [--events-timing 1000000]
       python benchmarks/efficiency.py DATA --model ttbar-physics --train OUT.pt [--out DIR]

DATA is a ``turbosim generate --no-select`` sample (e.g. ``ttbar-ref-all``). With ``--train`` it first runs
``turbosim train-efficiency DATA --model MODEL --out OUT.pt`` and uses OUT.pt. Prints the Markdown table of
:func:`turbosim_hep.evaluation.efficiency.efficiency_report` on the test-split events (ε in bins of m_tt, hadronic
top pT and |y_tt| against the full simulation, pulls, χ²/ndf, calibration), writes ``DIR/efficiency.{md,json,png,pdf}``
and times, on one thread, ε(z) alone and ``simulate()`` with and without ``selected_input=False``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch


def _best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+")
    parser.add_argument("--model", required=True, help="a model file with an efficiency (or with --train, any model)")
    parser.add_argument("--train", metavar="OUT.pt", help="train the efficiency first and write the model here")
    parser.add_argument("--out", default="efficiency-benchmark", help="directory of the report and plot")
    parser.add_argument("--events-timing", type=int, default=1_000_000, help="events of the timing runs")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    from turbosim_hep.evaluation.efficiency import efficiency_markdown, efficiency_report
    from turbosim_hep.evaluation.efficiency_plots import efficiency_figure
    from turbosim_hep.evaluation.selection_sample import efficiency_sample
    from turbosim_hep.events.features import events_from_features
    from turbosim_hep.io.atomic import atomic_path
    from turbosim_hep.model.efficiency_training import train_efficiency
    from turbosim_hep.simulation.registry import load_transform

    model = args.model
    if args.train:
        model, _ = train_efficiency(
            args.data, model=args.model, out=args.train, log=lambda s: print(s, file=sys.stderr)
        )
    tf = load_transform(model, device="cpu")
    if tf.efficiency is None:
        raise SystemExit(
            f"{model!r} has no efficiency: pass --train OUT.pt or attach one with turbosim train-efficiency"
        )
    sample = efficiency_sample(args.data)
    test = sample.split("test")
    z = sample.z[test]
    report = efficiency_report(tf.efficiency.efficiency(z), sample.passed[test], z)
    text = efficiency_markdown(report)
    print(text)

    n = args.events_timing
    zt = np.resize(sample.z, (n, 24))
    t_eps = _best_of(lambda: tf.efficiency.efficiency(zt))
    m = min(n, 200_000)
    events = events_from_features(z=zt[:m], event=np.arange(m), run=1)
    t_sel = _best_of(lambda: tf.simulate(events))
    t_unsel = _best_of(lambda: tf.simulate(events, selected_input=False))
    timing = {
        "eps_ns_per_event": 1e9 * t_eps / n,
        "simulate_events_per_s": m / t_sel,
        "simulate_unselected_events_per_s": m / t_unsel,
        "threads": torch.get_num_threads(),
    }
    print(
        f"\nTiming (one thread): eps(z) {timing['eps_ns_per_event']:.0f} ns/event ({n:,} events); simulate "
        f"{timing['simulate_events_per_s']:,.0f} events/s selected input, "
        f"{timing['simulate_unselected_events_per_s']:,.0f} events/s unselected (passSelection + efficiency), "
        f"{m:,} events"
    )
    out = Path(args.out)
    with atomic_path(out / "efficiency.md") as tmp:
        tmp.write_text(f"# Selection efficiency on the test split\n\nModel: {Path(str(model)).name}\n\n{text}\n")
    with atomic_path(out / "efficiency.json") as tmp:
        tmp.write_text(json.dumps({"report": report, "timing": timing}, indent=1) + "\n")
    for path in efficiency_figure(report, out / "efficiency"):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
