"""Les Houches files in: the six decay products through the mother chain, weights, ids, other channels, bad files."""

import gzip
import re

import awkward as ak
import numpy as np
import pytest

from tests.conftest import toy_features
from turbosim_hep.events.features import events_from_features
from turbosim_hep.io.lhe import read_lhe
from turbosim_hep.io.lhe_write import write_lhe


def _partons(n=40, seed=3):
    z = toy_features(n, np.random.default_rng(seed))
    return events_from_features(z=z, event=np.arange(n))


def _recode(path, changes):
    """Rewrite the PDG ids of chosen events: ``changes`` maps event position -> {old id: new id}."""
    text = path.read_text()
    blocks = text.split("<event>")
    for k, mapping in changes.items():
        lines = blocks[k + 1].split("\n")
        for j, line in enumerate(lines):
            m = re.match(r"^(\s*)(-?\d+)(\s+-?\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+\S)", line)
            if m and int(m.group(2)) in mapping:
                new = f"{mapping[int(m.group(2))]:5d}"
                lines[j] = new + line[len(m.group(1)) + len(m.group(2)) :]
        blocks[k + 1] = "\n".join(lines)
    path.write_text("<event>".join(blocks))


def test_round_trip_gives_the_source_partons_weights_and_position_ids(tmp_path):
    source = _partons()
    weights = np.linspace(0.5, 2.0, len(source))
    path = write_lhe(tmp_path / "run.lhe.gz", source, weights=weights)
    with gzip.open(path, "rt") as fh:
        assert "<LesHouchesEvents" in fh.read(200)
    sample = read_lhe(path, run=17)
    got = sample.events
    assert len(got) == len(source) and sample.n_read == len(source) and not sample.skipped
    for k in ("pt", "eta", "phi", "mass", "pdgId"):
        np.testing.assert_allclose(ak.to_numpy(got.Parton[k]), ak.to_numpy(source.Parton[k]), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ak.to_numpy(got.genWeight), weights, rtol=1e-6)
    assert ak.to_numpy(got.run).tolist() == [17] * len(source)
    assert ak.to_numpy(got.event).tolist() == list(range(len(source)))
    assert set(ak.to_numpy(got.luminosityBlock).tolist()) == {1}


def test_other_channels_are_counted_and_skipped_or_refused_with_strict(tmp_path):
    path = write_lhe(tmp_path / "mixed.lhe", _partons(12))
    _recode(path, {2: {11: 13, -12: -14}, 5: {11: 13, -12: -14}, 7: {11: 1, -12: -2}, 9: {2: 4, -1: -3}})
    sample = read_lhe(path)
    assert sample.n_read == 12 and len(sample.events) == 8
    assert ak.to_numpy(sample.events.event).tolist() == [0, 1, 3, 4, 6, 8, 10, 11]
    assert sample.skipped == {
        "W+ -> u d~, W- -> mu- vm~": 2,
        "W+ -> u d~, W- -> d u~": 1,
        "W+ -> c s~, W- -> e- ve~": 1,
    }
    line = sample.summary()
    assert "12 events read, 8 kept" in line and "skipped 4 of other channels" in line and "\n" not in line
    with pytest.raises(ValueError, match=r"mixed\.lhe.*event 2 .*mu-"):
        read_lhe(path, strict=True)


def test_charge_conjugate_events_are_another_channel(tmp_path):
    path = write_lhe(tmp_path / "cc.lhe", _partons(3))
    swap = {6: -6, -6: 6, 24: -24, -24: 24, 5: -5, -5: 5, 2: -2, -1: 1, 11: -11, -12: 12}
    _recode(path, {1: swap})
    sample = read_lhe(path)
    assert sample.skipped == {"W+ -> e+ ve, W- -> d u~": 1}


def test_extra_radiation_and_resonance_copies_do_not_change_the_partons(tmp_path):
    source = _partons(5)
    path = write_lhe(tmp_path / "isr.lhe", source)
    assert path.read_text().count("\n   21   1 ") == 5  # every toy event carries a recoiling gluon
    got = read_lhe(path).events
    np.testing.assert_allclose(ak.to_numpy(got.Parton.pt), ak.to_numpy(source.Parton.pt), rtol=1e-6)


@pytest.mark.parametrize(
    "damage, what",
    [
        (lambda t: t[: t.index("<event>", t.index("<event>", t.index("<event>") + 1) + 1) + 200], "event 2"),
        (lambda t: t.replace("</event>", "</evnt>", 2), "event"),
        (
            lambda t: re.sub(r"(<event>\n\s*\d+\s+\d+\s+\S+)", r"\1", t, count=1).replace("  7   7", " 70  70", 1),
            "mother",
        ),
    ],
)
def test_a_malformed_file_is_one_error_naming_the_file_and_event(tmp_path, damage, what):
    good = write_lhe(tmp_path / "good.lhe", _partons(4))
    bad = tmp_path / "bad.lhe"
    bad.write_text(damage(good.read_text()))
    with pytest.raises(ValueError, match=r"bad\.lhe") as err:
        read_lhe(bad)
    assert what in str(err.value) and "\n" not in str(err.value)


def test_simulate_cli_reads_lhe_keeps_weights_and_writes_the_generator_layout(tmp_path, model_path, capsys):
    from turbosim_hep.cli import main
    from turbosim_hep.io.root import read_events

    source = _partons(30)
    path = write_lhe(tmp_path / "run.lhe.gz", source, weights=np.arange(30) + 1.0)
    assert main(["simulate", str(path), "--model", str(model_path), "--out", str(tmp_path / "out"), "--run", "5"]) == 0
    out = capsys.readouterr().out
    assert "run.lhe.gz: 30 events read, 30 kept" in out
    events = read_events(tmp_path / "out" / "run.root")
    assert ak.to_numpy(events.event).tolist() == list(range(30)) and set(ak.to_numpy(events.run)) == {5}
    np.testing.assert_array_equal(ak.to_numpy(events.genWeight), np.arange(30) + 1.0)
    np.testing.assert_allclose(ak.to_numpy(events.Parton.pt), ak.to_numpy(source.Parton.pt), rtol=1e-6)
    assert ak.all(ak.num(events.Jet) == 4) and ak.all(ak.num(events.Electron) == 1)


def test_simulate_cli_strict_refuses_and_a_bad_file_is_one_line(tmp_path, model_path, capsys):
    from turbosim_hep.cli import main

    path = write_lhe(tmp_path / "mixed.lhe", _partons(4))
    _recode(path, {1: {11: 13, -12: -14}})
    assert main(["simulate", str(path), "--model", str(model_path), "--out", str(tmp_path / "o"), "--strict"]) != 0
    err = capsys.readouterr().err.strip()
    assert "mixed.lhe" in err and "event 1" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o" / "mixed.root").exists()
