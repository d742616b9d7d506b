"""``turbosim baseline-otus DATA... --out otus.pt``: train the OTUS baseline (arXiv:2101.08944) on the train split."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "baseline-otus",
        help="train the OTUS baseline for comparison with Turbo-Sim",
        description="Train OTUS (Howard et al. 2021, arXiv:2101.08944) on the same deterministic train split as "
        "'turbosim train'. DATA are ROOT files, directories of chunk-*.root or a coffea fileset.json. Unset options "
        "take the defaults of turbosim_hep.baselines.otus.config.OtusConfig (the paper's, except 200 epochs).",
    )
    p.add_argument("data", nargs="+", metavar="DATA", help="ROOT files, directories or fileset.json")
    p.add_argument("--out", required=True, help="model file to write, e.g. otus.pt")
    p.add_argument("--epochs", type=int, help="stage-1 epochs (paper 1000)")
    p.add_argument("--stage2-epochs", type=int, help="stage-2 epochs, decoder alone (paper 10; 0 skips)")
    p.add_argument("--batch-size", type=int, help="events per batch (paper 20000; clipped to the training set)")
    p.add_argument("--seed", type=int, help="seed of weights, batches, noise and directions (paper 2)")
    p.add_argument("--device", choices=("cuda", "cpu"), help="default: CUDA when available")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from turbosim_hep.baselines.otus.config import OtusConfig
    from turbosim_hep.baselines.otus.training import train_otus

    if args.threads:
        torch.set_num_threads(args.threads)
    names = {"epochs": "epochs", "stage2_epochs": "stage2_epochs", "batch_size": "batch_size", "seed": "seed"}
    overrides = {field: getattr(args, arg) for arg, field in names.items() if getattr(args, arg) is not None}
    path = train_otus(
        args.data,
        config=OtusConfig(**overrides),
        out=args.out,
        overwrite=args.overwrite,
        device=args.device,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(f"OTUS model: {path}")
    return 0
