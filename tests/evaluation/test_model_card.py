"""Model cards name their training data by what remakes it, never by a path on the training machine."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import toy_features
from turbosim_hep.evaluation.model_card import check_card, content_digest, generate_command, training_data
from turbosim_hep.events.features import events_from_features
from turbosim_hep.io.root import write_events

MODELS = Path(__file__).resolve().parents[2] / "turbosim_hep" / "shipped"


def _events(seed=1, n=50):
    rng = np.random.default_rng(seed)
    return events_from_features(z=toy_features(n, rng), x=toy_features(n, rng, massless=True), event=np.arange(n))


@pytest.mark.parametrize("card", sorted(p.name for p in MODELS.glob("*") if p.suffix in (".md", ".json")))
def test_shipped_cards_name_no_absolute_path(card):
    check_card((MODELS / card).read_text(), source=card)


def test_every_shipped_model_has_a_card_naming_its_data_by_the_generate_command():
    for model in MODELS.glob("*.pt"):
        card = json.loads(model.with_suffix(".json").read_text())
        data = card["training_data"]
        assert data["remake"].startswith("turbosim generate --events ") and "--seed " in data["remake"]
        assert len(data["content_sha256"]) == 64 and data["events"] > 0
        assert data["remake"] in model.with_suffix(".md").read_text()


@pytest.mark.parametrize(
    "text", ["data: `/work/shared/data/ttbar-ref`", "trained on ~/samples/ttbar", r"from C:\Users\me\ttbar"]
)
def test_a_card_with_an_absolute_path_is_refused(text):
    with pytest.raises(ValueError, match="absolute path"):
        check_card(f"# card\n- {text}, 240 files\n", source="NAME.md")


def test_urls_ratios_and_relative_paths_are_not_paths():
    check_card("see https://arxiv.org/abs/2112.10629; pT/50 GeV, 1e-2 / 3, ~30 %, runs/model.pt, `--out ttbar-ref`")


def test_generate_command_from_provenance():
    prov = {"n_events_generated": 1200000, "seed": 2026, "chunk_size": 5000, "selection": "otus_selection"}
    assert generate_command(prov, "ttbar-ref") == (
        "turbosim generate --events 1200000 --seed 2026 --chunk-size 5000 --run 1 --out ttbar-ref"
    )
    prov.update(run=2027, selection=None, detector_card={"jet_r": 0.4})
    assert generate_command(prov, "x") == (
        "turbosim generate --events 1200000 --seed 2026 --chunk-size 5000 --no-select --jet-r 0.4 --out x"
    )


def test_content_digest_follows_the_values_not_the_file_bytes(tmp_path):
    a = write_events(tmp_path / "a.root", _events())
    b = write_events(tmp_path / "b.root", _events())
    c = write_events(tmp_path / "c.root", _events(seed=2))
    assert a.read_bytes() != b.read_bytes()  # creation time and UUID
    assert content_digest([a]) == content_digest([b]) != content_digest([c])
    assert content_digest([a, c]) != content_digest([c, a])


def test_training_data_record_has_the_command_and_no_path(tmp_path):
    data = tmp_path / "ttbar-small"
    files = [write_events(data / f"chunk-{i:04d}.root", _events(seed=i)) for i in range(2)]
    provenance = {
        "n_events_generated": 400, "n_events_written": 100, "seed": 7, "run": 8, "chunk_size": 200,
        "selection": "otus_selection", "versions": {"turbosim-hep": "0.1.0", "pythia8mc": "8.317.2"},
    }  # fmt: skip
    (data / "provenance.json").write_text(json.dumps(provenance))
    record = training_data(files)
    assert record["remake"] == "turbosim generate --events 400 --seed 7 --chunk-size 200 --out ttbar-small"
    assert record["events"] == 100 and record["files"] == 2 and record["content_sha256"] == content_digest(files)
    check_card(json.dumps(record))
