"""``turbosim baseline-otus``: trains from ROOT files of the event layout and writes a loadable checkpoint."""

from __future__ import annotations

import numpy as np

from tests.baselines.conftest import toy_pairs
from turbosim_hep.baselines.otus.transform import OtusTransform
from turbosim_hep.cli import main
from turbosim_hep.events.features import events_from_features
from turbosim_hep.io.root import write_events


def test_cli_trains_a_loadable_model_from_root_files(tmp_path, capsys):
    z, x = toy_pairs(500, seed=11)
    for i in range(2):
        sl = slice(250 * i, 250 * (i + 1))
        events = events_from_features(z=z[sl], x=x[sl], event=np.arange(250 * i, 250 * (i + 1)))
        write_events(tmp_path / f"chunk-{i:04d}.root", events)
    out = tmp_path / "otus.pt"
    args = ["baseline-otus", str(tmp_path), "--out", str(out), "--epochs", "2", "--stage2-epochs", "1"]
    assert main([*args, "--batch-size", "100", "--seed", "4", "--device", "cpu", "--threads", "1"]) == 0
    assert "OTUS model" in capsys.readouterr().out
    tf = OtusTransform.load(out, device="cpu")
    assert tf.seed == 4 and tf.loaded.config.epochs == 2 and tf.loaded.config.batch_size == 100
    assert len(tf.loaded.provenance["data"]["files"]) == 2
    assert tf.simulate_features(z[:5], event=np.arange(5)).shape == (5, 24)
    # a second run refuses to overwrite, with a one-line error
    assert main(args) == 1
    assert "exists" in capsys.readouterr().err
