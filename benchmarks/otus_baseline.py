"""OTUS baseline speed: one stage-1 training step (paper batch and slices), the sliced-W2 sort, inference events/s.

Run ``python benchmarks/otus_baseline.py`` (paper sizes: batch 20,000, 1000 directions) or ``--quick``.
Prints seconds per step, the time of the numpy and torch sorts that dominate it, and simulate events/s of
:class:`~turbosim_hep.baselines.otus.transform.OtusTransform` with per-event noise.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="batch 2000, 100 directions, 20k inference events")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from turbosim_hep.baselines.otus.checkpoint import LoadedOtus
    from turbosim_hep.baselines.otus.config import OtusConfig
    from turbosim_hep.baselines.otus.model import (
        OtusModel,
        _sorted_rows,
        random_directions,
        reconstruction_loss,
        sliced_wasserstein2,
    )

    batch, slices, n_inf = (2000, 100, 20_000) if args.quick else (20_000, 1000, 200_000)
    g = torch.Generator().manual_seed(0)
    model = OtusModel(generator=g)
    x = torch.randn(batch, 24, generator=g) * 60
    z = torch.randn(batch, 24, generator=g) * 60
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        d = random_directions(slices, 24, generator=g)
        z_tilde = model.encoder(x, torch.randn(batch, 18, generator=g))
        x_hat = model.decoder(z_tilde, torch.randn(batch, 18, generator=g))
        loss = reconstruction_loss(x, x_hat)[0] + 20 * sliced_wasserstein2(z, z_tilde, d)
        opt.zero_grad()
        loss.backward()
        opt.step()

    t_step = _best(step, args.repeat)
    proj = torch.randn(slices, batch, generator=g)
    t_np = _best(lambda: _sorted_rows(proj), args.repeat)
    t_torch = _best(lambda: torch.sort(proj, dim=1), args.repeat)
    print(f"threads {args.threads}, batch {batch}, directions {slices}")
    print(f"stage-1 step: {t_step:.3f} s  ({batch / t_step:,.0f} events/s)")
    print(f"sort of the {slices} x {batch} projections: numpy {t_np:.3f} s, torch.sort {t_torch:.3f} s")

    from turbosim_hep.baselines.otus.transform import OtusTransform

    model.eval()
    loaded = LoadedOtus(model=model, config=OtusConfig(), provenance={}, history={}, validation={}, path="-")
    tf = OtusTransform(loaded)
    zf = np.random.default_rng(0).normal(0, 60, (n_inf, 24)).astype(np.float32)
    event = np.arange(n_inf)
    tf.simulate_features(zf[:1000], event=event[:1000])
    t_sim = _best(lambda: tf.simulate_features(zf, event=event), args.repeat)
    print(f"simulate_features: {n_inf / t_sim:,.0f} events/s ({n_inf} events, noise included)")


if __name__ == "__main__":
    main()
