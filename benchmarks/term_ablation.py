"""The paper's central claim, tested: which of Turbo-Sim's eight loss terms earn their place, at equal budget.

    python benchmarks/term_ablation.py /work/shared/data/ttbar-ref --out ablation/ --steps 1000
    python benchmarks/quality.py ablation/*.pt --data /work/shared/data/ttbar-ref --out ablation/quality

Trains, through the public ``train`` path, the base configuration (``--preset``, default ``turbo-physics`` without
its optional terms: ℒ(x, x̃) and ℒ(z, z̃) only) and one run per term switched from its base state (on if off, off if
on), every run with the same generator steps (``--steps``), seed, data and starting decoder (``--decoder-from``,
trained further in every run, so the terms acting on the decoder have something to change). The adversarial terms
add a critic and its steps (``critic_steps`` 1): they cost more time at the same number of generator steps; each
run's wall time is printed. The scorecard of the models (``benchmarks/quality.py``) is the ablation table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

#: Weight each term gets when this ablation switches it on (the likelihood and energy terms 1; the critics 1).
ON_WEIGHTS: dict[str, float] = {
    "l_z_ztilde": 1.0, "d_ztilde": 1.0, "l_x_xhat": 1.0, "d_xhat": 1.0,
    "l_x_xtilde": 1.0, "d_xtilde": 1.0, "l_z_zhat": 1.0, "d_zhat": 1.0,
}  # fmt: skip


def variants(base_terms: dict[str, float]) -> dict[str, dict[str, float]]:
    """Run name -> loss weights: ``base`` and one run per term flipped."""
    out = {"base": dict(base_terms)}
    for term, weight in ON_WEIGHTS.items():
        flipped = dict(base_terms)
        flipped[term] = 0.0 if base_terms.get(term, 0.0) > 0 else weight
        if not any(v > 0 for v in flipped.values()):
            continue
        out[("no-" if base_terms.get(term, 0.0) > 0 else "plus-") + term] = flipped
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="+", help="sample directories or ROOT files (the reference sample)")
    p.add_argument("--out", required=True, help="folder for the models and the run log")
    p.add_argument("--preset", default="turbo-physics")
    p.add_argument("--decoder-from", default="ttbar-physics", help="starting decoder of every run ('' for none)")
    p.add_argument("--steps", type=int, default=1000, help="generator steps of every run")
    p.add_argument("--steps-per-epoch", type=int, default=500)
    p.add_argument("--only", nargs="*", help="run only these variants (names as printed)")
    args = p.parse_args()

    import torch

    import turbosim_hep as ts
    from turbosim_hep.model.config import TERMS, TurboSimConfig

    torch.set_num_threads(1)
    base_cfg = TurboSimConfig.preset(args.preset)
    base = {t: (getattr(base_cfg, t) if t in ("l_x_xtilde", "l_z_ztilde") else 0.0) for t in TERMS}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    epochs = max(1, args.steps // args.steps_per_epoch)
    log = out / "runs.jsonl"
    for name, weights in variants(base).items():
        if args.only and name not in args.only:
            continue
        critics = any(weights[t] > 0 for t in TERMS if t.startswith("d_"))
        cfg = base_cfg.replace(
            **weights, steps_per_epoch=args.steps_per_epoch, critic_steps=1 if critics else 0,
            decoder_from=args.decoder_from, freeze_decoder=False,
        )  # fmt: skip
        t0 = time.perf_counter()
        ts.train(args.data, config=cfg, epochs=epochs, out=out / f"{name}.pt", overwrite=True, progress=False)
        seconds = time.perf_counter() - t0
        print(f"{name}: {epochs} x {args.steps_per_epoch} steps in {seconds / 60:.1f} min", flush=True)
        with log.open("a") as f:
            f.write(json.dumps({"run": name, "weights": weights, "seconds": seconds}) + "\n")


if __name__ == "__main__":
    main()
