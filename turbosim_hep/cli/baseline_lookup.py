"""``turbosim baseline-lookup DATA... --out lookup.pt``: fit the lookup baseline on the train split."""

from __future__ import annotations

import argparse
import sys


def _edges(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers (inf allowed), got {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "baseline-lookup",
        help="fit the lookup baseline (classical binned fast simulation) for comparison with Turbo-Sim",
        description="Fit the classical fast simulation: per-parton detector responses stored in bins of parton pT and "
        "|eta|, the MET as the smeared neutrino. Uses the same deterministic train split as 'turbosim train'; takes "
        "seconds. DATA are ROOT files, directories of chunk-*.root or a coffea fileset.json. Unset options take the "
        "defaults of turbosim_hep.baselines.lookup.config.LookupConfig.",
    )
    p.add_argument("data", nargs="+", metavar="DATA", help="ROOT files, directories or fileset.json")
    p.add_argument("--out", required=True, help="model file to write, e.g. lookup.pt")
    p.add_argument("--seed", type=int, help="seed of the per-event noise when simulating")
    p.add_argument("--pt-bins", type=_edges, metavar="EDGES", help="parton-pT bin edges [GeV], e.g. 0,30,80,inf")
    p.add_argument("--eta-bins", type=_edges, metavar="EDGES", help="parton-|eta| bin edges, e.g. 0,1.5,2.5,inf")
    p.add_argument("--met-bins", type=_edges, metavar="EDGES", help="neutrino-pT bin edges [GeV] of the MET residual")
    p.add_argument("--min-entries", type=int, help="fewest responses per bin before it borrows from coarser bins")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from turbosim_hep.baselines.lookup.fit import fit_lookup_files

    names = {
        "seed": "seed",
        "pt_bins": "pt_bins_gev",
        "eta_bins": "abs_eta_bins",
        "met_bins": "met_bins_gev",
        "min_entries": "min_entries",
    }
    options = {field: getattr(args, arg) for arg, field in names.items() if getattr(args, arg) is not None}
    path = fit_lookup_files(
        args.data,
        out=args.out,
        overwrite=args.overwrite,
        log=lambda line: print(line, file=sys.stderr, flush=True),
        **options,
    )
    print(f"lookup model: {path}")
    return 0
