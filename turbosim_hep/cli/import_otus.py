"""``turbosim import-otus IN.hdf5 OUT.root``: convert an OTUS HDF5 file to the turbosim ROOT layout."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-otus",
        help="convert an OTUS HDF5 file (FDL/ROL) to a turbosim ROOT ntuple",
        description="Read the OTUS datasets FDL (partons) and ROL (detector objects), check them and write them "
        "in the turbosim layout. event = row index; the source file is recorded in OUT.json.",
    )
    p.add_argument("input", help="OTUS HDF5 file")
    p.add_argument("output", help="ROOT file to write (refused if it exists)")
    p.add_argument(
        "--run",
        type=int,
        default=1,
        help="run id of the imported events (default 1); give each imported file its own, or their ids collide",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from turbosim_hep.io.atomic import atomic_path, check_outputs
    from turbosim_hep.io.digests import file_sha256
    from turbosim_hep.io.otus import read_otus
    from turbosim_hep.io.root import write_events

    out, side = Path(args.output), Path(args.output + ".json")
    check_outputs([out, side], [args.input], verb="import-otus")
    for p in (out, side):
        if p.exists():
            raise FileExistsError(f"{str(p)!r} exists; remove it or choose another output file")
    events = read_otus(args.input, run=args.run)
    meta = {
        "source": str(Path(args.input).resolve()),
        "source_sha256": file_sha256(args.input),
        "format": "OTUS HDF5",
        "events": len(events),
        "run": args.run,
    }
    write_events(out, events, inputs=[args.input], overwrite=False)
    with atomic_path(side, inputs=[args.input]) as tmp:
        tmp.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {len(events)} events to {out}")
    return 0
