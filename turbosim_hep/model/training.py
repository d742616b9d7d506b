"""Training loop of Turbo-Sim: batches, critic and generator steps, validation, best model, exact resume.

Entry points: :func:`train` (files of the event layout) and :func:`train_arrays` (in-memory paired features).
Both write three files next to ``out``:

- ``out`` (e.g. ``model.pt``): the best model so far by the validation selection metric (sum of 96 KS);
- ``model.last.pt``: the state after the last finished epoch, from which ``resume=True`` continues exactly;
- ``model.metrics.jsonl``: one JSON line per epoch (mean losses, validation KS, physics KS, timing).

Each epoch has ``config.steps_per_epoch`` generator steps, each preceded by ``config.critic_steps`` critic steps on
their own random batches. On CUDA the forward passes run under bfloat16 autocast; the CPU runs float32 and, with a
fixed thread count, is bit-for-bit reproducible (``train(epochs=2)`` equals ``train(epochs=1)`` then
``train(epochs=2, resume=True)``).
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from turbosim_hep.model.checkpoint import read_checkpoint, save_checkpoint, versions
from turbosim_hep.model.config import DEFAULT_EPOCHS, TurboSimConfig
from turbosim_hep.model.data import PairedData, load_pairs
from turbosim_hep.model.normalisation import Normalisation
from turbosim_hep.model.trainer import Trainer
from turbosim_hep.model.validation import validate
from turbosim_hep.runtime.advice import option

#: Fewest training-split events before ``train`` warns that the model is a plumbing test (README, "What is checked").
MIN_TRAINING_EVENTS = 1000

__all__ = ("companion_paths", "train", "train_arrays")


def _same_data(saved: Any, now: dict) -> bool:
    """Whether a checkpoint's data provenance describes ``now``'s data. Records written before the files' digests
    and id ranges were kept lack those keys: they are compared on what they hold, so such runs still resume."""
    if not (isinstance(saved, dict) and isinstance(saved.get("files"), list) and isinstance(now.get("files"), list)):
        return saved == now
    if len(saved["files"]) != len(now["files"]):
        return False
    files = [
        {k: v for k, v in new.items() if k in old or k not in ("sha256", "id_ranges")}
        for old, new in zip(saved["files"], now["files"], strict=True)
    ]
    return saved == {**now, "files": files}


def _same_run(best: Path, config: TurboSimConfig | None, provenance: dict) -> bool:
    """Whether the model file ``best`` was written by a run with this config and data."""
    try:
        content = read_checkpoint(best)
    except (ValueError, FileNotFoundError):
        return False
    saved = TurboSimConfig.from_dict(content["config"])
    return _same_data(content["provenance"].get("data"), provenance) and (config is None or config == saved)


def _check_epochs(epochs: int) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")


def companion_paths(out: str | os.PathLike) -> dict[str, Path]:
    """The files a run writes: ``best`` (= ``out``), ``last`` and ``metrics``."""
    out = Path(out)
    return {
        "best": out,
        "last": out.with_name(f"{out.stem}.last{out.suffix or '.pt'}"),
        "metrics": out.with_name(f"{out.stem}.metrics.jsonl"),
    }


def _format_losses(sums: dict[str, float], n: int) -> str:
    keys = ["total", *sorted(k for k in sums if k.startswith("critic_"))]
    return " ".join(f"{k.removeprefix('critic_')}={sums[k] / n:.3g}" for k in keys if k in sums)


def train_arrays(
    z: np.ndarray,
    x: np.ndarray,
    run: np.ndarray,
    event: np.ndarray,
    *,
    config: TurboSimConfig | None = None,
    epochs: int = DEFAULT_EPOCHS,
    out: str | os.PathLike = "model.pt",
    resume: bool = False,
    overwrite: bool = False,
    device: str | torch.device | None = None,
    physics: bool = True,
    provenance: dict[str, Any] | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Train on paired features ``z``, ``x`` ``(n, 24)`` [GeV] with ids ``run`` (``(n,)`` or one), ``event`` ``(n,)``.

    The split (train / validation / test by ``config.split_fractions``) comes from the event ids; the test events
    are never used. Normalisation is fitted on the training split. ``epochs`` is the total epoch count, so a resumed
    run stops at the same epoch as an uninterrupted one. ``physics=False`` skips the reconstructed-mass columns.
    ``provenance`` describes the data (``train`` fills it from the files). ``log`` receives one line per epoch.
    Returns the path of the best model (``out``).
    """
    _check_epochs(epochs)
    data = PairedData.from_arrays(z, x, run, event)
    if provenance is None:
        provenance = data.provenance
    paths = companion_paths(out)
    paths["best"].parent.mkdir(parents=True, exist_ok=True)
    checkpoint = None
    if resume and not paths["last"].exists():
        if paths["best"].exists() and not _same_run(paths["best"], config, provenance):
            raise FileExistsError(
                f"{str(paths['best'])!r} exists but {str(paths['last'])!r} does not, and it was not made by this run "
                "(other config or data); "
                + option(
                    python="choose another out or pass overwrite=True without resume",
                    cli="choose another --out or rerun with --overwrite instead of --resume",
                )
            )
        # nothing finished yet (or killed between the first best model and the first checkpoint): start afresh
        if log is not None:
            log(f"no checkpoint {str(paths['last'])!r} yet: starting the run from epoch 1")
        resume, overwrite = False, True
    if resume:
        checkpoint = read_checkpoint(paths["last"])
        saved = TurboSimConfig.from_dict(checkpoint["config"])
        if config is not None and config != saved:
            diff = {k: (v, getattr(config, k)) for k, v in saved.to_dict().items() if config.to_dict()[k] != v}
            raise ValueError(f"{str(paths['last'])!r} was trained with another config (saved, given): {diff!r}")
        config = saved
        if not _same_data(checkpoint["provenance"].get("data"), provenance):
            raise ValueError(
                f"{str(paths['last'])!r} was trained on other data than given now; resume with the same inputs, or "
                f"start afresh with {option(python='overwrite=True', cli='--overwrite')}"
            )
    else:
        for p in (paths["best"], paths["last"]):
            if p.exists() and not overwrite:
                raise FileExistsError(
                    f"{str(p)!r} exists; "
                    + option(
                        python="pass resume=True to continue it or overwrite=True to start afresh",
                        cli="rerun with --resume to continue it or --overwrite to start afresh",
                    )
                )
    config = config or TurboSimConfig()
    train_set = data.split("train", fractions=config.split_fractions)
    val_set = data.split("validation", fractions=config.split_fractions)
    if len(train_set) < 2 or len(val_set) < 1:
        raise ValueError(
            f"too few events to train: {len(train_set)} train and {len(val_set)} validation of {len(data)}"
        )
    if len(train_set) < MIN_TRAINING_EVENTS:
        warnings.warn(
            f"only {len(train_set)} training events ({len(val_set)} validation, of {len(data)} read); below "
            f"{MIN_TRAINING_EVENTS:,} a model learns little and its validation metrics are noise: fine for testing the "
            "plumbing, not for a simulator",
            stacklevel=2,
        )
    pick = np.random.default_rng(config.seed).permutation(len(val_set))[: config.val_events]
    val_z, val_x = val_set.z[np.sort(pick)], val_set.x[np.sort(pick)]
    if checkpoint is not None:
        norm = {k: v.double().numpy() for k, v in checkpoint["normalisation"].items()}
        z_norm, x_norm = Normalisation(norm["z_mean"], norm["z_std"]), Normalisation(norm["x_mean"], norm["x_std"])
    else:
        z_norm, x_norm = Normalisation.fit(train_set.z), Normalisation.fit(train_set.x)
    trainer = Trainer(
        z_norm.normalise(train_set.z),
        x_norm.normalise(train_set.x),
        config=config,
        device=device,
        z_norm=z_norm,
        x_norm=x_norm,
    )
    full_provenance = {
        "data": provenance,
        "split_fractions": list(config.split_fractions),
        "split_events": {"train": len(train_set), "validation": len(val_set), "validation_used": len(val_z)},
        "versions": versions(),
    }
    state: dict[str, Any] = {"epoch": 0, "best_metric": float("inf"), "best_epoch": 0, "bad_epochs": 0}
    if checkpoint is not None:
        trainer.load_state(checkpoint["model"], checkpoint["state"])
        state = {k: checkpoint["state"][k] for k in state}
        _truncate_metrics(paths["metrics"], state["epoch"])
    elif paths["metrics"].exists():
        paths["metrics"].unlink()
    return _loop(trainer, state, val_z, val_x, z_norm, x_norm, full_provenance, paths, epochs, physics, progress, log)


