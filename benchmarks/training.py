"""Training throughput of the Turbo-Sim model on the CPU (and CUDA when present): events/s per training step.

One step = ``critic_steps`` critic updates + one generator update, each on its own batch; events/s counts the
events of all those batches. Synthetic paired data (z Gaussian, x a linear map of z plus noise) of the paper's shape.

    python benchmarks/training.py            # turbo preset, batch 100 (paper) and 1000, 1 and 2 threads
    python benchmarks/training.py --quick
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from turbosim_hep.model.config import TurboSimConfig
from turbosim_hep.model.normalisation import Normalisation
from turbosim_hep.model.trainer import Trainer


def measure(*, preset: str, batch_size: int, steps: int, threads: int, device: str) -> float:
    """Events/s of ``steps`` training steps after a short warm-up."""
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(50_000, 24)).astype(np.float32)
    x = (z @ rng.normal(size=(24, 24)) / 5 + 0.1 * rng.normal(size=z.shape)).astype(np.float32)
    cfg = TurboSimConfig.preset(preset, batch_size=batch_size)
    norm = Normalisation(np.zeros(24), np.full(24, 50.0))  # the toy in units of 50 GeV (the physics decoder's GeV)
    trainer = Trainer(z, x, config=cfg, device=device, z_norm=norm, x_norm=norm)
    for _ in range(5):
        trainer.step()
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    per_step = batch_size * (1 + cfg.critic_steps * (len(trainer.model.critics) > 0))
    return steps * per_step / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few steps, one batch size")
    parser.add_argument("--preset", default="turbo")
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    steps = 40 if args.quick else args.steps
    batches = (100,) if args.quick else (100, 1000)
    print(f"torch {torch.__version__}, preset {args.preset}, {steps} steps per measurement")
    for batch in batches:
        for threads in (1, 2):
            rate = measure(preset=args.preset, batch_size=batch, steps=steps, threads=threads, device="cpu")
            print(
                f"cpu  batch {batch:5d}  threads {threads}: {rate:10,.0f} events/s  ({rate / batch / 2:,.0f} steps/s)"
            )
    if torch.cuda.is_available():
        for batch in (100, 10_000):
            rate = measure(preset=args.preset, batch_size=batch, steps=steps, threads=1, device="cuda")
            print(f"cuda batch {batch:5d}: {rate:12,.0f} events/s (bf16 autocast)")
    else:
        print("no CUDA device: GPU throughput not measured")


if __name__ == "__main__":
    main()
