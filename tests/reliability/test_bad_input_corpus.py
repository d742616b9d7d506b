"""Every malformed input of the corpus (tests/reliability/corpus.py) is answered by a one-line error that names the
file and the tree/branch/field, changes no input, and leaves nothing at the final output paths."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.reliability.corpus import CASES, Case
from turbosim_hep.cli import main


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def test_the_corpus_covers_every_reading_verb_with_at_least_thirty_cases():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)
    verbs = {c.verb for c in CASES}
    assert {"simulate", "train", "evaluate", "import-otus", "generate", "export", "baseline-lookup"} <= verbs


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.verb}: {c.name}")
def test_bad_input_is_one_named_line_and_loses_nothing(case: Case, tmp_path, model_path, capsys):
    import torch

    if "cuda" in case.name and torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the no-GPU message cannot be produced")
    built = case.build(tmp_path, model_path)
    capsys.readouterr()
    watched = [*built.inputs, *built.kept, model_path]
    before = {p: _digest(p) for p in watched}
    try:
        status = main(built.argv)
    finally:
        if built.cleanup is not None:
            built.cleanup()
    err = capsys.readouterr().err
    assert status == case.status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"turbosim {case.verb}: error: "), lines[0]
    assert "internal error" not in lines[0]
    for needle in case.names:
        assert needle in lines[0], f"{needle!r} missing from: {lines[0]}"
    for p, digest in before.items():
        assert _digest(p) == digest, f"{p} changed"
    for p in built.outputs:
        assert not p.exists(), f"{p} was left behind"
    for p in built.kept:
        assert p.exists(), f"{p} was removed"
    leftovers = [p for p in tmp_path.rglob("*.tmp")]
    assert leftovers == []