def _loop(trainer, state, val_z, val_x, z_norm, x_norm, provenance, paths, epochs, physics, progress, log) -> Path:
    from turbosim_hep.runtime.progress import progress_bar

    config = trainer.config
    batch_events = config.batch_size * (1 + config.critic_steps * bool(trainer.critic_opt))
    while state["epoch"] < epochs and state["bad_epochs"] < config.patience:
        epoch = state["epoch"] + 1
        trainer.set_epoch(epoch, epochs)
        t0 = time.perf_counter()
        sums: dict[str, torch.Tensor] = {}
        description = f"epoch {epoch}/{epochs}"
        disable = None if progress is None else not progress
        with progress_bar(config.steps_per_epoch * config.batch_size, description, disable=disable) as bar:
            for step in range(1, config.steps_per_epoch + 1):
                for k, v in trainer.step().items():
                    sums[k] = sums[k] + v.float() if k in sums else v.float()
                bar.advance(config.batch_size)
                if step % 50 == 0:
                    means = {k: float(v) for k, v in sums.items()}
                    bar.update(description=f"{description} {_format_losses(means, step)}")
        train_means = {k: float(v) / config.steps_per_epoch for k, v in sums.items()}
        seconds = time.perf_counter() - t0
        val_rng = torch.Generator(device=trainer.device).manual_seed(config.seed + 3)
        with trainer.averaged():
            metrics = validate(
                trainer.model, val_z, val_x, z_norm=z_norm, x_norm=x_norm, generator=val_rng, physics=physics
            )
        improved = metrics["selection"] < state["best_metric"]
        state = {
            "epoch": epoch,
            "best_metric": metrics["selection"] if improved else state["best_metric"],
            "best_epoch": epoch if improved else state["best_epoch"],
            "bad_epochs": 0 if improved else state["bad_epochs"] + 1,
        }
        record = {
            "epoch": epoch,
            "train": train_means,
            "validation": metrics,
            "best": improved,
            "train_seconds": round(seconds, 3),
            "events_per_s": round(config.steps_per_epoch * batch_events / seconds, 1),
        }
        with open(paths["metrics"], "a") as f:
            f.write(json.dumps(record) + "\n")
        saved = {"model": trainer.model, "z_norm": z_norm, "x_norm": x_norm, "provenance": provenance}
        full_state = {**state, **trainer.state()}
        if improved:
            with trainer.averaged():  # the best model is the averaged one, as validated
                save_checkpoint(paths["best"], **saved, state=full_state)
        save_checkpoint(paths["last"], **saved, state=full_state)
        if log is not None:
            phys = metrics["physics"]
            phys_text = " ".join(f"{k}={v:.4f}" for k, v in phys.items()) if phys else ""
            crit = metrics["criterion"]
            log(
                f"epoch {epoch}: loss {train_means['total']:.4g}, val {config.selection} {metrics['selection']:.4f} "
                f"(Table-1 mean {crit['table1_mean']:.4f}, response {crit['response_mean']:.4f}, "
                + (f"unfolded masses {crit['unfolding_mean']:.4f}, " if "unfolding_mean" in crit else "")
                + (
                    f"outside {crit['outside_model']:.4f}, pair AUC {crit['pair_auc']:.3f} "
                    + (f"unfolding pair AUC {crit['unfolding_pair_auc']:.3f} " if "unfolding_pair_auc" in crit else "")
                    + f"[{metrics['seconds']['scorecard']:.1f} s], "
                    if "pair_auc" in crit
                    else ""
                )
                + (f"log q(z|x) {metrics['encoder_log_q']:.2f}, " if "encoder_log_q" in metrics else "")
                + "KS96 "
                f"{metrics['ks_sum']:.3f}) {phys_text}{' *best*' if improved else ''} "
                f"[{record['events_per_s']:.0f} events/s, {seconds:.0f} s]"
            )
    if state["bad_epochs"] >= config.patience and log is not None:
        log(f"early stop: no improvement for {config.patience} epochs (best epoch {state['best_epoch']})")
    return paths["best"]


