import json

import numpy as np

from turbosim_hep.cli import main
from turbosim_hep.evaluation import scoring as report_module
from turbosim_hep.events.features import events_from_features
from turbosim_hep.io.root import write_events


def test_cli_prints_table1_and_writes_the_report(tmp_path, ttbar, fake_transform_cls, monkeypatch, capsys):
    z, x = ttbar
    event = np.arange(len(z))
    write_events(tmp_path / "data" / "chunk-0000.root", events_from_features(z=z, x=x, event=event))
    (tmp_path / "data" / "fileset.json").write_text(json.dumps({"ttbar": {"files": {"chunk-0000.root": "Events"}}}))
    fake = fake_transform_cls(z, event)
    monkeypatch.setattr(report_module, "_load_model", lambda model, seed: fake)
    (tmp_path / "model.pt").write_bytes(b"")
    code = main(
        [
            "evaluate",
            str(tmp_path / "model.pt"),
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "eval"),
            "--no-plots",
            "--no-classifier",
            "--max-events",
            "300",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "KS distance to the truth" in printed and "m_t^had" in printed and "floor" in printed
    data = json.loads((tmp_path / "eval" / "report.json").read_text())
    assert data["meta"]["n_events"] == 300 and data["classifier"] is None
    assert not (tmp_path / "eval" / "plots").exists()


def test_cli_reports_a_missing_model_in_one_line(tmp_path, capsys):
    code = main(["evaluate", str(tmp_path / "nope.pt"), str(tmp_path), "--out", str(tmp_path / "o")])
    assert code == 1
    err = capsys.readouterr().err
    assert "turbosim evaluate: error:" in err and "nope.pt" in err
