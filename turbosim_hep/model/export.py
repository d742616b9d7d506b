"""Export a trained model's decoder (or encoder) for ``coffea.ml_tools.torch_wrapper`` and ``torch.export``.

The exported module works in GeV: ``forward(features, noise)`` with ``features`` ``(n, 24)`` float32 [GeV] and
``noise`` ``(n, noise_dim)`` standard normals, the normalisation folded in. Passing the noise explicitly (instead of
``torch.randn`` inside the model) keeps results independent of chunking, executor and retries: use
:class:`TurboSimTorchWrapper`, which draws it from the event ids exactly as :class:`~turbosim_hep.TurboSimTransform`
does, so both give the same numbers.

Two formats: TorchScript (``.pt``, what ``torch_wrapper`` loads today; deprecated by torch 2.13 but still working)
and a ``torch.export`` program (``.pt2``, loaded by :class:`TurboSimTorchWrapper` when the path ends in ``.pt2``).
The metadata (direction, seed, noise_dim, source model) is stored beside the module as ``turbosim.json``.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import awkward as ak
import numpy as np
import torch
from coffea.ml_tools.torch_wrapper import torch_wrapper
from torch import nn

from turbosim_hep.events.features import reco_as_stored
from turbosim_hep.io.atomic import atomic_path
from turbosim_hep.simulation.noise import STREAMS, keyed_inputs

__all__ = (
    "EXPORT_DRAWS",
    "FirstInside",
    "GeVModule",
    "TurboSimTorchWrapper",
    "export_model",
    "export_noise_layout",
    "read_export_metadata",
)

_DIRECTIONS = {"simulate": ("decoder", "z", "x"), "unfold": ("encoder", "x", "z")}


#: Draws per event an exported truncated decoder makes (all in one graph; the first inside the phase space is kept)
EXPORT_DRAWS = 4


class GeVModule(nn.Module):
    """One network of a trained model with its normalisation folded in: GeV in, GeV out."""

    def __init__(self, net: nn.Module, mean_in, std_in, mean_out, std_out) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("scale_in", torch.as_tensor(1.0 / np.asarray(std_in), dtype=torch.float32))
        self.register_buffer("shift_in", torch.as_tensor(np.asarray(mean_in) / np.asarray(std_in), dtype=torch.float32))
        self.register_buffer("std_out", torch.as_tensor(np.asarray(std_out), dtype=torch.float32))
        self.register_buffer("mean_out", torch.as_tensor(np.asarray(mean_out), dtype=torch.float32))

    def forward(self, features: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.net(features * self.scale_in - self.shift_in, noise) * self.std_out + self.mean_out


class FirstInside(nn.Module):
    """A GeV decoder truncated to the phase space, as one graph: noise ``(n, draws * noise_dim)`` holds the noise of
    draws 0 .. draws − 1 (keyed with :func:`~turbosim_hep.simulation.noise.redraw_keys`); every draw is made and the
    first inside the phase space is kept (else the last). That is what ``simulate()`` returns for every event that
    needs at most ``draws`` draws (:data:`EXPORT_DRAWS` = 4: all but a few in 10⁴ for the shipped model)."""

    def __init__(self, net: nn.Module, phase_space, draws: int = EXPORT_DRAWS) -> None:
        super().__init__()
        self.net = net
        self.phase_space = phase_space
        self.draws = int(draws)

    def forward(self, features: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        from turbosim_hep.simulation.phase_space import inside_phase_space

        width = noise.shape[1] // self.draws
        xs = torch.stack([self.net(features, noise[:, a * width : (a + 1) * width]) for a in range(self.draws)])
        inside = torch.stack([inside_phase_space(x, self.phase_space) for x in xs.unbind(0)]).float()
        # the first draw inside scores draws - a >= 1, the last one 0.5 more: argmax picks the first inside, else last
        score = inside * torch.arange(self.draws, 0, -1, dtype=inside.dtype)[:, None]
        score = score + (torch.arange(self.draws)[:, None] == self.draws - 1).to(inside.dtype) * 0.5
        choice = torch.argmax(score, dim=0)  # (n,)
        return torch.gather(xs, 0, choice[None, :, None].expand(1, -1, xs.shape[-1]))[0]


def truncated(module: nn.Module, net: nn.Module) -> nn.Module:
    """``module`` (GeV in, GeV out) as :class:`FirstInside` when ``net`` is a decoder truncated to the phase space."""
    bounds = getattr(net, "phase_space", None)
    return module if bounds is None else FirstInside(module, bounds)


def export_noise_layout(net: nn.Module) -> dict[str, int]:
    """``noise_dim`` (the width of the exported noise input), ``draws`` and ``draw_noise_dim`` (one draw's width)."""
    draws = EXPORT_DRAWS if getattr(net, "phase_space", None) is not None else 1
    return {"noise_dim": int(net.noise_dim) * draws, "draws": draws, "draw_noise_dim": int(net.noise_dim)}


def gev_module(loaded, direction: str) -> GeVModule:
    """The network of ``direction`` with its normalisation folded in: GeV in, GeV out, on the CPU, in eval mode."""
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {tuple(_DIRECTIONS)!r}, got {direction!r}")
    net_name, side_in, side_out = _DIRECTIONS[direction]
    net = getattr(loaded.model, net_name)
    if getattr(loaded.config, "encoder_kind", "mlp") == "flow" and direction == "unfold":
        raise ValueError(
            f"model {str(getattr(loaded, 'path', ''))!r}: its flow encoder (encoder_kind='flow') cannot be exported "
            "yet (its spline search and decay-chain boosts do not trace to a fixed graph); unfold with "
            "TurboSimTransform.unfold or 'turbosim unfold' instead, or export the 'simulate' direction"
        )
    module = GeVModule(
        net,
        getattr(loaded, f"{side_in}_mean"),
        getattr(loaded, f"{side_in}_std"),
        getattr(loaded, f"{side_out}_mean"),
        getattr(loaded, f"{side_out}_std"),
    )
    return truncated(module, net).cpu().eval()


def export_model(
    model: str | os.PathLike, out: str | os.PathLike, *, direction: str = "simulate", seed: int | None = None
) -> Path:
    """Export one direction of a checkpoint to ``out``: TorchScript if it ends in ``.pt``, torch.export if ``.pt2``.

    ``seed`` is the noise seed recorded for :class:`TurboSimTorchWrapper` (default: the model's training seed).
    """
    from turbosim_hep.model.checkpoint import load_model
    from turbosim_hep.runtime.seeds import check_seed

    loaded = load_model(model, device="cpu")
    module = gev_module(loaded, direction)
    layout = export_noise_layout(getattr(loaded.model, _DIRECTIONS[direction][0]))
    noise_dim = layout["noise_dim"]
    meta = {
        "direction": direction,
        "seed": check_seed(loaded.config.seed if seed is None else seed),
        **layout,
        "model": str(Path(model).resolve()),
    }
    example = (torch.zeros(2, 24), torch.zeros(2, noise_dim))
    out = Path(out)
    with atomic_path(out, inputs=[model]) as tmp:
        if out.suffix == ".pt2":
            n = torch.export.Dim("n")
            program = torch.export.export(module, example, dynamic_shapes=({0: n}, {0: n}))
            torch.export.save(program, tmp, extra_files={"turbosim.json": json.dumps(meta)})
        elif out.suffix == ".pt":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                scripted = torch.jit.trace(module, example)
                torch.jit.save(scripted, str(tmp), _extra_files={"turbosim.json": json.dumps(meta)})
        else:
            raise ValueError(f"export path must end in .pt (TorchScript) or .pt2 (torch.export), got {str(out)!r}")
    return out


def read_export_metadata(path: str | os.PathLike) -> dict:
    """The ``turbosim.json`` metadata stored in an exported file."""
    path = str(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"exported model {path!r} does not exist; make one with export_model()")
    extra = {"turbosim.json": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if path.endswith(".pt2"):
            torch.export.load(path, extra_files=extra)
        else:
            torch.jit.load(path, _extra_files=extra, map_location="cpu")
    if not extra["turbosim.json"]:
        raise ValueError(f"{path!r} is not a turbosim export (no turbosim.json inside)")
    return json.loads(extra["turbosim.json"])


class TurboSimTorchWrapper(torch_wrapper):
    """``coffea.ml_tools.torch_wrapper`` for an exported Turbo-Sim network.

    Call it on NanoEvents (or events arrays of our layout): ``wrapper(events)`` returns the ``(n, 24)`` generated
    features [GeV] (x~ for "simulate", z~ for "unfold"), with the per-event noise of
    :class:`~turbosim_hep.TurboSimTransform`, so the numbers match the transform's for the same model and seed.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        meta = read_export_metadata(path)
        super().__init__(str(path), expected_output_shape=(None, 24))
        self.direction = meta["direction"]
        self.seed = int(meta["seed"])
        self.noise_dim = int(meta["noise_dim"])
        self.draws = int(meta.get("draws", 1))

    def _create_device(self):
        return torch.device("cpu")

    def _create_model(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if self.torch_jit.endswith(".pt2"):
                return torch.export.load(self.torch_jit).module()
            model = torch.jit.load(self.torch_jit, map_location="cpu")
        model.eval()
        return model

    def validate_numpy_input(self, features: np.ndarray, noise: np.ndarray) -> None:
        if features.ndim != 2 or features.shape[1] != 24 or noise.shape != (len(features), self.noise_dim):
            raise ValueError(
                f"exported Turbo-Sim network needs features (n, 24) and noise (n, {self.noise_dim}); "
                f"got {features.shape!r} and {noise.shape!r}"
            )

    def prepare_awkward(self, events: ak.Array):
        features, noise = keyed_inputs(
            events, self.direction, seed=self.seed, stream=STREAMS[self.direction], noise_dim=self.noise_dim,
            draws=self.draws,
        )  # fmt: skip
        return (ak.Array(features), ak.Array(noise)), {}

    def postprocess_awkward(self, return_array, *args, **kwargs):
        """Simulated features as ``simulate()`` gives them: jets sorted by pT, MET E = |p_miss|."""
        if self.direction != "simulate" or len(return_array) == 0:
            return return_array
        return ak.Array(reco_as_stored(ak.to_numpy(return_array)))
