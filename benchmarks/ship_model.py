"""Prepare a trained model for shipping in ``turbosim_hep/shipped/``: inference-only copy plus its check figures.

    python benchmarks/ship_model.py runs/physics/model.pt ttbar-physics --data ttbar-ref --check-files 4

With ``--card quality/quality.json --label LABEL --command "..."`` it also writes the model card ``NAME.md`` from the
table of ``benchmarks/quality.py`` (run on the test split, the shipped model labelled LABEL among the others).

Writes ``turbosim_hep/shipped/NAME.pt`` (the checkpoint without optimiser and random-generator states, digest
recomputed, so it loads like any checkpoint) and ``NAME.json``: the training data named by what remakes it (the
``turbosim generate`` command with its seed, events and run id, the versions that made it, the number of events and
the content digest; ``turbosim_hep.evaluation.model_card.training_data``), the training record (epochs, best epoch,
seconds) and a *slice check*: figures of ``simulate()`` on every event of the first ``--check-files`` files of the
data, which ``tests/test_shipped_models.py`` reproduces. A card naming an absolute path (in ``--command`` too) is
refused: name the data directory as the remake command does (``turbosim train ttbar-ref ...``).

With ``--efficiency EFF.pt --efficiency-data ttbar-ref-all`` (a model file written by ``turbosim train-efficiency``,
or an efficiency entry saved on its own) the shipped model carries that selection efficiency ε(z): ``NAME.json``
gains ``efficiency`` (its provenance and test-split figures, ``--efficiency-command``, and an *efficiency check*:
ε on every event of the first ``--check-files`` files of the unselected sample, which ``tests/test_shipped_models.py``
reproduces) and the card ``NAME.md`` its section (bins of m_tt, top pT, |y_tt| with pulls, calibration)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[1] / "turbosim_hep" / "shipped"


def write_card(name: str, card: dict, quality_json: Path, label: str, command: str, machine: str) -> Path:
    """The model card ``NAME.md``: training data, command, training time and machine, then the quality table."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import quality  # benchmarks/quality.py, beside this script

    from turbosim_hep.evaluation.model_card import check_card

    result = json.loads(Path(quality_json).read_text())
    lookup = next((m["label"] for m in result["models"] if "lookup" in m["label"].lower()), None)
    data, training = card["training_data"], card.get("training", {})
    lines = [
        f"# Model card: `{name}`",
        "",
        f"Load it by name: `load_transform({name!r})`, `turbosim simulate --model {name}`, "
        f"`TurboSimProcessor({name!r})`.",
        "",
        "## Training",
        "",
        f"- data: `{data['name']}`, remade by `{data['remake']}` (made with "
        + ", ".join(f"{k} {v}" for k, v in data["made_with"].items())
        + f"): {data['events_generated']} generated events, {data['files']} files, {data['events']} selected events "
        f"(split {data.get('split_events', '–')}), content SHA-256 `{data['content_sha256']}` "
        "(`turbosim_hep.evaluation.model_card.content_digest`)",
        f"- command: `{command}`",
        f"- training: {training.get('epochs', '–')} epochs, best (on validation) epoch "
        f"{training.get('best_epoch', '–')}, {training.get('train_seconds', '–')} s in the training steps",
        f"- machine: {machine}",
        "- the slice check in `" + name + ".json` (simulate() on every event of "
        f"{', '.join(card['slice_check']['files'])}) and its scorecard check (scorecard figures on the test-split "
        f"events of the first {len(card.get('scorecard_check', {}).get('files', []))} files, with their spreads) "
        "are reproduced by `tests/test_shipped_models.py`",
        "",
        "## Quality on the test split (never seen in training or selection)",
        "",
        f"Printed by `python benchmarks/quality.py ... --data {data['name']}`; this model is **{label}**.",
        "",
        quality.markdown(result, label, lookup).split("\n", 1)[1],
    ]
    if card.get("efficiency"):
        from turbosim_hep.evaluation.efficiency_card import efficiency_card_section

        eff = card["efficiency"]
        lines += ["", efficiency_card_section(eff["provenance"], command=eff.get("command", ""))]
    text = "\n".join(lines)
    check_card(text, source=f"the card of {name}")
    path = MODELS_DIR / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def ship_efficiency(out: Path, efficiency: str, data: list[str] | None, check_files: int, command: str) -> dict:
    """Attach the efficiency in ``efficiency`` to the shipped ``out`` (in place, through a new file) and return the
    card's ``efficiency`` record: provenance without versions, the command, the check on the unselected ``data``."""
    import os

    from turbosim_hep.evaluation.efficiency_card import efficiency_check
    from turbosim_hep.io.datasets import resolve_paths
    from turbosim_hep.simulation.efficiency_file import attach_efficiency, load_efficiency

    if not data:
        raise SystemExit("--efficiency needs --efficiency-data: the --no-select sample of its check")
    eff = load_efficiency(efficiency)
    tmp = out.with_name(out.stem + ".with-efficiency.pt")
    attach_efficiency(out, tmp, eff)
    os.replace(tmp, out)
    provenance = {k: v for k, v in eff.provenance.items() if k != "versions"}
    return {"provenance": provenance, "command": command,
            "check": efficiency_check(out, resolve_paths(data)[:check_files])}  # fmt: skip


