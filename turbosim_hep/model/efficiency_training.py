"""Training the selection-efficiency model ε(z) on an unselected sample: its data, the BCE loop, early stopping.

The data are the partons of every generated event and whether the event passes the selection, decided by the
selection's own function (:func:`turbosim_hep.generation.selection.otus_selection`) on the full simulation's
``Electron``, ``Jet``, ``isoMuonCount`` and ``isoPhotonCount``, so only a sample made with
``turbosim generate --no-select`` serves. Events are split by their ids
(:func:`turbosim_hep.events.split.split_mask`) as everywhere in the package: the loop trains on *train*, stops on
*validation*, and the test split is left for the figures.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from turbosim_hep.evaluation.selection_sample import EfficiencySample, efficiency_sample
from turbosim_hep.simulation.efficiency import EfficiencyModel, efficiency_features

__all__ = ("EfficiencySample", "efficiency_sample", "fit_efficiency", "fit_recalibration")


def _bce(model: EfficiencyModel, z: torch.Tensor, y: torch.Tensor, batch: int = 65_536) -> float:
    with torch.no_grad():
        total = sum(
            float(torch.nn.functional.binary_cross_entropy_with_logits(model(z[s : s + batch]), y[s : s + batch],
                                                                       reduction="sum"))
            for s in range(0, len(z), batch)
        )  # fmt: skip
    return total / max(len(z), 1)


def fit_efficiency(
    z: np.ndarray,
    passed: np.ndarray,
    train: np.ndarray,
    validation: np.ndarray,
    *,
    seed: int = 0,
    hidden: tuple[int, ...] = (16, 16),
    epochs: int = 60,
    batch_size: int = 1024,
    learning_rate: float = 2e-3,
    weight_decay: float = 1e-2,
    patience: int = 6,
    calibration_knots: int = 12,
    progress: Callable[[int, float, float], None] | None = None,
) -> tuple[EfficiencyModel, list[dict[str, float]]]:
    """Train ε(z) by binary cross-entropy (AdamW, seeded ``torch.Generator``), keeping the epoch of lowest validation
    loss and stopping after ``patience`` epochs without improvement, then recalibrate it on the validation split
    (a monotone piecewise-linear map of the logit with ``calibration_knots`` knots, :func:`fit_recalibration`).

    Arguments
    ---------
    z : (n, 24)
        Parton features [GeV].
    passed : (n,) bool
        Selection outcome.
    train, validation : (n,) bool
        Masks of the training and validation events.
    progress
        Called after each epoch as ``progress(epoch, train_bce, validation_bce)``.

    Returns
    -------
    The model (best epoch, eval mode) and the history: one ``{"epoch", "train_bce", "validation_bce"}`` per epoch.
    """
    if not (train.any() and validation.any()):
        raise ValueError("the efficiency needs events in both the training and the validation split")
    gen = torch.Generator().manual_seed(int(seed))
    torch.manual_seed(int(seed))  # the layers' initial weights
    zt = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))
    y = torch.from_numpy(np.asarray(passed, dtype=np.float32))
    z_train, y_train, z_val, y_val = zt[train], y[train], zt[validation], y[validation]
    feats = efficiency_features(z_train.double())
    model = EfficiencyModel(
        hidden=hidden, feature_mean=feats.mean(0).numpy(), feature_std=feats.std(0).clamp_min(1e-6).numpy()
    )
    with torch.no_grad():  # start at the training split's pass fraction
        p = float(y_train.mean())
        model.net[-1].bias.fill_(math.log(p / (1.0 - p)))
    opt = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    best, best_state, since, history = math.inf, None, 0, []
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(z_train), generator=gen)
        total = 0.0
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(z_train[idx]), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        sched.step()
        model.eval()
        val = _bce(model, z_val, y_val)
        history.append({"epoch": epoch, "train_bce": total / len(order), "validation_bce": val})
        if progress is not None:
            progress(epoch, total / len(order), val)
        if val < best - 1e-6:
            best, since = val, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            since += 1
            if since >= patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        knots, values = fit_recalibration(model.raw_logit(z_val), y_val, knots=calibration_knots)
    model.set_recalibration(knots, values)
    return model, history


def fit_recalibration(logit: torch.Tensor, y: torch.Tensor, *, knots: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """A monotone piecewise-linear map g of the network's logit minimising the BCE of g(logit) on ``(logit, y)``.

    The knots sit at equal-count quantiles of ``logit`` (``knots`` of them, fewer where quantiles coincide); g is
    parametrised by its value at the first knot and positive slopes (softplus) on each segment, starts as the
    identity and is fitted by L-BFGS. A generalisation of Platt scaling (one segment) that also bends: an
    early-stopped network on this problem overestimates ε at both ends of its range and underestimates it in the
    middle, which no single linear map of the logit corrects.

    Returns
    -------
    knots, values : (k,) float32
        The table of :func:`turbosim_hep.simulation.efficiency.recalibrate`.
    """
    from turbosim_hep.simulation.efficiency import recalibrate

    logit, y = logit.detach().double(), y.double()
    x = torch.unique(torch.quantile(logit, torch.linspace(0.0, 1.0, knots, dtype=torch.float64)))
    if len(x) < 2:
        x = torch.stack([logit.min() - 1.0, logit.max() + 1.0]) if len(logit) else torch.tensor([-1.0, 1.0])
    width = x[1:] - x[:-1]
    start = x[:1].clone().requires_grad_(True)
    raw = torch.full((len(width),), math.log(math.e - 1.0), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([start, raw], max_iter=200, line_search_fn="strong_wolfe")

    def table() -> torch.Tensor:
        return torch.cat([start, start + torch.cumsum(torch.nn.functional.softplus(raw) * width, 0)])

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(recalibrate(logit, x, table()), y)
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return x.float(), table().float()


def train_efficiency(
    data: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    model: str | os.PathLike,
    out: str | os.PathLike,
    seed: int = 0,
    hidden: tuple[int, ...] = (16, 16),
    epochs: int = 60,
    log: Callable[[str], None] | None = None,
) -> tuple[Path, EfficiencyModel]:
    """Train ε(z) on an unselected sample ``data`` and write ``out`` = the model file ``model`` (a path or a shipped
    model's name) plus the efficiency (:func:`~turbosim_hep.simulation.efficiency_file.attach_efficiency`).

    The efficiency's ``provenance`` records the data (the ``turbosim generate`` command and content digest of
    :func:`~turbosim_hep.evaluation.model_card.training_data`, or the files' byte digest), events, pass fraction,
    split sizes, seed, the training history's end and the test-split figures
    (:func:`~turbosim_hep.evaluation.efficiency.efficiency_report`). ``out`` is checked before training: it must
    not be the input model. ``log`` gets one line per step.
    """
    import time

    from turbosim_hep.evaluation.efficiency import efficiency_report
    from turbosim_hep.evaluation.model_card import data_digest, training_data
    from turbosim_hep.events.split import DEFAULT_FRACTIONS
    from turbosim_hep.model.checkpoint import versions
    from turbosim_hep.simulation.efficiency_file import attach_efficiency
    from turbosim_hep.simulation.registry import open_model

    say = log or (lambda _line: None)
    model_file = open_model(model)
    if Path(out).resolve() == model_file.path.resolve():
        raise ValueError(
            f"refusing to write {str(out)!r}: it is the input model; give the model with the efficiency a new name"
        )
    start = time.perf_counter()
    sample = efficiency_sample(data)
    masks = {name: sample.split(name) for name in ("train", "validation", "test")}
    say(
        f"{len(sample)} events in {len(sample.files)} file(s), {sample.passed.mean():.2%} pass the selection; "
        + ", ".join(f"{k} {int(m.sum())}" for k, m in masks.items())
    )
    eff, history = fit_efficiency(
        sample.z, sample.passed, masks["train"], masks["validation"], seed=seed, hidden=hidden, epochs=epochs,
        progress=lambda e, t, v: say(f"epoch {e + 1}/{epochs}: train BCE {t:.4f}, validation BCE {v:.4f}"),
    )  # fmt: skip
    test = masks["test"]
    report = efficiency_report(eff.efficiency(sample.z[test]), sample.passed[test], sample.z[test])
    try:
        data_record = training_data(list(sample.files))
    except FileNotFoundError:  # not a generate directory: name the files by their bytes
        data_record = {"files": [p.name for p in sample.files], "files_sha256": data_digest(list(sample.files))}
    best = min(history, key=lambda h: h["validation_bce"])
    eff.provenance = {
        "data": data_record,
        "events": len(sample),
        "pass_fraction": float(sample.passed.mean()),
        "split_fractions": list(DEFAULT_FRACTIONS),
        "split_events": {k: int(m.sum()) for k, m in masks.items()},
        "seed": int(seed),
        "hidden": list(eff.hidden),
        "epochs_run": len(history),
        "best_epoch": int(best["epoch"]),
        "validation_bce": float(best["validation_bce"]),
        "test": report,
        "selection": "otus_selection",
        "training_seconds": round(time.perf_counter() - start, 1),
        "versions": versions(),
    }
    path = attach_efficiency(model_file, out, eff)
    say(
        f"test split: full sim {report['full_sim']:.4f} ± {report['full_sim_error']:.4f}, mean eps "
        f"{report['model']:.4f}; "
        + ", ".join(f"{k} chi2/ndf {r['chi2']:.1f}/{r['ndf']}" for k, r in report["bins"].items())
    )
    return path, eff
