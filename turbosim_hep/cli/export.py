"""``turbosim export MODEL OUT.pt|OUT.pt2``: a network for coffea.ml_tools.torch_wrapper or torch.export."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export the decoder (or encoder) as TorchScript (.pt) or a torch.export program (.pt2)",
        description="The exported module maps GeV features and explicit noise to GeV features; load it with "
        "turbosim_hep.model.export.TurboSimTorchWrapper (a coffea.ml_tools.torch_wrapper) to "
        "get the transform's numbers.",
    )
    p.add_argument("model", help="checkpoint written by 'turbosim train'")
    p.add_argument("output", help="file to write: .pt (TorchScript) or .pt2 (torch.export)")
    p.add_argument("--direction", choices=("simulate", "unfold"), default="simulate")
    p.add_argument("--seed", type=int, default=None, help="noise seed recorded with the export (default: the model's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from turbosim_hep.model.export import export_model

    out = export_model(args.model, args.output, direction=args.direction, seed=args.seed)
    print(f"wrote {out}")
    return 0
