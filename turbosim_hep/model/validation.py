"""Per-epoch validation: the paper's model-selection metric and the Table-1 physics columns.

Selection metric (arXiv:2112.10629): the sum of 96 KS statistics, 24 features x {z̃, ẑ, x̃, x̂}, each generated
sample [GeV] against the true sample of the same validation events (z̃, ẑ against z; x̃, x̂ against x). Physics
columns: KS of m_tt, m_W(had), m_t(lep), m_t(had) reconstructed from x̃ against the same from x.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from turbosim_hep.model.normalisation import Normalisation
from turbosim_hep.model.turbosim import TurboSim

__all__ = ("GROUPS", "PHYSICS_KEYS", "physics_ks", "validate")

#: The four generated samples of the selection metric, each with the true sample it is compared with.
GROUPS: dict[str, str] = {"z_tilde": "z", "z_hat": "z", "x_tilde": "x", "x_hat": "x"}
#: The physics columns of Table 1, as keys of ``reconstruct_features``.
PHYSICS_KEYS: tuple[str, ...] = ("m_tt", "m_w_had", "m_t_lep", "m_t_had")


def physics_ks(generated: np.ndarray, truth: np.ndarray, *, level: str = "reco") -> dict[str, float] | None:
    """KS of the reconstructed masses of ``generated`` against ``truth`` ``(n, 24)`` [GeV]; ``None`` if unavailable.

    Uses :func:`turbosim_hep.physics.reconstruction.reconstruct_features`; events with a non-finite mass are left
    out of that mass's comparison.
    """
    from turbosim_hep.evaluation.metrics import ks_statistic

    try:
        from turbosim_hep.physics.reconstruction import reconstruct_features
    except ImportError as err:
        warnings.warn(f"physics columns skipped: {err}", stacklevel=2)
        return None
    gen = reconstruct_features(generated, level=level)
    tru = reconstruct_features(truth, level=level)
    out = {}
    for key in PHYSICS_KEYS:
        a, b = np.asarray(gen[key], dtype=np.float64), np.asarray(tru[key], dtype=np.float64)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        out[key] = ks_statistic(a, b) if len(a) and len(b) else float("nan")
    return out


def validate(
    model: TurboSim,
    z: np.ndarray,
    x: np.ndarray,
    *,
    z_norm: Normalisation,
    x_norm: Normalisation,
    generator: torch.Generator,
    physics: bool = True,
    batch_size: int = 65_536,
) -> dict[str, Any]:
    """Validation metrics of ``model`` on true pairs ``z``, ``x`` ``(n, 24)`` [GeV].

    Returns a JSON-ready dict: ``ks_sum`` (the selection metric, lower is better), ``ks_group`` (sum per generated
    sample), ``ks`` (the 24 values per generated sample), ``physics`` (KS per mass, or ``None``) and the mean
    supervised distances ``mse`` per generated sample (normalised units).
    """
    from turbosim_hep.evaluation.metrics import ks_statistics

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    parts: dict[str, list[np.ndarray]] = {k: [] for k in GROUPS}
    with torch.no_grad():
        for start in range(0, len(z), batch_size):
            zb = torch.from_numpy(z_norm.normalise(z[start : start + batch_size])).to(device)
            xb = torch.from_numpy(x_norm.normalise(x[start : start + batch_size])).to(device)
            samples = model.samples(zb, xb, tuple(GROUPS), generator=generator)
            for k in GROUPS:
                parts[k].append(samples[k].float().cpu().numpy())
    model.train(was_training)
    truth = {"z": z, "x": x}
    norms = {"z": z_norm, "x": x_norm}
    ks, mse = {}, {}
    generated = {}
    for k, ref in GROUPS.items():
        normalised = np.concatenate(parts[k])
        generated[k] = norms[ref].denormalise(normalised)
        ks[k] = ks_statistics(generated[k], truth[ref])
        mse[k] = float(np.mean((normalised - norms[ref].normalise(truth[ref])) ** 2))
    result: dict[str, Any] = {
        "ks_sum": float(sum(v.sum() for v in ks.values())),
        "ks_group": {k: float(v.sum()) for k, v in ks.items()},
        "ks": {k: [round(float(s), 6) for s in v] for k, v in ks.items()},
        "mse": mse,
        "physics": physics_ks(generated["x_tilde"], x) if physics else None,
    }
    return result
