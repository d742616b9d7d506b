"""The bad-input corpus: malformed files and arguments for every verb, each with what its error must name.

Each :class:`Case` builds its inputs in a fresh directory and returns the command line, the files it reads (hashed
before and after: they must not change) and the final output paths (which must not exist afterwards, or must be
unchanged where the user already had a file there).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import awkward as ak
import h5py
import numpy as np
import uproot

from tests.conftest import toy_features
from turbosim_hep.events.features import events_from_features
from turbosim_hep.io.root import events_to_branches, write_events

N = 300


@dataclasses.dataclass(frozen=True)
class Built:
    """What a case made: ``argv`` (after ``turbosim``), ``inputs`` (must stay byte-identical), ``outputs`` (must not
    appear), ``kept`` (user files at output paths that must stay byte-identical)."""

    argv: list[str]
    inputs: list[Path]
    outputs: list[Path]
    kept: list[Path] = dataclasses.field(default_factory=list)
    cleanup: Callable[[], object] | None = None  # run after the case (e.g. stop a process holding a lock)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    verb: str
    build: Callable[[Path, Path], Built]  # (directory, model file) -> Built
    names: tuple[str, ...]  # strings the one-line message must contain (file, tree/branch/field, value)
    status: int = 1


def events(n: int = N, *, seed: int = 0, run: int = 1, first: int = 0) -> ak.Array:
    """A valid sample with partons and reco (toy four-momenta), ids ``run`` and ``first ... first + n - 1``."""
    rng = np.random.default_rng(seed)
    z, x = toy_features(n, rng), toy_features(n, rng, massless=True)
    return events_from_features(z=z, x=x, event=np.arange(first, first + n), run=run)


def branches(ev: ak.Array) -> dict:
    """Flat branch name -> numpy array (jagged ones as awkward), as on disk."""
    out = {}
    for name, value in events_to_branches(ev).items():
        if isinstance(value, ak.Array) and ak.fields(value):
            for f in ak.fields(value):
                out[f"{name}_{f}"] = value[f]
        else:
            out[name] = value
    return out


def set_value(br: dict, name: str, index: int, value: float) -> dict:
    """A copy of ``br`` with element ``index`` of the flattened branch ``name`` set to ``value``."""
    br = dict(br)
    arr = br[name]
    if isinstance(arr, ak.Array):
        flat = ak.to_numpy(ak.flatten(arr)).copy()
        flat[index] = value
        br[name] = ak.unflatten(flat, ak.num(arr, axis=1))
    else:
        arr = np.asarray(arr).copy()
        arr[index] = value
        br[name] = arr
    return br


def write_branches(path: Path, br: dict, *, tree: str = "Events") -> Path:
    """Write ``br`` as a TTree, counters taken from the names (``nJet`` for ``Jet_*``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    groups: dict[str, dict] = {}
    flat: dict = {}
    for name, arr in br.items():
        prefix, _, field = name.partition("_")
        if isinstance(arr, ak.Array) and arr.ndim == 2:
            groups.setdefault(prefix, {})[field] = arr
        elif not (name.startswith("n") and name[1:] in {n.partition("_")[0] for n in br if "_" in n}):
            flat[name] = arr
    payload = {**flat, **{g: ak.zip(fields) for g, fields in groups.items()}}
    with uproot.recreate(path) as f:
        f.mktree(tree, {k: (v.dtype if isinstance(v, np.ndarray) else v.type) for k, v in payload.items()})
        f[tree].extend(payload)
    return path


def good(d: Path, name: str = "chunk-0000.root", **kw) -> Path:
    return write_events(d / "in" / name, events(**kw))


def bad_root(name: str, mutate: Callable[[dict], dict]) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        return write_branches(d / "in" / name, mutate(branches(events())))

    return make


def otus(d: Path, *, mutate_z=None, mutate_x=None, n: int = N, name: str = "in.hdf5", x_rows: int | None = None):
    rng = np.random.default_rng(3)
    z = toy_features(n, rng).astype(np.float64)
    x = toy_features(n if x_rows is None else x_rows, rng, massless=True).astype(np.float64)
    z = z if mutate_z is None else mutate_z(z)
    x = x if mutate_x is None else mutate_x(x)
    path = d / name
    with h5py.File(path, "w") as f:
        f.create_dataset("FDL", data=z)
        f.create_dataset("ROL", data=x)
    return path


# ---------------------------------------------------------------------------------------------------- verbs


def simulate_case(make_inputs: Callable[[Path], list[Path]], *extra: str) -> Callable[[Path, Path], Built]:
    def build(d: Path, model: Path) -> Built:
        ins = make_inputs(d)
        out = d / "sim"
        outputs = [p for i in ins for p in (out / i.name, out / (i.name + ".json"))]
        return Built(["simulate", *map(str, ins), "--model", str(model), "--out", str(out), *extra], ins, outputs)

    return build


def train_case(make_inputs: Callable[[Path], list[Path]], *extra: str) -> Callable[[Path, Path], Built]:
    def build(d: Path, model: Path) -> Built:
        ins = make_inputs(d)
        out = d / "m.pt"
        outputs = [out, d / "m.last.pt", d / "m.metrics.jsonl"]
        argv = ["train", *map(str, ins), "--out", str(out), "--epochs", "1", "--steps-per-epoch", "2", *extra]
        return Built(argv, ins, outputs)

    return build


def evaluate_case(make_inputs: Callable[[Path], list[Path]], *extra: str) -> Callable[[Path, Path], Built]:
    def build(d: Path, model: Path) -> Built:
        ins = make_inputs(d)
        out = d / "report"
        argv = ["evaluate", str(model), *map(str, ins), "--out", str(out), "--split", "all", "--no-plots", *extra]
        return Built(argv, [*ins, model], [out / "report.json", out / "report.md"])

    return build


def import_case(make_input: Callable[[Path], Path]) -> Callable[[Path, Path], Built]:
    def build(d: Path, model: Path) -> Built:
        src = make_input(d)
        out = d / "imported.root"
        return Built(["import-otus", str(src), str(out)], [src], [out, d / "imported.root.json"])

    return build


def _one(make: Callable[[Path], Path]) -> Callable[[Path], list[Path]]:
    return lambda d: [make(d)]


def _text(d: Path, name: str = "notes.txt", text: str = "101\n") -> Path:
    (d / "in").mkdir(parents=True, exist_ok=True)
    p = d / "in" / name
    p.write_text(text)
    return p


def _truncated(d: Path) -> Path:
    p = good(d)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


def _other_tree(d: Path) -> Path:
    return write_branches(d / "in" / "chunk-0000.root", branches(events()), tree="Other")


def _empty(d: Path) -> Path:
    return write_events(d / "in" / "empty.root", events()[:0])


def _flat_jets(d: Path) -> Path:
    br = branches(events())
    br["Jet_pt"] = ak.to_numpy(ak.firsts(br["Jet_pt"]))
    return write_branches(d / "in" / "flat.root", br)


def _five_partons(d: Path) -> Path:
    ev = events()
    partons = ev["Parton"]
    return write_events(
        d / "in" / "five.root",
        ak.with_field(ev, ak.concatenate([partons[:7], partons[7:8, :5], partons[8:]]), "Parton"),
    )


def _wrong_pdg(d: Path) -> Path:
    ev = events()
    return write_events(d / "in" / "pdg.root", ak.with_field(ev, ev["Parton"]["pdgId"][:, ::-1], ("Parton", "pdgId")))


def _missing_branch(coll: str, field: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        br = {k: v for k, v in branches(events()).items() if k != f"{coll}_{field}"}
        return write_branches(d / "in" / "missing.root", br)

    return make


def _duplicate_ids(d: Path) -> list[Path]:
    return [good(d, "a.root", seed=1), good(d, "b.root", seed=2)]  # both have run 1, events 0 ... N-1


def _dir_and_fileset(d: Path) -> list[Path]:
    import json

    f = good(d)
    (d / "in" / "fileset.json").write_text(json.dumps({"ttbar": {"files": {str(f): "Events"}}}))
    return [d / "in", d / "in" / "fileset.json"]


def _fileset_wrong_tree(d: Path) -> list[Path]:
    import json

    f = good(d)
    (d / "in" / "fileset.json").write_text(json.dumps({"ttbar": {"files": {f.name: "Nominal"}}}))
    return [d / "in" / "fileset.json"]


def _model_case(model_file: Callable[[Path], Path], verb: str) -> Callable[[Path, Path], Built]:
    def build(d: Path, model: Path) -> Built:
        src = good(d)
        bad = model_file(d)
        if verb == "simulate":
            out = d / "sim"
            argv = ["simulate", str(src), "--model", str(bad), "--out", str(out)]
            return Built(argv, [src, bad], [out / src.name, out / (src.name + ".json")])
        if verb == "export":
            return Built(["export", str(bad), str(d / "m.ts.pt")], [bad], [d / "m.ts.pt"])
        out = d / "report"
        argv = ["evaluate", str(bad), str(src), "--out", str(out), "--split", "all", "--no-plots"]
        return Built(argv, [src, bad], [out / "report.json"])

    return build


def _simulate_into_input_dir(d: Path, model: Path) -> Built:
    src = good(d)
    return Built(["simulate", str(src), "--model", str(model), "--out", str(src.parent)], [src], [])


def _simulate_over_foreign_file(d: Path, model: Path) -> Built:
    src = good(d)
    foreign = good(d / "sim-parent", seed=9)  # a full-simulation chunk of the same name, copied into --out
    out = foreign.parent
    return Built(["simulate", str(src), "--model", str(model), "--out", str(out)], [src], [], kept=[foreign])


def _simulate_rerun_other_seed(d: Path, model: Path) -> Built:
    from turbosim_hep.simulation.files import simulate_files

    src = good(d)
    (made,) = simulate_files([src], model, d / "sim", seed=1, progress=False)
    argv = ["simulate", str(src), "--model", str(model), "--out", str(d / "sim"), "--seed", "2"]
    return Built(argv, [src], [], kept=[made, made.with_name(made.name + ".json")])


def _train_onto_input(d: Path, model: Path) -> Built:
    a, b = good(d, "a.root"), good(d, "b.root", first=N)
    argv = ["train", str(a), str(b), "--out", str(a), "--overwrite", "--epochs", "1"]
    return Built(argv, [a, b], [d / "in" / "a.last.root", d / "in" / "a.metrics.jsonl"])


def _generate_onto_file(d: Path, model: Path) -> Built:
    f = _text(d, "sample")
    return Built(["generate", "--events", "10", "--out", str(f)], [], [], kept=[f])


def _generate(*args: str) -> Callable[[Path, Path], Built]:
    return lambda d, model: Built(["generate", *args, "--out", str(d / "gen")], [], [d / "gen"])


def _import_onto_input(d: Path, model: Path) -> Built:
    src = otus(d)
    return Built(["import-otus", str(src), str(src)], [src], [])


def _lookup(make: Callable[[Path], Path]) -> Callable[[Path, Path], Built]:
    def build(d: Path, model: Path) -> Built:
        src = make(d)
        return Built(["baseline-lookup", str(src), "--out", str(d / "lk.pt")], [src], [d / "lk.pt"])

    return build


def _string_dataset(d: Path) -> Path:
    path = otus(d)
    with h5py.File(path, "a") as f:
        del f["ROL"]
        f.create_dataset("ROL", data=np.full((N, 24), "1.0", dtype="S8"))
    return path


def _electron_e_below_p(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    x[11, 3] = 0.5 * np.linalg.norm(x[11, :3])  # electron E < |p|: mass would be imaginary
    return x


def _nan_at(row: int, col: int) -> Callable[[np.ndarray], np.ndarray]:
    def f(a: np.ndarray) -> np.ndarray:
        a = a.copy()
        a[row, col] = np.nan
        return a

    return f


ROOT = "chunk-0000.root"


def mutated(branch: str, index: int, value: float) -> Callable[[Path], list[Path]]:
    """One valid ROOT file with element ``index`` of the flattened ``branch`` set to ``value``."""
    return _one(bad_root(ROOT, lambda b: set_value(b, branch, index, value)))


CASES: list[Case] = [
    # simulate: the parton side
    Case(
        "inf parton pT",
        "simulate",
        simulate_case(mutated("Parton_pt", 20, np.inf)),
        (ROOT, "'Events'", "'Parton_pt'", "entry 3", "inf"),
    ),
    Case(
        "NaN parton eta",
        "simulate",
        simulate_case(mutated("Parton_eta", 7, np.nan)),
        (ROOT, "'Parton_eta'", "entry 1", "nan"),
    ),
    Case(
        "negative parton mass",
        "simulate",
        simulate_case(mutated("Parton_mass", 14, -50.0)),
        (ROOT, "'Parton_mass'", "entry 2", "negative mass"),
    ),
    Case(
        "negative parton pT",
        "simulate",
        simulate_case(mutated("Parton_pt", 6, -3.0)),
        (ROOT, "'Parton_pt'", "entry 1", "negative pT"),
    ),
    Case(
        "five partons",
        "simulate",
        simulate_case(_one(_five_partons)),
        ("five.root", "'nParton'", "entry 7", "5 partons"),
    ),
    Case("wrong parton pdgIds", "simulate", simulate_case(_one(_wrong_pdg)), ("pdg.root", "'Parton_pdgId'", "entry 0")),
    Case(
        "missing Parton_phi",
        "simulate",
        simulate_case(_one(_missing_branch("Parton", "phi"))),
        ("missing.root", "'Parton_phi'"),
    ),
    Case("truncated file", "simulate", simulate_case(_one(_truncated)), (ROOT, "truncated or damaged")),
    Case("text file as input", "simulate", simulate_case(_one(_text)), ("notes.txt", "not a readable ROOT file")),
    Case("other tree name", "simulate", simulate_case(_one(_other_tree)), (ROOT, "no TTree 'Events'", "'Other'")),
    Case("same file twice", "simulate", simulate_case(lambda d: [good(d), d / "in" / ROOT]), (ROOT, "named twice")),
    Case(
        "duplicate ids across files",
        "simulate",
        simulate_case(_duplicate_ids),
        ("a.root", "b.root", "run 1", "duplicate event id"),
    ),
    Case("samples 0", "simulate", simulate_case(_one(good), "--samples", "0"), ("--samples", "0")),
    Case("cuda without GPU", "simulate", simulate_case(_one(good), "--device", "cuda"), ("'cuda'", "no CUDA GPU")),
    Case("out is the input directory", "simulate", _simulate_into_input_dir, (ROOT, "it is the input")),
    Case("foreign file in out", "simulate", _simulate_over_foreign_file, (ROOT, "not made by turbosim simulate")),
    Case("rerun with another seed", "simulate", _simulate_rerun_other_seed, (ROOT, "other settings", "seed")),
    Case(
        "ROOT file as model",
        "simulate",
        _model_case(lambda d: good(d, "model.root", seed=5), "simulate"),
        ("model.root", "not a model file"),
    ),
    Case(
        "text file as model",
        "simulate",
        _model_case(lambda d: _text(d, "model.txt"), "simulate"),
        ("model.txt", "not a model file"),
    ),
    Case("missing model", "simulate", _model_case(lambda d: d / "nope.pt", "simulate"), ("nope.pt", "does not exist")),
    # train
    Case("inf jet pT", "train", train_case(mutated("Jet_pt", 9, np.inf)), (ROOT, "'Jet_pt'", "inf")),
    Case("NaN MET", "train", train_case(mutated("MET_pt", 4, np.nan)), (ROOT, "'MET_pt'", "entry 4")),
    Case(
        "negative electron mass",
        "train",
        train_case(mutated("Electron_mass", 2, -79.0)),
        (ROOT, "'Electron_mass'", "entry 2", "-79"),
    ),
    Case("flat Jet_pt", "train", train_case(_one(_flat_jets)), ("flat.root", "'Jet_pt'", "one value per entry")),
    Case(
        "missing Electron_eta",
        "train",
        train_case(_one(_missing_branch("Electron", "eta"))),
        ("missing.root", "'Electron_eta'"),
    ),
    Case("directory and its fileset", "train", train_case(_dir_and_fileset), (ROOT, "named twice", "fileset.json")),
    Case("fileset names another tree", "train", train_case(_fileset_wrong_tree), (ROOT, "no TTree 'Nominal'")),
    Case("duplicate ids", "train", train_case(_duplicate_ids), ("a.root", "b.root", "duplicate event id")),
    Case("out is an input", "train", _train_onto_input, ("a.root", "it is the input")),
    Case("zero epochs", "train", train_case(_one(good), "--epochs", "0"), ("epochs", "0")),
    # evaluate
    Case(
        "NaN jet eta in a test event",
        "evaluate",
        evaluate_case(mutated("Jet_eta", 40, np.nan)),
        (ROOT, "'Jet_eta'", "nan"),
    ),
    Case("empty tree", "evaluate", evaluate_case(_one(_empty)), ("empty.root", "empty")),
    Case(
        "missing MET_pzMiss",
        "evaluate",
        evaluate_case(_one(_missing_branch("MET", "pzMiss"))),
        ("missing.root", "'MET_pzMiss'"),
    ),
    Case(
        "text file as model (evaluate)",
        "evaluate",
        _model_case(lambda d: _text(d, "model.txt"), "evaluate"),
        ("model.txt", "not a model file"),
    ),
    # import-otus
    Case(
        "electron E below |p|",
        "import-otus",
        import_case(lambda d: otus(d, mutate_x=_electron_e_below_p)),
        ("in.hdf5", "'ROL'", "row 11", "electron", "E"),
    ),
    Case(
        "NaN in FDL",
        "import-otus",
        import_case(lambda d: otus(d, mutate_z=_nan_at(5, 9))),
        ("in.hdf5", "'FDL'", "row 5", "column 9"),
    ),
    Case("string dataset", "import-otus", import_case(_string_dataset), ("in.hdf5", "'ROL'", "expected real numbers")),
    Case(
        "row count mismatch",
        "import-otus",
        import_case(lambda d: otus(d, x_rows=N - 1)),
        ("in.hdf5", "FDL", "ROL", "rows"),
    ),
    Case("not HDF5", "import-otus", import_case(lambda d: _text(d, "in.hdf5")), ("in.hdf5", "not a readable HDF5")),
    Case("output is the input", "import-otus", _import_onto_input, ("in.hdf5", "it is the input")),
    # generate, export, baselines
    Case("absurd event count", "generate", _generate("--events", "10000000000000"), ("--events", "10,000,000,000,000")),
    Case("negative seed", "generate", _generate("--events", "10", "--seed", "-1"), ("--seed", "-1")),
    Case("out is a file", "generate", _generate_onto_file, ("sample", "not a directory")),
    Case(
        "text file as model (export)",
        "export",
        _model_case(lambda d: _text(d, "model.txt"), "export"),
        ("model.txt", "not a"),
    ),
    Case(
        "inf in lookup input",
        "baseline-lookup",
        _lookup(bad_root(ROOT, lambda b: set_value(b, "Electron_pt", 3, -np.inf))),
        (ROOT, "'Electron_pt'", "entry 3"),
    ),
]


# ------------------------------------------------------------------------------------ round two (issue 23)


def _trained(d: Path, src: Path) -> Path:
    """A model really trained (1 epoch, 2 steps) on ``src``: its provenance records the file's digest and ids."""
    from turbosim_hep.cli import main

    model = d / "trained" / "m.pt"
    assert main(["train", str(src), "--out", str(model), "--epochs", "1", "--steps-per-epoch", "2"]) == 0
    return model


def _evaluate_copy_of_training_file(d: Path, model: Path) -> Built:
    src = good(d, "train.root", run=5)
    trained = _trained(d, src)
    copy = d / "elsewhere" / "fresh.root"
    copy.parent.mkdir()
    copy.write_bytes(src.read_bytes())
    out = d / "report"
    argv = ["evaluate", str(trained), str(copy), "--out", str(out), "--split", "all", "--no-plots"]
    return Built(argv, [copy, trained], [out])


def _evaluate_rewritten_training_events(d: Path, model: Path) -> Built:
    from turbosim_hep.io.root import read_events

    src = good(d, "train.root", run=5)
    trained = _trained(d, src)
    rewritten = write_events(d / "elsewhere" / "rewritten.root", read_events(src)[::2])  # other bytes, same events
    out = d / "report"
    argv = ["evaluate", str(trained), str(rewritten), "--out", str(out), "--split", "all", "--no-plots"]
    return Built(argv, [rewritten, trained], [out])


def _train_over_existing(d: Path, model: Path) -> Built:
    src = good(d)
    out = d / "m.pt"
    out.write_bytes(model.read_bytes())
    argv = ["train", str(src), "--out", str(out), "--epochs", "1", "--steps-per-epoch", "2"]
    return Built(argv, [src], [d / "m.last.pt", d / "m.metrics.jsonl"], kept=[out])


def _model_directory(verb: str) -> Callable[[Path, Path], Built]:
    def make(d: Path) -> Path:
        (d / "models").mkdir()
        (d / "models" / "m.pt").write_bytes(b"")
        return d / "models"

    return _model_case(make, verb)


def _generate_twice(first: str, *second: str) -> Callable[[Path, Path], Built]:
    """A complete sample made with ``--events first``, then a second ``generate`` with other arguments."""

    def build(d: Path, model: Path) -> Built:
        from turbosim_hep.cli import main

        out = d / "gen"
        assert main(["generate", "--events", first, "--out", str(out), "--no-progress"]) == 0
        kept = sorted(p for p in out.iterdir())
        return Built(["generate", *second, "--out", str(out), "--no-progress"], [], [], kept=kept)

    return build


def hold_lock(out: Path, verb: str):
    """A live run of ``verb`` in another process holding ``out``'s lock (``subprocess.Popen``; kill it to end it)."""
    import subprocess
    import sys

    code = (
        "import time; from turbosim_hep.io.locks import directory_lock\n"
        f"with directory_lock({str(out)!r}, verb={verb!r}):\n"
        "    print('locked', flush=True); time.sleep(120)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def _held_directory(verb: str) -> Callable[[Path, Path], Built]:
    """Another live run holds ``--out``: a subprocess that takes the directory's lock and waits."""

    def build(d: Path, model: Path) -> Built:
        out = d / "out"
        holder = hold_lock(out, verb)
        live = out / ".chunk-0000.root.live.partial"  # what the other run is writing now
        live.write_bytes(b"half a file")
        if verb == "simulate":
            src = good(d)
            argv = ["simulate", str(src), "--model", str(model), "--out", str(out)]
            return Built(argv, [src], [out / src.name, out / (src.name + ".json")], kept=[live], cleanup=holder.kill)
        argv = ["generate", "--events", "10", "--out", str(out)]
        return Built(argv, [], [out / "chunk-0000.root", out / "fileset.json"], kept=[live], cleanup=holder.kill)

    return build


def _set_jet_pt(index: int, value: float | None = None, *, above_previous: bool = False) -> Callable[[Path], list]:
    def mutate(br: dict) -> dict:
        flat = ak.to_numpy(ak.flatten(br["Jet_pt"]))
        br = set_value(br, "Jet_pt", index, float(flat[index - 1]) + 10.0 if above_previous else value)
        return br if above_previous else set_value(br, "Jet_mass", index, 0.0)

    return _one(bad_root(ROOT, mutate))


CASES += [
    # 1: memory (the streaming itself: test_round_two.py)
    Case(
        "a billion samples",
        "simulate",
        simulate_case(_one(good), "--samples", "1000000000"),
        ("--samples", "1,000,000,000", "300,000,000,000 events", "draw fewer"),
    ),
    Case(
        "outputs larger than the free disk",
        "simulate",
        simulate_case(_one(lambda d: good(d, n=43)), "--samples", "232000000"),  # ~1 TB
        ("--samples", "9,976,000,000 events", "GB free", "draw fewer"),
    ),
    # 2: training data in disguise
    Case(
        "byte-identical copy of a training file",
        "evaluate",
        _evaluate_copy_of_training_file,
        ("fresh.root", "same content", "train.root", "--split all", "--split test"),
    ),
    Case(
        "training events rewritten into another file",
        "evaluate",
        _evaluate_rewritten_training_events,
        ("rewritten.root", "run 5", "train.root", "--split test"),
    ),
    # 3: two runs, one directory
    Case("out held by a live run", "simulate", _held_directory("simulate"), ("--out", "in use by", "pid", "wait")),
    Case("out held by a live run (generate)", "generate", _held_directory("generate"), ("--out", "in use by", "pid")),
    # 4 / 11: empty and unreadable inputs, a directory as model
    Case(
        "0-byte input",
        "simulate",
        simulate_case(_one(lambda d: _text(d, "zero.root", ""))),
        ("zero.root", "empty (0 bytes)"),
    ),
    Case("directory as --model", "simulate", _model_directory("simulate"), ("models", "is a directory")),
    Case("directory as model (evaluate)", "evaluate", _model_directory("evaluate"), ("models", "is a directory")),
    # 7: one seed rule
    Case("seed -1", "simulate", simulate_case(_one(good), "--seed", "-1"), ("--seed", "-1", "4294967294")),
    Case("seed 2**64-1", "simulate", simulate_case(_one(good), "--seed", str(2**64 - 1)), ("--seed", str(2**64 - 1))),
    Case("seed 2**70", "simulate", simulate_case(_one(good), "--seed", str(2**70)), ("--seed", str(2**70))),
    Case("seed 2**70 (train)", "train", train_case(_one(good), "--seed", str(2**70)), ("--seed", str(2**70))),
    Case("seed 2**70 (evaluate)", "evaluate", evaluate_case(_one(good), "--seed", str(2**70)), ("--seed", str(2**70))),
    Case("seed 2**32-1", "generate", _generate("--events", "10", "--seed", str(2**32 - 1)), ("--seed", "4294967295")),
    Case(
        "seed -1 (export)",
        "export",
        lambda d, model: Built(["export", str(model), str(d / "m.ts.pt"), "--seed", "-1"], [], [d / "m.ts.pt"]),
        ("--seed", "-1"),
    ),
    Case(
        "seed -1 (baseline-lookup)",
        "baseline-lookup",
        lambda d, model: Built(
            ["baseline-lookup", str(good(d)), "--out", str(d / "lk.pt"), "--seed", "-1"], [], [d / "lk.pt"]
        ),
        ("--seed", "-1"),
    ),
    # 8: physical bounds
    Case(
        "electron at eta 12",
        "train",
        train_case(mutated("Electron_eta", 3, 12.0)),
        (ROOT, "'Electron_eta'", "entry 3", "outside the detector", "12.0"),
    ),
    Case(
        "electron at eta 12 (evaluate)",
        "evaluate",
        evaluate_case(mutated("Electron_eta", 3, 12.0)),
        (ROOT, "'Electron_eta'", "outside the detector"),
    ),
    Case(
        "jet above sqrt(s)",
        "evaluate",
        evaluate_case(mutated("Jet_pt", 0, 14000.0)),
        (ROOT, "'Jet_pt'", "entry 0", "above sqrt(s) = 13000"),
    ),
    Case(
        "parton above sqrt(s)",
        "simulate",
        simulate_case(mutated("Parton_pt", 8, 20000.0)),
        (ROOT, "'Parton_pt'", "entry 1", "above sqrt(s)"),
    ),
    Case("zero-pT jet", "train", train_case(_set_jet_pt(7, 0.0)), (ROOT, "'Jet_pt'", "entry 1", "Jet[3]", "zero pT")),
    Case(
        "unsorted jets",
        "train",
        train_case(_set_jet_pt(5, above_previous=True)),
        (ROOT, "'Jet_pt'", "entry 1", "Jet[1]", "sorted"),
    ),
    # 9 / 12: one rule for resizing a generated sample
    Case(
        "more events into a complete chunk",
        "generate",
        _generate_twice("300", "--events", "600"),
        ("chunk-0000.root", "300 generated events", "600", "whole chunks", "--events 300"),
    ),
    Case(
        "other chunk size",
        "generate",
        _generate_twice("300", "--events", "300", "--chunk-size", "100"),
        ("chunk-0000.root", "chunk_size=100", "recorded 5000"),
    ),
    # 11: wording
    Case(
        "model exists, no --resume",
        "train",
        _train_over_existing,
        ("m.pt", "exists", "--resume", "--overwrite"),
    ),
]
