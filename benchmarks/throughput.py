"""Inference throughput on one core: raw decoder forward, TurboSimTransform.simulate, and the coffea processor.

Usage: python benchmarks/throughput.py [--events 500000] [--model model.pt | ttbar-physics] [--device cpu|cuda]
       [--generation-rate EVENTS_PER_S_PER_CORE | --provenance DIR/provenance.json]

Without --model an untrained model of the paper's size is used (speed does not depend on the weights). With
onnxruntime installed it also exports the decoder to ONNX (``turbosim export MODEL OUT.onnx``) and prints the export
time and ONNX Runtime's time per 100k events (one intra-op thread, the same inputs and noise) beside torch's. Targets:
simulate >= 0.85x raw forward; processor >= 0.6x simulate; >= 1000x the generator's events/s per core; on a GPU
>= 1e7 events/s for simulate.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def _toy_features(n: int, rng: np.random.Generator, massless: bool) -> np.ndarray:
    p = rng.normal(0.0, 60.0, size=(n, 6, 3))
    pt = np.hypot(p[..., 0], p[..., 1])
    p[..., 2] = np.clip(p[..., 2], -np.sinh(4.5) * pt, np.sinh(4.5) * pt)  # inside the detector (|eta| <= 4.5)
    m = np.zeros((n, 6)) if massless else rng.uniform(0, 10, (n, 6))
    e = np.sqrt((p**2).sum(-1) + m**2)
    return np.concatenate([p, e[..., None]], axis=-1).reshape(n, 24).astype(np.float32)


def _untrained_model(path: Path) -> Path:
    from turbosim_hep.model.checkpoint import save_checkpoint
    from turbosim_hep.model.config import TurboSimConfig
    from turbosim_hep.model.normalisation import Normalisation
    from turbosim_hep.model.turbosim import TurboSim

    rng = np.random.default_rng(0)
    z, x = _toy_features(10_000, rng, False), _toy_features(10_000, rng, True)
    save_checkpoint(
        path,
        model=TurboSim(TurboSimConfig.preset("turbo")),
        z_norm=Normalisation(z.mean(0), z.std(0)),
        x_norm=Normalisation(x.mean(0), x.std(0)),
        provenance={"files": [], "note": "untrained benchmark model"},
    )
    return path


def _sample_partons(path: str, n: int) -> np.ndarray:
    """``(n, 24)`` float32 parton features of the events of ``path``, repeated (in order) up to n."""
    from turbosim_hep.evaluation.samples import load_features

    z = load_features(path, split=None, max_events=n).z.astype(np.float32)
    return np.resize(z, (n, 24))


def _rate(fn, n: int, repeat: int = 3) -> float:
    fn()  # warm-up (numba compilation, allocator)
    best = min(_time(fn) for _ in range(repeat))
    return n / best


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def _onnx_rates(model, z: np.ndarray, noise: np.ndarray, batch: int, path: Path) -> tuple[float, float] | None:
    """(export seconds, ONNX Runtime events/s) of the decoder on ``z`` and ``noise``; None without onnxruntime."""
    try:
        import onnxruntime as ort
        import onnxscript  # noqa: F401 (torch's ONNX exporter needs it)
    except ImportError:
        return None
    from turbosim_hep.model.onnx_export import export_onnx
    from turbosim_hep.simulation.registry import open_model

    t0 = time.perf_counter()
    export_onnx(open_model(model), path)
    export_s = time.perf_counter() - t0
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    from turbosim_hep.model.onnx_export import read_onnx_metadata

    draws = read_onnx_metadata(path)["draws"]  # a truncated decoder: the noise of every draw side by side
    z, noise = np.ascontiguousarray(z, dtype=np.float32), np.ascontiguousarray(np.tile(noise, draws), dtype=np.float32)

    def run() -> None:
        for i in range(0, len(z), batch):
            session.run(None, {"z": z[i : i + batch], "noise": noise[i : i + batch]})

    return export_s, _rate(run, len(z))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--generation-rate", type=float, default=None, help="generator events/s per core")
    parser.add_argument("--provenance", default=None, help="a generator provenance.json to read the rate from")
    parser.add_argument(
        "--data",
        default=None,
        help="take the partons from this sample (ROOT files or a directory), repeated up to --events with new event "
        "ids: a decoder truncated to the phase space redraws as often as on real events (toy partons are softer)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    from coffea import processor
    from turbosim_hep.processors import TurboSimProcessor

    from turbosim_hep.events.features import events_from_features
    from turbosim_hep.io.nanoevents import TurboSimSchema
    from turbosim_hep.io.root import read_events, write_events
    from turbosim_hep.model.transform import TurboSimTransform

    n = args.events
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model if args.model else _untrained_model(Path(tmp) / "model.pt")
        tf = TurboSimTransform.load(model, device=args.device)
        z_source = _toy_features(n, rng, False) if args.data is None else _sample_partons(args.data, n)
        events = events_from_features(z=z_source, x=_toy_features(n, rng, True))
        path = write_events(Path(tmp) / "events.root", events)
        partons = read_events(path, collections=("Parton",))

        decoder = tf.loaded.model.decoder
        if getattr(decoder, "physical", False):  # the physics decoder runs in GeV (what the transform calls)
            decoder = decoder.in_gev()
            z = torch.from_numpy(z_source).to(tf.device)
        else:
            z = torch.randn(n, 24, device=tf.device)
        noise = torch.randn(n, decoder.noise_dim, device=tf.device)
        bs = tf.batch_size

        def raw() -> None:
            with torch.inference_mode():
                for i in range(0, n, bs):
                    decoder(z[i : i + bs], noise[i : i + bs])

        def raw_with_noise() -> None:
            with torch.inference_mode():
                for i in range(0, n, bs):
                    decoder(z[i : i + bs])  # draws its own noise with torch.randn

        bounds = getattr(decoder, "phase_space", None)

        def raw_truncated() -> None:
            # the same network truncated to the phase space, redraws with torch.randn: what simulate() computes,
            # without its keyed noise, NumPy round trip and awkward front end
            from turbosim_hep.simulation.redraw import draw_inside

            with torch.inference_mode():
                for i in range(0, n, bs):
                    zb = z[i : i + bs]

                    def draw(rows, attempt: int, zb=zb):
                        part = zb if rows is None else zb[rows]
                        return decoder(part, torch.randn(len(part), decoder.noise_dim, device=part.device))

                    draw_inside(draw, len(zb), bounds, attempts=decoder.redraw_attempts)

        r_raw = _rate(raw, n)
        r_raw_noise = _rate(raw_with_noise, n)
        r_raw_trunc = _rate(raw_truncated, n) if bounds is not None else None
        onnx = _onnx_rates(model, z.cpu().numpy(), noise.cpu().numpy(), bs, Path(tmp) / "decoder.onnx")
        r_tf = _rate(lambda: tf.simulate(partons), n)
        fileset = {"ttbar": {"files": {str(path): "Events"}}}
        runner = processor.Runner(executor=processor.IterativeExecutor(), schema=TurboSimSchema, chunksize=n)
        proc = TurboSimProcessor(model, device=args.device)
        r_proc = _rate(lambda: runner(fileset, proc, treename="Events"), n, repeat=2)

    gen = args.generation_rate
    if gen is None and args.provenance:
        prov = json.loads(Path(args.provenance).read_text())
        gen = prov.get("timing", {}).get("generated_per_s_per_worker")
    print(f"device: {tf.device}, torch threads: {torch.get_num_threads()}, events: {n:,}")
    print(f"raw decoder forward, noise given:     {r_raw:14,.0f} events/s")
    print(f"raw decoder forward + torch.randn:    {r_raw_noise:14,.0f} events/s")
    print(
        f"TurboSimTransform.simulate (awkward): {r_tf:14,.0f} events/s   {r_tf / r_raw:5.2f}x raw, "
        f"{r_tf / r_raw_noise:5.2f}x raw + randn (target >= 0.85)"
    )
    if r_raw_trunc is not None:
        print(
            f"raw truncated forward (redraws, randn): {r_raw_trunc:12,.0f} events/s   simulate is "
            f"{r_tf / r_raw_trunc:5.2f}x this (the transform's own overhead: keyed noise, NumPy, awkward)"
        )
    print(f"processor end to end (ROOT->hists):   {r_proc:14,.0f} events/s   {r_proc / r_tf:5.2f}x transform (>= 0.6)")
    if tf.redraws.events:
        t = tf.redraws
        print(
            f"truncated decoder: {t.draws / t.events:.3f} draws per event ({t.redraw_rate:.1%} redraws), "
            f"{t.at_cap / t.events:.3%} of events used all {decoder.redraw_attempts} draws (the simulate runs)"
        )
    if onnx is None:
        print("ONNX: onnxruntime (or onnxscript) is not installed: pip install 'turbosim-hep[onnx]'")
    else:
        export_s, r_ort = onnx
        print(f"ONNX export (turbosim export M x.onnx): {export_s:12.1f} s")
        print(
            f"per 100k events: torch forward {1e5 / r_raw:6.3f} s, onnxruntime {1e5 / r_ort:6.3f} s "
            f"(1 thread; {r_ort:,.0f} events/s, {r_ort / r_raw:4.2f}x torch; the ONNX graph also sorts the jets, and a "
            "truncated decoder's graph makes its 4 draws)"
        )
    if gen:
        print(f"generator (Pythia+detector) per core: {gen:14,.0f} events/s")
        print(f"speed-up of simulate over generation: {r_tf / gen:14,.0f}x (target >= 1000)")
        print(f"speed-up of the processor:            {r_proc / gen:14,.0f}x")
    else:
        print("pass --generation-rate or --provenance for the speed-up over the generator")


if __name__ == "__main__":
    main()
