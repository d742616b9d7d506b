"""``turbosim demo --out DIR``: the whole chain on a small sample (generate, train, evaluate, simulate, coffea).

Each step is the library function a user would call; the demo only chains them with small, quick settings, so a
newcomer sees every artefact of the toolkit in a few minutes on a laptop. Every step resumes: rerunning the demo in
the same directory reuses complete chunks and a finished model.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ("DemoSettings", "run_demo")


@dataclass(frozen=True)
class DemoSettings:
    """Sizes of the demo run (defaults: 2.2 minutes on two otherwise idle cores, measured; ~5 at load 2)."""

    events: int = 20_000
    workers: int = 2
    seed: int = 1
    epochs: int = 10
    steps_per_epoch: int = 100
    batch_size: int = 256
    chunk_size: int = 5_000
    #: the model of the evaluate, simulate and processor steps: the shipped one (real physics); "" uses the short
    #: model the demo trains itself
    model: str = "ttbar-physics"


def run_demo(out: str | os.PathLike, settings: DemoSettings = DemoSettings(), *, log: Callable = print) -> dict:
    """Run the whole chain into ``out``; return a summary dict (also written to ``out/summary.json``)."""
    import torch

    from turbosim_hep.evaluation.scoring import evaluate
    from turbosim_hep.generation.pipeline import generate
    from turbosim_hep.model.config import TurboSimConfig
    from turbosim_hep.model.training import train
    from turbosim_hep.simulation.files import simulate_files

    # one torch thread: the demo's small networks and batches gain nothing from more, and an oversubscribed second
    # thread made training 50x slower on a busy two-core machine
    torch.set_num_threads(1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}

    def step(name: str, fn: Callable):
        log(f"[turbosim demo] {name} ...")
        t0 = time.perf_counter()
        result = fn()
        times[name] = round(time.perf_counter() - t0, 1)
        log(f"[turbosim demo] {name} done in {times[name]:.0f} s")
        return result

    data = step(
        "generate",
        lambda: generate(
            settings.events,
            out / "data",
            workers=settings.workers,
            seed=settings.seed,
            chunk_size=settings.chunk_size,
            plots=True,
        ),
    )
    provenance = json.loads((data / "provenance.json").read_text())
    # a short training of the toolkit's preset, to show training; it is far from converged
    config = TurboSimConfig.preset(
        "physics", batch_size=settings.batch_size, steps_per_epoch=settings.steps_per_epoch, seed=settings.seed
    )
    model_path = out / "model.pt"
    trained = step(
        "train (short demo training)",
        lambda: train(
            data, config=config, epochs=settings.epochs, out=model_path, resume=model_path.exists(), device="cpu"
        ),
    )
    # the shipped model never saw these events (other seeds): every event is a test event
    model, split = (settings.model, "all") if settings.model else (trained, "test")
    report = step("evaluate", lambda: evaluate(model, data, out=out / "evaluation", split=split))
    chunks = sorted(data.glob("chunk-*.root"))
    step("simulate", lambda: simulate_files(chunks, model, out / "turbosim"))
    hists = step("processor", lambda: _run_processor(data / "fileset.json", model, out / "processor"))
    summary = {
        "generated": provenance["n_events_generated"],
        "selected": provenance["n_events_written"],
        "model": str(model),
        "trained_model": str(trained),
        "report": str(out / "evaluation" / "report.md"),
        "turbosim_ntuples": str(out / "turbosim"),
        "processor_plots": str(out / "processor"),
        "processor_cutflow": hists,
        "seconds": times,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    log(report.to_markdown() if hasattr(report, "to_markdown") else str(report))
    log(f"[turbosim demo] everything is in {out}/ (summary.json lists it)")
    return summary


def _run_processor(fileset_path: Path, model: str | Path, out: Path) -> dict:
    """Run TurboSimProcessor (IterativeExecutor) on the generated fileset; plot the masses; return the cutflow."""
    from coffea import processor

    from turbosim_hep.figures.style import save_figure
    from turbosim_hep.io.nanoevents import TurboSimSchema
    from turbosim_hep.processors import MASSES, TurboSimProcessor, check_fileset
    from turbosim_hep.processors.plots import processor_figure

    fileset = json.loads(fileset_path.read_text())
    for dataset in fileset.values():
        dataset["files"] = {
            str(p if Path(p).is_absolute() else fileset_path.parent / p): t for p, t in dataset["files"].items()
        }
    check_fileset(fileset)
    runner = processor.Runner(executor=processor.IterativeExecutor(), schema=TurboSimSchema, chunksize=100_000)
    output = runner(fileset, TurboSimProcessor(model), treename="Events")
    out.mkdir(parents=True, exist_ok=True)
    cutflows = {}
    for dataset, result in output.items():
        cutflows[dataset] = result["cutflow"]
        save_figure(processor_figure(result["hists"], list(MASSES)), out / f"{dataset}_masses", formats=("png",))
    return cutflows


def register(sub: argparse._SubParsersAction) -> None:
    d = DemoSettings()
    p = sub.add_parser(
        "demo",
        help="run generate -> train -> evaluate -> simulate -> coffea processor on a small sample",
        description="A few-minute tour of the toolkit: generates events with Pythia, trains a small Turbo-Sim model, "
        "writes the Table-1 report and plots, simulates ntuples and runs the coffea processor. Resumable.",
    )
    p.add_argument("--out", default="turbosim-demo", help="output directory (default: %(default)s)")
    p.add_argument("--events", type=int, default=d.events, help="events to generate (default: %(default)s)")
    p.add_argument("--workers", type=int, default=d.workers, help="generation processes (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="training epochs (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="run seed (default: %(default)s)")
    p.add_argument(
        "--model",
        default=d.model,
        help="model of the evaluate, simulate and processor steps: a shipped name or a file (default: %(default)s; "
        "'' uses the demo's own short training)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    run_demo(
        args.out,
        DemoSettings(events=args.events, workers=args.workers, epochs=args.epochs, seed=args.seed, model=args.model),
    )
    return 0
