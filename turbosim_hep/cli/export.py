"""``turbosim export MODEL OUT.pt|OUT.pt2|OUT.onnx``: a network for coffea, torch.export or ONNX Runtime."""

from __future__ import annotations

import argparse

FORMATS = {".pt": "torchscript", ".pt2": "torch.export", ".onnx": "onnx"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export the decoder (or encoder) as TorchScript (.pt), a torch.export program (.pt2) or ONNX (.onnx)",
        description="The exported network maps GeV features and explicit noise to GeV features, the normalisation "
        "folded in. Load .pt/.pt2 with turbosim_hep.model.export.TurboSimTorchWrapper (a "
        "coffea.ml_tools.torch_wrapper) and .onnx with turbosim_hep.model.onnx_wrapper.TurboSimOnnxWrapper, or with "
        "ONNX Runtime from C++, to get the transform's numbers. The format follows the suffix unless --format says "
        "otherwise.",
    )
    p.add_argument("model", help="checkpoint written by 'turbosim train', or a shipped model's name")
    p.add_argument("output", help="file to write: .pt (TorchScript), .pt2 (torch.export) or .onnx (ONNX)")
    p.add_argument(
        "--format",
        choices=sorted(FORMATS.values()),
        default=None,
        help="default: by the suffix",
    )
    p.add_argument("--direction", choices=("simulate", "unfold"), default="simulate")
    p.add_argument("--seed", type=int, default=None, help="noise seed recorded with the export (default: the model's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    suffix = Path(args.output).suffix
    fmt = args.format or FORMATS.get(suffix)
    if fmt is None:
        raise ValueError(
            f"cannot tell the export format from {args.output!r}: end it in .pt, .pt2 or .onnx, or pass --format"
        )
    from turbosim_hep.simulation.registry import open_model

    model = open_model(args.model)  # a file, or a shipped model's name
    if fmt == "onnx":
        from turbosim_hep.model.onnx_export import export_onnx

        name = None if Path(args.model).exists() else args.model
        out = export_onnx(model, args.output, direction=args.direction, seed=args.seed, name=name)
    else:
        from turbosim_hep.model.export import export_model

        out = export_model(model.path, args.output, direction=args.direction, seed=args.seed)
    print(f"wrote {out} ({fmt}, {args.direction})")
    return 0