def main() -> None:
    import torch

    from turbosim_hep.evaluation.model_card import (
        SCORECARD_CHECK_FILES,
        check_card,
        scorecard_check,
        slice_check,
        training_data,
    )
    from turbosim_hep.io.datasets import resolve_paths
    from turbosim_hep.model.checkpoint import load_model, save_checkpoint
    from turbosim_hep.model.normalisation import Normalisation

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="best checkpoint written by `turbosim train`")
    p.add_argument("name", help="shipped name, e.g. ttbar-physics")
    p.add_argument("--data", nargs="+", required=True, help="the data the model was trained on")
    p.add_argument("--check-files", type=int, default=4, help="files of the slice check (default: %(default)s)")
    p.add_argument("--card", help="quality.json of benchmarks/quality.py: also write the model card NAME.md")
    p.add_argument("--label", help="this model's label in that table")
    p.add_argument("--command", default="", help="the training command, for the card")
    p.add_argument("--machine", default="", help="the training machine and its load, for the card")
    p.add_argument("--efficiency", help="model file (or entry) holding the selection efficiency to ship with it")
    p.add_argument("--efficiency-data", nargs="+", help="the --no-select sample it was trained on (its check)")
    p.add_argument("--efficiency-command", default="", help="the train-efficiency command, for the card")
    p.add_argument(
        "--checks-only", action="store_true", help="recompute the checks in the shipped NAME.json only (MODEL unused)"
    )
    args = p.parse_args()
    torch.set_num_threads(1)

    files = resolve_paths(args.data)
    out = MODELS_DIR / f"{args.name}.pt"
    if args.checks_only:
        card = json.loads((MODELS_DIR / f"{args.name}.json").read_text())
        card["slice_check"] = slice_check(out, files[: args.check_files])
        card["scorecard_check"] = scorecard_check(out, files[:SCORECARD_CHECK_FILES])
        (MODELS_DIR / f"{args.name}.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
        print(json.dumps(card["scorecard_check"], indent=1))
        return
    from turbosim_hep.io.safe_torch import load_plain
    from turbosim_hep.model.checkpoint import FORMAT

    if load_plain(args.model).get("format") != FORMAT:  # a baseline (OTUS): shipped as it is, already lean
        import shutil

        shutil.copyfile(args.model, out)
        card = {"name": args.name, "source": Path(args.model).name, "training_data": training_data(files),
            "slice_check": slice_check(out, files[: args.check_files]),
            "scorecard_check": scorecard_check(out, files[:SCORECARD_CHECK_FILES])}  # fmt: skip
        check_card(json.dumps(card), source=f"the card of {args.name}")
        (MODELS_DIR / f"{args.name}.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
        return
    loaded = load_model(args.model, device="cpu")
    trained_on = {str(Path(f["path"]).resolve()) for f in loaded.provenance["data"]["files"]}
    if {str(f.resolve()) for f in files} != trained_on:
        raise SystemExit(f"--data {args.data!r} is not the data {args.model!r} was trained on")
    provenance = {k: v for k, v in loaded.provenance.items() if k != "versions"}
    state = {k: loaded.state[k] for k in ("epoch", "best_metric", "best_epoch") if k in loaded.state}
    save_checkpoint(
        out,
        model=loaded.model,
        z_norm=Normalisation(loaded.z_mean, loaded.z_std),
        x_norm=Normalisation(loaded.x_mean, loaded.x_std),
        provenance=provenance,
        state=state,
    )
    metrics_path = Path(args.model).with_name(Path(args.model).stem + ".metrics.jsonl")
    records = [json.loads(s) for s in metrics_path.read_text().splitlines()] if metrics_path.exists() else []
    card = {
        "name": args.name,
        "config": loaded.config.to_dict(),
        "training_data": {**training_data(files), "split_events": loaded.provenance.get("split_events")},
        "training": {
            "epochs": len(records),
            "best_epoch": state.get("best_epoch"),
            "best_validation_selection": state.get("best_metric"),
            "train_seconds": round(sum(r["train_seconds"] for r in records), 1),
        },
        "slice_check": slice_check(out, files[: args.check_files]),
        "scorecard_check": scorecard_check(out, files[:SCORECARD_CHECK_FILES]),
    }
    if args.efficiency:
        card["efficiency"] = ship_efficiency(out, args.efficiency, args.efficiency_data, args.check_files,
                                             args.efficiency_command)  # fmt: skip
    check_card(json.dumps(card), source=f"the card of {args.name}")
    (MODELS_DIR / f"{args.name}.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) and {MODELS_DIR / (args.name + '.json')}")
    if args.card:
        card["command"], card["machine"] = args.command, args.machine
        check_card(json.dumps(card), source=f"the card of {args.name} (--command, --machine)")
        (MODELS_DIR / f"{args.name}.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {write_card(args.name, card, args.card, args.label, args.command, args.machine)}")
    print(json.dumps(card["slice_check"], indent=1))


if __name__ == "__main__":
    main()
