"""Training of the OTUS baseline (arXiv:2101.08944) on the same train split as Turbo-Sim.

Stage 1 trains encoder and decoder together on

    beta * MSE(x, D(E(x)))  [events whose reconstruction passes the acceptance]  +  lambda * SWD2(z, E(x))

with fresh random directions every step; z and x batches are drawn independently (OTUS never uses the pairing).
Stage 2 fine-tunes the decoder alone on SWD2(x, D(z)) with a lower learning rate. The split comes from the event ids
(:func:`turbosim_hep.events.split.split_mask` via :class:`~turbosim_hep.model.data.PairedData`), so OTUS and Turbo-Sim
see the same training events and are tested on the same test events.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from turbosim_hep.baselines.otus.config import OtusConfig
from turbosim_hep.baselines.otus.model import (
    N_MOMENTA,
    OtusModel,
    random_directions,
    reconstruction_loss,
    sliced_wasserstein2,
)
from turbosim_hep.runtime.advice import option

__all__ = ("train_otus", "train_otus_arrays")

_P3 = [4 * i + c for i in range(6) for c in range(3)]


class _Run:
    """Model, generators and training tensors of one OTUS run."""

    def __init__(self, z: np.ndarray, x: np.ndarray, config: OtusConfig, device: torch.device) -> None:
        from turbosim_hep.model.normalisation import Normalisation

        self.config, self.device = config, device
        self.model = OtusModel(hidden=config.hidden, generator=torch.Generator().manual_seed(config.seed))
        z_norm, x_norm = Normalisation.fit(z), Normalisation.fit(x)
        self.model.encoder.set_normalisation(x_norm.mean, x_norm.std, z_norm.std[_P3])
        self.model.decoder.set_normalisation(z_norm.mean, z_norm.std, x_norm.std[_P3])
        self.model.to(device)
        self.z = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32)).to(device)
        self.x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
        self.batch = min(config.batch_size, len(self.z))
        self.batch_rng = torch.Generator().manual_seed(config.seed + 1)
        self.noise_rng = torch.Generator().manual_seed(config.seed + 2)
        self.slice_rng = torch.Generator().manual_seed(config.seed + 3)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, N_MOMENTA, generator=self.noise_rng).to(self.device)

    def _directions(self, dim: int) -> torch.Tensor:
        return random_directions(self.config.n_slices, dim, generator=self.slice_rng, device=self.device)

    def batches(self):
        """Independent permutations of z and x, cut into ``n // batch`` equal batches (the remainder is dropped)."""
        n = len(self.z)
        perm_z = torch.randperm(n, generator=self.batch_rng).to(self.device)
        perm_x = torch.randperm(n, generator=self.batch_rng).to(self.device)
        for s in range(0, n - self.batch + 1, self.batch):
            yield self.z[perm_z[s : s + self.batch]], self.x[perm_x[s : s + self.batch]]

    def stage1_loss(self, z: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        enc, dec = self.model.encoder, self.model.decoder
        z_tilde = enc(x, self._noise(len(x)))
        x_hat = dec(z_tilde, self._noise(len(x)))
        mse, mask = reconstruction_loss(x, x_hat)
        swd = sliced_wasserstein2(z, z_tilde, self._directions(z.shape[1]))
        loss = self.config.beta * mse + self.config.lam * swd
        return loss, {"mse": float(mse.detach()), "swd_z": float(swd.detach()), "accepted": float(mask.float().mean())}

    def stage2_loss(self, z: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        x_tilde = self.model.decoder(z, self._noise(len(z)))
        swd = sliced_wasserstein2(x, x_tilde, self._directions(x.shape[1]))
        return swd, {"swd_x": float(swd.detach())}

    def run_stage(self, name: str, epochs: int, params, lr: float, loss_fn, progress, log) -> list[dict[str, Any]]:
        from turbosim_hep.runtime.progress import progress_bar

        optimiser = torch.optim.Adam(params, lr=lr)
        history: list[dict[str, Any]] = []
        with progress_bar(
            epochs, f"OTUS {name}", unit="epochs", disable=None if progress is None else not progress
        ) as bar:
            for epoch in range(1, epochs + 1):
                t0 = time.perf_counter()
                sums: dict[str, float] = {}
                steps = 0
                for z, x in self.batches():
                    loss, parts = loss_fn(z, x)
                    optimiser.zero_grad(set_to_none=True)
                    loss.backward()
                    optimiser.step()
                    steps += 1
                    for k, v in {"loss": float(loss.detach()), **parts}.items():
                        sums[k] = sums.get(k, 0.0) + v
                record = {"epoch": epoch, **{k: v / steps for k, v in sums.items()}}
                record["seconds"] = round(time.perf_counter() - t0, 4)
                history.append(record)
                bar.advance()
                bar.update(description=f"OTUS {name} loss {record['loss']:.4g}")
                if log is not None and (epoch == epochs or epoch % max(1, epochs // 10) == 0):
                    log(f"{name} epoch {epoch}/{epochs}: " + " ".join(f"{k} {v:.4g}" for k, v in record.items()
                                                                     if k not in ("epoch", "seconds")))  # fmt: skip
        return history

    @torch.no_grad()
    def evaluate(self, z: np.ndarray, x: np.ndarray) -> dict[str, float]:
        """Stage losses on held-out ``z``, ``x`` [GeV] in eval mode, with fixed noise and directions."""
        self.model.eval()
        saved = (self.noise_rng.get_state(), self.slice_rng.get_state())
        self.noise_rng.manual_seed(self.config.seed + 4)
        self.slice_rng.manual_seed(self.config.seed + 5)
        zt = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32)).to(self.device)
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)
        _, one = self.stage1_loss(zt, xt)
        _, two = self.stage2_loss(zt, xt)
        self.noise_rng.set_state(saved[0])
        self.slice_rng.set_state(saved[1])
        self.model.train()
        return {**one, **two}


def train_otus_arrays(
    z: np.ndarray,
    x: np.ndarray,
    run: np.ndarray,
    event: np.ndarray,
    *,
    config: OtusConfig | None = None,
    out: str | os.PathLike = "otus.pt",
    overwrite: bool = False,
    device: str | torch.device | None = None,
    provenance: dict[str, Any] | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Train OTUS on paired features ``z``, ``x`` ``(n, 24)`` [GeV] with ids ``run`` (``(n,)`` or one), ``event``.

    Only the ``train`` split (by the event ids and ``config.split_fractions``) is used for fitting; the validation
    split gives the final held-out losses stored in the checkpoint; the test split is never touched. Writes one
    checkpoint ``out`` atomically (refuses an existing file unless ``overwrite``). Returns its path.
    """
    from turbosim_hep.baselines.otus.checkpoint import save_otus
    from turbosim_hep.model.checkpoint import versions
    from turbosim_hep.model.data import PairedData
    from turbosim_hep.runtime.device import resolve_device

    config = config or OtusConfig()
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(
            f"{str(out)!r} exists; {option(python='pass overwrite=True', cli='rerun with --overwrite')} or choose "
            f"another {option(python='out', cli='--out')}"
        )
    data = PairedData.from_arrays(z, x, run, event)
    if provenance is None:
        provenance = data.provenance
    train_set = data.split("train", fractions=config.split_fractions)
    val_set = data.split("validation", fractions=config.split_fractions)
    if len(train_set) < 2:
        raise ValueError(f"too few events to train OTUS: {len(train_set)} in the train split of {len(data)}")
    t0 = time.perf_counter()
    job = _Run(train_set.z, train_set.x, config, resolve_device(device))
    enc, dec = job.model.encoder, job.model.decoder
    history = {
        "stage1": job.run_stage(
            "stage 1", config.epochs, [*enc.parameters(), *dec.parameters()], config.lr, job.stage1_loss, progress, log
        )
    }
    enc.requires_grad_(False)
    history["stage2"] = job.run_stage(
        "stage 2", config.stage2_epochs, list(dec.parameters()), config.stage2_lr, job.stage2_loss, progress, log
    )
    enc.requires_grad_(True)
    seconds = time.perf_counter() - t0
    validation = job.evaluate(val_set.z, val_set.x) if len(val_set) >= 2 else {}
    if log is not None and validation:
        log("validation: " + " ".join(f"{k} {v:.4g}" for k, v in validation.items()))
    full_provenance = {
        "data": provenance,
        "split_fractions": list(config.split_fractions),
        "split_events": {"train": len(train_set), "validation": len(val_set)},
        "batch_size_used": job.batch,
        "device": job.device.type,
        "train_seconds": round(seconds, 3),
        "versions": versions(),
    }
    job.model.eval()
    return save_otus(
        out, model=job.model, config=config, provenance=full_provenance, history=history, validation=validation
    )


def train_otus(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    config: OtusConfig | None = None,
    out: str | os.PathLike = "otus.pt",
    overwrite: bool = False,
    device: str | torch.device | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Train OTUS on files of the event layout (ROOT files, directories of chunks or a fileset JSON).

    Reads the paired features with :func:`turbosim_hep.model.data.load_pairs` and calls :func:`train_otus_arrays`.

    Example
    -------
    >>> from turbosim_hep.baselines.otus import OtusConfig, train_otus
    >>> train_otus(["data/"], config=OtusConfig(epochs=300), out="otus.pt")  # doctest: +SKIP
    """
    from turbosim_hep.io.atomic import check_outputs
    from turbosim_hep.io.datasets import resolve_paths
    from turbosim_hep.model.data import load_pairs

    out = Path(out)
    given = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    check_outputs([out], [*given, *resolve_paths(given)], verb="baseline-otus --out")
    if out.exists() and not overwrite:
        raise FileExistsError(
            f"{str(out)!r} exists; {option(python='pass overwrite=True', cli='rerun with --overwrite')} or choose "
            f"another {option(python='out', cli='--out')}"
        )
    data = load_pairs(paths, progress=progress)
    return train_otus_arrays(
        data.z, data.x, data.run, data.event, config=config, out=out, overwrite=overwrite, device=device,
        provenance=data.provenance, progress=progress, log=log,
    )  # fmt: skip
