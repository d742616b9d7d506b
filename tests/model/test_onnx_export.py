"""ONNX export: the graph run by ONNX Runtime equals the transform on the same inputs and noise."""

import json

import numpy as np
import pytest

from tests.conftest import toy_features
from turbosim_hep import TurboSimTransform
from turbosim_hep.events.features import events_from_features, partons_to_features, reco_to_features
from turbosim_hep.simulation.noise import STREAMS, event_noise, redraw_keys, row_keys

ort = pytest.importorskip("onnxruntime")

EVENTS = np.arange(300, 700, dtype=np.uint64)


def _run_onnx(path, features, noise):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, {names[0]: features.astype(np.float32), names[1]: noise})[0]


def _assert_parity(got, want, features):
    """Agreement to 1e-5 relative to each event's momentum scale, the largest |component| in or out (float32 sums
    of TeV pz cancel in MET pzMiss, so a component's own size is no scale)."""
    scale = np.maximum(np.abs(want).max(axis=1), np.abs(features).max(axis=1))[:, None]
    assert got.shape == want.shape
    np.testing.assert_array_less(np.abs(got - want), np.broadcast_to(1e-5 * scale, got.shape))


@pytest.fixture(scope="module")
def events():
    z = toy_features(400, np.random.default_rng(31))
    x = toy_features(400, np.random.default_rng(32), massless=True)
    return events_from_features(z=z, x=x, event=EVENTS, run=3)


@pytest.fixture(scope="module")
def exported(model_path, tmp_path_factory):
    from turbosim_hep.model.onnx_export import export_onnx

    d = tmp_path_factory.mktemp("onnx")
    return {
        "simulate": export_onnx(model_path, d / "decoder.onnx", seed=5),
        "unfold": export_onnx(model_path, d / "encoder.onnx", direction="unfold", seed=5),
    }


@pytest.mark.parametrize("direction", ["simulate", "unfold"])
def test_onnxruntime_matches_the_transform_with_the_same_inputs_and_noise(exported, model_path, events, direction):
    from turbosim_hep.model.onnx_export import read_onnx_metadata

    meta = read_onnx_metadata(exported[direction])
    tf = TurboSimTransform.load(model_path, device="cpu", seed=5)
    features = partons_to_features(events) if direction == "simulate" else reco_to_features(events)
    keys = row_keys(meta["seed"], meta["noise_stream"], np.full(400, 3), np.ones(400), EVENTS, 0)
    got = _run_onnx(exported[direction], features, event_noise(keys, meta["noise_dim"]))
    apply = tf.simulate_features if direction == "simulate" else tf.unfold_features
    _assert_parity(got, apply(features, run=3, event=EVENTS), features)


def test_metadata_records_seed_noise_direction_and_source_digest(exported, model_path):
    from turbosim_hep.io.digests import file_sha256
    from turbosim_hep.model.onnx_export import read_onnx_metadata

    meta = read_onnx_metadata(exported["simulate"])
    assert meta["direction"] == "simulate" and meta["seed"] == 5 and meta["noise_stream"] == STREAMS["simulate"]
    assert meta["source_model_sha256"] == file_sha256(model_path)
    assert meta["noise_dim"] > 0 and "(n, 24)" in meta["inputs"]
    session = ort.InferenceSession(str(exported["simulate"]), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["z", "noise"]
    assert session.get_inputs()[0].shape == ["n", 24] and session.get_outputs()[0].name == "x"
    assert session.get_modelmeta().custom_metadata_map["turbosim.seed"] == "5"


def test_physics_decoder_exports_and_matches(tmp_path, events):
    from turbosim_hep.model.onnx_export import export_onnx, read_onnx_metadata
    from turbosim_hep.simulation.registry import open_model

    out = export_onnx(open_model("ttbar-physics"), tmp_path / "physics.onnx", name="ttbar-physics")
    meta = read_onnx_metadata(out)
    assert meta["source_model"] == "ttbar-physics"
    tf = TurboSimTransform.load("ttbar-physics", device="cpu")
    z = partons_to_features(events)
    keys = row_keys(meta["seed"], meta["noise_stream"], np.full(400, 3), np.ones(400), EVENTS, 0)
    width = meta["noise_dim"] // meta["draws"]  # the shipped decoder is truncated: its draws' noise side by side
    noise = np.concatenate([event_noise(redraw_keys(keys, a), width) for a in range(meta["draws"])], axis=1)
    want = tf.simulate_features(z, run=3, event=EVENTS)
    got = _run_onnx(out, z, noise)
    # the graph returns the first of its draws inside the phase space, as simulate() does; an event that needs more
    # draws than the graph makes keeps the graph's last draw (outside)
    import torch

    from turbosim_hep.simulation.phase_space import inside_phase_space

    found = inside_phase_space(torch.from_numpy(got)).numpy()
    assert found.mean() > 0.8  # toy partons, softer than ttbar: more of them need over 4 draws
    _assert_parity(got[found], want[found], z[found])


def test_onnx_wrapper_runs_in_a_coffea_processor_like_the_transform(exported, model_path, events, tmp_path):
    from coffea import processor

    from turbosim_hep.io.nanoevents import TurboSimSchema
    from turbosim_hep.io.root import write_events
    from turbosim_hep.model.onnx_wrapper import TurboSimOnnxWrapper

    path = write_events(tmp_path / "chunk.root", events)

    class Simulate(processor.ProcessorABC):
        def __init__(self, wrapper):
            self.wrapper = wrapper

        def process(self, chunk):
            x = np.asarray(self.wrapper(chunk))
            return {"event": list(np.asarray(chunk.event)), "x": list(x)}

        def postprocess(self, accumulator):
            return accumulator

    runner = processor.Runner(executor=processor.IterativeExecutor(), schema=TurboSimSchema, chunksize=150)
    out = runner({"ttbar": {"files": {str(path): "Events"}}}, Simulate(TurboSimOnnxWrapper(exported["simulate"])))
    order = np.argsort(out["event"])
    got = np.asarray(out["x"])[order]
    tf = TurboSimTransform.load(model_path, device="cpu", seed=5)
    z = partons_to_features(events)
    _assert_parity(got, tf.simulate_features(z, run=3, event=EVENTS), z)
    assert np.asarray(TurboSimOnnxWrapper(exported["simulate"])(events[:0])).shape == (0, 24)


def test_export_cli_picks_onnx_by_suffix_and_refuses_unknown_suffix(model_path, tmp_path, capsys):
    from turbosim_hep.cli import main

    assert main(["export", str(model_path), str(tmp_path / "enc.onnx"), "--direction", "unfold"]) == 0
    assert "onnx, unfold" in capsys.readouterr().out
    assert main(["export", str(model_path), str(tmp_path / "model.bin")]) != 0
    err = capsys.readouterr().err
    assert "model.bin" in err and "--format" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "model.bin").exists()


