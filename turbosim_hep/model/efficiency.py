"""The selection-efficiency model ε(z) = P(selected | z): a small classifier over physics features of the partons.

A sample of partons that was never selected (a MadGraph/LHE file, ``turbosim generate --no-select``) holds every
event, while a Turbo-Sim model trained on selected events returns each of them as if it had passed the selection;
yields are then wrong by the selection efficiency (about 15 % for pp → tt̄ → e⁻ν̄ b b̄ u d̄ and the OTUS selection).
ε(z) is FlashSim's efficiency stage: the simulator marks each event as passing with probability ε(z)
(:meth:`turbosim_hep.simulation.transform.EventTransform.simulate` with ``selected_input=False``).

The OTUS selection fails when a quark is soft, forward or merged with another (not exactly four jets) or the electron
is soft, forward or not isolated, so the network sees, per parton, log pT and |η|, and ΔR between every pair of the
five visible partons (e⁻, b, b̄, u, d̄), 22 numbers, standardised with the training split's mean and spread.

The model travels inside a model file as the plain-data entry ``efficiency`` (:meth:`EfficiencyModel.to_entry`,
:func:`turbosim_hep.model.efficiency_file.attach_efficiency`); training lives in
:mod:`turbosim_hep.model.efficiency_training`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from turbosim_hep.constants import N_FEATURES

__all__ = ("ENTRY_FORMAT", "FEATURE_NAMES", "EfficiencyModel", "efficiency_features")

#: ``format`` of the ``efficiency`` entry of a model file.
ENTRY_FORMAT = "turbosim-hep efficiency"
_ENTRY_VERSION = 1

_SLOTS = ("e", "nu", "b", "bbar", "u", "dbar")
_VISIBLE = (0, 2, 3, 4, 5)
_PAIRS = tuple((i, j) for a, i in enumerate(_VISIBLE) for j in _VISIBLE[a + 1 :])
#: Names of the network's input features, in column order.
FEATURE_NAMES: tuple[str, ...] = (
    *(f"{s}_log_pt" for s in _SLOTS),
    *(f"{s}_abs_eta" for s in _SLOTS),
    *(f"dr_{_SLOTS[i]}_{_SLOTS[j]}" for i, j in _PAIRS),
)
_PAIR_I = torch.tensor([i for i, _ in _PAIRS])
_PAIR_J = torch.tensor([j for _, j in _PAIRS])


def efficiency_features(z: torch.Tensor) -> torch.Tensor:
    """Physics features of parton events: ``(n, 24)`` (px, py, pz, E) [GeV] of e⁻, ν̄ₑ, b, b̄, u, d̄ to ``(n, 22)``.

    Columns (:data:`FEATURE_NAMES`): log(pT / GeV) of the six partons, their |η| (capped at 10), and ΔR of the ten
    pairs of visible partons (e⁻, b, b̄, u, d̄). Computed in the dtype of ``z``.
    """
    p = z.reshape(-1, 6, 4)
    pt = torch.hypot(p[..., 0], p[..., 1]).clamp_min(1e-3)
    eta = torch.asinh(p[..., 2] / pt).clamp(-10.0, 10.0)
    phi = torch.atan2(p[..., 1], p[..., 0])
    dphi = torch.remainder(phi[:, _PAIR_I] - phi[:, _PAIR_J] + torch.pi, 2.0 * torch.pi) - torch.pi
    dr = torch.hypot(eta[:, _PAIR_I] - eta[:, _PAIR_J], dphi)
    return torch.cat([torch.log(pt), eta.abs(), dr], dim=1)


class EfficiencyModel(nn.Module):
    """ε(z): an MLP from the standardised :func:`efficiency_features` to the logit of P(selected | z).

    Arguments
    ---------
    hidden
        Widths of the hidden layers (SiLU after each).
    feature_mean, feature_std
        ``(22,)`` standardisation of the features (the training split's); zeros and ones by default.
    provenance
        Plain data recording how the model was trained (data digest, events, pass fraction, test-split figures);
        saved with it.

    Example
    -------
    >>> eff = EfficiencyModel(hidden=(64, 64))
    >>> eff.efficiency(np.zeros((0, 24), dtype=np.float32)).shape
    (0,)
    """

    def __init__(
        self,
        *,
        hidden: tuple[int, ...] = (64, 64),
        feature_mean: np.ndarray | None = None,
        feature_std: np.ndarray | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        n_in = len(FEATURE_NAMES)
        if not hidden or any(int(h) < 1 for h in hidden):
            raise ValueError(f"hidden must be one or more positive layer widths, got {hidden!r}")
        self.hidden = tuple(int(h) for h in hidden)
        mean = np.zeros(n_in) if feature_mean is None else np.asarray(feature_mean, dtype=np.float64)
        std = np.ones(n_in) if feature_std is None else np.asarray(feature_std, dtype=np.float64)
        if mean.shape != (n_in,) or std.shape != (n_in,) or not np.all(std > 0):
            raise ValueError(f"feature_mean and feature_std must have shape ({n_in},) with std > 0")
        self.register_buffer("feature_mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("feature_std", torch.as_tensor(std, dtype=torch.float32))
        layers: list[nn.Module] = []
        for width in self.hidden:
            layers += [nn.Linear(n_in, width), nn.SiLU()]
            n_in = width
        layers.append(nn.Linear(n_in, 1))
        self.net = nn.Sequential(*layers)
        self.provenance: dict[str, Any] = dict(provenance or {})

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Logits of ε: ``(n, 24)`` parton features [GeV], float32, to ``(n,)``."""
        f = (efficiency_features(z) - self.feature_mean) / self.feature_std
        return self.net(f).squeeze(-1)

    def efficiency(self, z_gev: np.ndarray, *, batch_size: int = 262_144) -> np.ndarray:
        """ε(z) = P(selected | z) of ``(n, 24)`` parton features [GeV]: ``(n,)`` float32 in [0, 1]."""
        z_gev = np.asarray(z_gev)
        if z_gev.ndim != 2 or z_gev.shape[1] != N_FEATURES:
            raise ValueError(f"z must have shape (n, {N_FEATURES}) [GeV], got {z_gev.shape!r}")
        out = np.empty(len(z_gev), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(z_gev), batch_size):
                z = torch.from_numpy(np.ascontiguousarray(z_gev[start : start + batch_size], dtype=np.float32))
                out[start : start + len(z)] = torch.sigmoid(self(z)).numpy()
        return out

    def to_entry(self) -> dict[str, Any]:
        """The model as plain data and tensors (the ``efficiency`` entry of a model file)."""
        return {
            "format": ENTRY_FORMAT,
            "format_version": _ENTRY_VERSION,
            "features": list(FEATURE_NAMES),
            "hidden": list(self.hidden),
            "state": {k: v.detach().cpu().clone() for k, v in self.state_dict().items()},
            "provenance": self.provenance,
        }

    @classmethod
    def from_entry(cls, entry: Any, *, source: str = "model file") -> EfficiencyModel:
        """Rebuild the model from :meth:`to_entry`'s data; a ``ValueError`` naming ``source`` if it does not fit."""
        if not isinstance(entry, dict) or entry.get("format") != ENTRY_FORMAT:
            found = entry.get("format") if isinstance(entry, dict) else type(entry).__name__
            raise ValueError(f"{source}: its 'efficiency' entry is not an efficiency model (format {found!r})")
        if entry.get("format_version") != _ENTRY_VERSION:
            raise ValueError(
                f"{source}: efficiency format version {entry.get('format_version')!r}, this turbosim-hep reads "
                f"{_ENTRY_VERSION}; retrain it with 'turbosim train-efficiency'"
            )
        if list(entry.get("features", ())) != list(FEATURE_NAMES):
            raise ValueError(f"{source}: the efficiency model was trained on other features {entry.get('features')!r}")
        model = cls(hidden=tuple(entry["hidden"]), provenance=entry.get("provenance"))
        try:
            model.load_state_dict(entry["state"], strict=True)
        except (RuntimeError, KeyError) as err:
            raise ValueError(f"{source}: the efficiency model's weights do not match its layers: {err}") from err
        return model.eval()
