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
    p.add_argument("output", help="ROOT file to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from turbosim_hep.io.otus import read_otus
    from turbosim_hep.io.root import write_events

    events = read_otus(args.input)
    out = write_events(args.output, events, inputs=[args.input], overwrite=False)
    meta = {"source": str(Path(args.input).resolve()), "format": "OTUS HDF5", "events": len(events)}
    Path(str(out) + ".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {len(events)} events to {out}")
    return 0