def test_read_metadata_refuses_a_foreign_file(tmp_path):
    from turbosim_hep.model.onnx_export import read_onnx_metadata

    bad = tmp_path / "x.onnx"
    bad.write_text(json.dumps({"not": "onnx"}))
    with pytest.raises(ValueError, match="x.onnx"):
        read_onnx_metadata(bad)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_a_truncated_decoder_exports_its_redraws_and_matches_the_transform(truncated_model_path, tmp_path, fmt):
    """The exported graph makes EXPORT_DRAWS keyed draws and keeps the first inside the phase space: the transform's
    result for every event that needed at most that many draws."""
    from turbosim_hep.model.export import EXPORT_DRAWS, TurboSimTorchWrapper, export_model
    from turbosim_hep.model.onnx_export import export_onnx, read_onnx_metadata
    from turbosim_hep.model.onnx_wrapper import TurboSimOnnxWrapper
    from turbosim_hep.simulation.phase_space import inside_phase_space

    z = toy_features(400, np.random.default_rng(31))
    z[:, 8:] *= 3.0  # harder quarks: most events reach the phase space in a few draws
    z.reshape(-1, 6, 4)[:, 2:, 3] = np.sqrt((z.reshape(-1, 6, 4)[:, 2:, :3] ** 2).sum(-1) + 25.0)
    events = events_from_features(z=z, x=toy_features(400, np.random.default_rng(32), massless=True), event=EVENTS)
    tf = TurboSimTransform.load(truncated_model_path, device="cpu", seed=5)
    want = tf.simulate_features(partons_to_features(events), event=EVENTS)
    used = _draws_used(tf, partons_to_features(events))
    assert (used > 1).any() and (used <= EXPORT_DRAWS).sum() > 300
    if fmt == "onnx":
        out = export_onnx(truncated_model_path, tmp_path / "t.onnx", seed=5)
        meta = read_onnx_metadata(out)
        assert meta["draws"] == EXPORT_DRAWS and meta["noise_dim"] == EXPORT_DRAWS * tf.loaded.model.decoder.noise_dim
        got = np.asarray(TurboSimOnnxWrapper(out)(events))
    else:
        got = np.asarray(TurboSimTorchWrapper(export_model(truncated_model_path, tmp_path / "t.pt", seed=5))(events))
    ok = used <= EXPORT_DRAWS
    _assert_parity(got[ok], want[ok], z[ok])
    import torch

    assert not inside_phase_space(torch.from_numpy(got[~ok])).all()  # beyond its draws the graph keeps the last


def _draws_used(tf, z):
    """Draws each event needed in the transform (the tally counts them; one event at a time)."""
    used = []
    for i in range(len(z)):
        before = tf.redraws.draws
        tf.simulate_features(z[i : i + 1], event=EVENTS[i : i + 1])
        used.append(tf.redraws.draws - before)
    return np.array(used)
