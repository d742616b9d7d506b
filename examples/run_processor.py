"""Run TurboSimProcessor over a generator fileset with any coffea executor and plot full sim vs Turbo-Sim.

    python examples/run_processor.py --fileset demo-run/data/fileset.json --model demo-run/model.pt \
        --executor futures --out demo-run/processor

Executors: iterative (one process), futures (a process pool), dask (a dask.distributed LocalCluster; on a real
cluster pass the scheduler address with --scheduler tcp://host:8786). The histograms are the same whichever you pick.
"""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path

from coffea import processor
from turbosim_hep.processors import MASSES, TurboSimProcessor

from turbosim_hep.io.nanoevents import TurboSimSchema


def make_executor(name: str, workers: int, scheduler: str | None):
    """The coffea executor called ``name``; returns (executor, closer)."""
    if name == "iterative":
        return processor.IterativeExecutor(), None
    if name == "futures":
        return processor.FuturesExecutor(workers=workers), None
    if name == "dask":
        from dask.distributed import Client, LocalCluster

        if scheduler:
            client = Client(scheduler)
            return processor.DaskExecutor(client=client), client.close
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
        return processor.DaskExecutor(client=client), lambda: (client.close(), cluster.close())
    raise ValueError(f"executor must be iterative, futures or dask, got {name!r}")


def plot(hists: dict, out: Path) -> list[Path]:
    """One PNG per mass: full sim vs Turbo-Sim with the ratio panel and the fractions outside the range."""
    from turbosim_hep.processors.plots import processor_figure

    from turbosim_hep.figures.style import save_figure

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in MASSES:
        paths += save_figure(processor_figure(hists, [name]), out / name, formats=("png",))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fileset", required=True, help="fileset.json written by 'turbosim generate'")
    parser.add_argument(
        "--model",
        required=True,
        help="checkpoint written by 'turbosim train', or a shipped model's name (ttbar-physics)",
    )
    parser.add_argument("--executor", default="iterative", choices=("iterative", "futures", "dask"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scheduler", default=None, help="dask scheduler address (default: a LocalCluster)")
    parser.add_argument("--chunksize", type=int, default=100_000)
    parser.add_argument("--out", default="processor-output")
    args = parser.parse_args()

    fileset_path = Path(args.fileset)
    fileset = json.loads(fileset_path.read_text())
    for dataset in fileset.values():  # paths in the fileset are relative to its directory
        dataset["files"] = {
            str(p if Path(p).is_absolute() else fileset_path.parent / p): tree for p, tree in dataset["files"].items()
        }
    executor, close = make_executor(args.executor, args.workers, args.scheduler)
    try:
        runner = processor.Runner(executor=executor, schema=TurboSimSchema, chunksize=args.chunksize)
        # a file travels to the workers by its absolute path, a shipped model by its name
        model = Path(args.model).resolve() if Path(args.model).exists() else args.model
        output = runner(fileset, TurboSimProcessor(model), treename="Events")
    finally:
        if close:
            close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "output.pkl", "wb") as f:
        pickle.dump(output, f)
    for dataset, result in output.items():
        print(f"[{dataset}] cutflow: {result['cutflow']}")
        plot(result["hists"], out / dataset)
    print(f"histograms in {out / 'output.pkl'}, plots in {out}/<dataset>/")


if __name__ == "__main__":
    main()