def _truncate_metrics(path: Path, last_epoch: int) -> None:
    """Drop metrics lines of epochs after ``last_epoch`` (written by a run that stopped before its checkpoint)."""
    if not path.exists():
        return
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    keep = [ln for ln in lines if json.loads(ln)["epoch"] <= last_epoch]
    path.write_text("".join(ln + "\n" for ln in keep))


def train(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    config: TurboSimConfig | None = None,
    epochs: int = DEFAULT_EPOCHS,
    out: str | os.PathLike = "model.pt",
    resume: bool = False,
    overwrite: bool = False,
    device: str | torch.device | None = None,
    physics: bool = True,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Train Turbo-Sim on files of the event layout (ROOT files, directories of chunks, or a fileset JSON).

    Reads Parton, Electron, Jet and MET, builds the paired ``(n, 24)`` features and calls :func:`train_arrays`
    (see there for the split, outputs and resume). Returns the path of the best model.

    Example
    -------
    >>> import turbosim_hep as ts
    >>> ts.train(["data/"], config=ts.TurboSimConfig.preset("turbo"), epochs=20, out="model.pt")  # doctest: +SKIP
    """
    from turbosim_hep.io.atomic import check_outputs
    from turbosim_hep.io.datasets import resolve_paths

    _check_epochs(epochs)
    given = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    check_outputs(companion_paths(out).values(), [*given, *resolve_paths(given)], verb="train --out")
    data = load_pairs(paths, progress=progress)
    return train_arrays(
        data.z,
        data.x,
        data.run,
        data.event,
        config=config,
        epochs=epochs,
        out=out,
        resume=resume,
        overwrite=overwrite,
        device=device,
        physics=physics,
        provenance=data.provenance,
        progress=progress,
        log=log,
    )
