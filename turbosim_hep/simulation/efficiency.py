"""The selection-efficiency model ε(z) = P(selected | z): a small classifier over physics features of the partons.

A sample of partons that was never selected (a MadGraph/LHE file, ``turbosim generate --no-select``) holds every
event, while a Turbo-Sim model trained on selected events returns each of them as if it had passed the selection;
yields are then wrong by the selection efficiency (about 15 % for pp → tt̄ → e⁻ν̄ b b̄ u d̄ and the OTUS selection).
ε(z) is FlashSim's efficiency stage: the simulator marks each event as passing with probability ε(z)
(:meth:`turbosim_hep.simulation.transform.EventTransform.simulate` with ``selected_input=False``).

The OTUS selection fails when a quark is soft, forward or merged with another (not exactly four jets) or the electron
is soft, forward or not isolated, so the network sees, per parton, log pT and |η|, and ΔR between every pair of the
five visible partons (e⁻, b, b̄, u, d̄); the fifth jet that fails "exactly four jets" comes from radiation, which
nothing at parton level holds but which grows with the hard scale, so it also sees log m_tt, |y_tt| and log pT of
the hadronic top: 25 numbers, standardised with the training split's mean and spread. A monotone piecewise-linear
map of the logit, fitted on the validation split, calibrates the output.

The model travels inside a model file as the plain-data entry ``efficiency`` (:meth:`EfficiencyModel.to_entry`,
:func:`turbosim_hep.simulation.efficiency_file.attach_efficiency`); training lives in
:mod:`turbosim_hep.model.efficiency_training`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from turbosim_hep.constants import N_FEATURES

__all__ = ("ENTRY_FORMAT", "FEATURE_NAMES", "EfficiencyModel", "efficiency_features", "recalibrate")

#: ``format`` of the ``efficiency`` entry of a model file.
ENTRY_FORMAT = "turbosim-hep efficiency"
_ENTRY_VERSION = 2  # 2: the recalibration table; 1 (no table) is read as the identity

_SLOTS = ("e", "nu", "b", "bbar", "u", "dbar")
_VISIBLE = (0, 2, 3, 4, 5)
_PAIRS = tuple((i, j) for a, i in enumerate(_VISIBLE) for j in _VISIBLE[a + 1 :])
#: Names of the network's input features, in column order.
FEATURE_NAMES: tuple[str, ...] = (
    *(f"{s}_log_pt" for s in _SLOTS),
    *(f"{s}_abs_eta" for s in _SLOTS),
    *(f"dr_{_SLOTS[i]}_{_SLOTS[j]}" for i, j in _PAIRS),
    "log_m_tt",
    "abs_y_tt",
    "log_pt_top_had",
)
_PAIR_I = torch.tensor([i for i, _ in _PAIRS])
_PAIR_J = torch.tensor([j for _, j in _PAIRS])


def efficiency_features(z: torch.Tensor) -> torch.Tensor:
    """Physics features of parton events: ``(n, 24)`` (px, py, pz, E) [GeV] of e⁻, ν̄ₑ, b, b̄, u, d̄ to ``(n, 25)``.

    Columns (:data:`FEATURE_NAMES`): log(pT / GeV) of the six partons, their |η| (capped at 10), ΔR of the ten
    pairs of visible partons (e⁻, b, b̄, u, d̄), log(m_tt / GeV), |y_tt| and log(pT / GeV) of the hadronic top
    (b u d̄). Computed in the dtype of ``z``, as a transposed view of a ``(25, n)`` tensor.

    Only vectorised operations (torch's ``asinh`` and ``atan2`` cost up to 20 ns per value on a CPU, its ``log``,
    ``sqrt`` and ``acos`` 2-3 ns): |η| = log((|p| + |pz|) / pT), and Δφ = acos(cos Δφ) with
    cos Δφ = (px_i px_j + py_i py_j) / (pT_i pT_j). One pass over each component, per parton row of the transposed
    input, so that the work stays in cache for batches of ~16k events.
    """
    c = z.reshape(-1, N_FEATURES).t().contiguous()
    px, py, pz = c[0::4], c[1::4], c[2::4]
    pt2 = px * px + py * py
    pt = pt2.sqrt().clamp_min_(1e-3)
    abs_eta = torch.log((torch.sqrt(pt2 + pz * pz) + pz.abs()) / pt).clamp_max_(10.0)
    eta = torch.copysign(abs_eta, pz)
    ux, uy = px / pt, py / pt
    i, j = _PAIR_I, _PAIR_J  # index_select: a plain row gather (tensor indexing costs 3x more)
    cos_dphi = (ux.index_select(0, i) * ux.index_select(0, j)).addcmul_(uy.index_select(0, i), uy.index_select(0, j))
    dphi = torch.acos(cos_dphi.clamp_(-1.0, 1.0))
    deta = eta.index_select(0, i) - eta.index_select(0, j)
    dr = torch.sqrt(deta * deta + dphi * dphi)
    tt = c.reshape(6, 4, -1).sum(0)
    m2 = (tt[3] * tt[3] - tt[0] * tt[0] - tt[1] * tt[1] - tt[2] * tt[2]).clamp_min_(1.0)
    abs_y = 0.5 * torch.log((tt[3] + tt[2].abs()) / (tt[3] - tt[2].abs()).clamp_min_(1e-3))
    top = c[8:12] + c[16:20] + c[20:24]  # b + u + d̄
    pt2_top = (top[0] * top[0] + top[1] * top[1]).clamp_min_(1e-6)
    event = torch.stack([0.5 * torch.log(m2), abs_y.clamp_max_(10.0), 0.5 * torch.log(pt2_top)])
    return torch.cat([torch.log(pt), abs_eta, dr, event], dim=0).t()


def recalibrate(logit: torch.Tensor, knots: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """The monotone piecewise-linear map of :class:`EfficiencyModel`: ``logit`` ``(n,)`` through the table
    ``knots`` -> ``values`` ``(k,)``, linear between knots and past the end ones (the end segments' slopes)."""
    k = torch.bucketize(logit, knots[1:-1]).clamp_(max=len(knots) - 2)
    k1 = k + 1
    x0, x1 = knots.index_select(0, k), knots.index_select(0, k1)
    y0, y1 = values.index_select(0, k), values.index_select(0, k1)
    return torch.addcmul(y0, (logit - x0) / (x1 - x0), y1 - y0)


class EfficiencyModel(nn.Module):
    """ε(z): an MLP from the standardised :func:`efficiency_features` to a logit, then a monotone piecewise-linear
    recalibration of that logit, to P(selected | z).

    The recalibration g is a table of knots (``calibration_knots``, increasing) and values (``calibration_values``,
    increasing) in logit space, linear between knots and extended linearly past the end ones; it is the identity
    until :func:`turbosim_hep.model.efficiency_training.fit_efficiency` fits it on the validation split (Platt
    scaling is its one-segment case).

    Arguments
    ---------
    hidden
        Widths of the hidden layers (SiLU after each).
    feature_mean, feature_std
        ``(25,)`` standardisation of the features (the training split's); zeros and ones by default.
    calibration_knots
        Number of knots of the recalibration table (at least 2).
    provenance
        Plain data recording how the model was trained (data digest, events, pass fraction, test-split figures);
        saved with it.

    Example
    -------
    >>> eff = EfficiencyModel(hidden=(16, 16))
    >>> eff.efficiency(np.zeros((0, 24), dtype=np.float32)).shape
    (0,)
    """

    def __init__(
        self,
        *,
        hidden: tuple[int, ...] = (16, 16),
        feature_mean: np.ndarray | None = None,
        feature_std: np.ndarray | None = None,
        calibration_knots: int = 2,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        n_in = len(FEATURE_NAMES)
        if not hidden or any(int(h) < 1 for h in hidden):
            raise ValueError(f"hidden must be one or more positive layer widths, got {hidden!r}")
        if int(calibration_knots) < 2:
            raise ValueError(f"calibration_knots must be at least 2, got {calibration_knots!r}")
        self.hidden = tuple(int(h) for h in hidden)
        mean = np.zeros(n_in) if feature_mean is None else np.asarray(feature_mean, dtype=np.float64)
        std = np.ones(n_in) if feature_std is None else np.asarray(feature_std, dtype=np.float64)
        if mean.shape != (n_in,) or std.shape != (n_in,) or not np.all(std > 0):
            raise ValueError(f"feature_mean and feature_std must have shape ({n_in},) with std > 0")
        self.register_buffer("feature_mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("feature_std", torch.as_tensor(std, dtype=torch.float32))
        identity = torch.linspace(-1.0, 1.0, int(calibration_knots))
        self.register_buffer("calibration_knots", identity.clone())
        self.register_buffer("calibration_values", identity.clone())
        layers: list[nn.Module] = []
        for width in self.hidden:
            layers += [nn.Linear(n_in, width), nn.SiLU()]
            n_in = width
        layers.append(nn.Linear(n_in, 1))
        self.net = nn.Sequential(*layers)
        self.provenance: dict[str, Any] = dict(provenance or {})

    def raw_logit(self, z: torch.Tensor) -> torch.Tensor:
        """The network's logit before recalibration: ``(n, 24)`` parton features [GeV] to ``(n,)``."""
        f = (efficiency_features(z) - self.feature_mean) / self.feature_std
        return self.net(f).squeeze(-1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Logits of ε: ``(n, 24)`` parton features [GeV], float32, to ``(n,)``."""
        return recalibrate(self.raw_logit(z), self.calibration_knots, self.calibration_values)

    def set_recalibration(self, knots: torch.Tensor, values: torch.Tensor) -> None:
        """Replace the recalibration table: ``(k,)`` increasing ``knots`` and ``values`` in logit space."""
        knots, values = torch.as_tensor(knots, dtype=torch.float32), torch.as_tensor(values, dtype=torch.float32)
        if knots.ndim != 1 or knots.shape != values.shape or len(knots) < 2:
            raise ValueError(
                f"knots and values must share one shape (k,) with k >= 2, got {knots.shape}, {values.shape}"
            )
        if not (torch.all(knots[1:] > knots[:-1]) and torch.all(values[1:] >= values[:-1])):
            raise ValueError("the recalibration table must increase: knots strictly, values weakly")
        self.calibration_knots = knots.clone()
        self.calibration_values = values.clone()

    def efficiency(self, z_gev: np.ndarray, *, batch_size: int = 16_384) -> np.ndarray:
        """ε(z) = P(selected | z) of ``(n, 24)`` parton features [GeV]: ``(n,)`` float32 in [0, 1].

        Batches of ``batch_size`` events keep the intermediate values in the CPU's cache (about 3x faster than
        batches of 10⁶ events on one thread).
        """
        z_gev = np.asarray(z_gev)
        if z_gev.ndim != 2 or z_gev.shape[1] != N_FEATURES:
            raise ValueError(f"z must have shape (n, {N_FEATURES}) [GeV], got {z_gev.shape!r}")
        z_all = torch.from_numpy(np.ascontiguousarray(z_gev, dtype=np.float32))
        out = torch.empty(len(z_gev), dtype=torch.float32)
        with torch.inference_mode():
            for start in range(0, len(z_gev), batch_size):
                stop = min(start + batch_size, len(z_gev))
                torch.sigmoid(self(z_all[start:stop]), out=out[start:stop])
        return out.numpy()

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
        version = entry.get("format_version")
        if version not in (1, _ENTRY_VERSION):
            raise ValueError(
                f"{source}: efficiency format version {version!r}, this turbosim-hep reads 1 and "
                f"{_ENTRY_VERSION}; retrain it with 'turbosim train-efficiency'"
            )
        if list(entry.get("features", ())) != list(FEATURE_NAMES):
            raise ValueError(f"{source}: the efficiency model was trained on other features {entry.get('features')!r}")
        state = dict(entry.get("state") or {})
        knots = state.get("calibration_knots")
        model = cls(
            hidden=tuple(entry["hidden"]),
            calibration_knots=2 if knots is None else len(knots),
            provenance=entry.get("provenance"),
        )
        if version == 1:  # written before the recalibration table: the identity
            state.update({k: getattr(model, k) for k in ("calibration_knots", "calibration_values")})
        try:
            model.load_state_dict(state, strict=True)
        except (RuntimeError, KeyError) as err:
            raise ValueError(f"{source}: the efficiency model's weights do not match its layers: {err}") from err
        return model.eval()
