"""Export one direction of a Turbo-Sim model to ONNX, for ONNX Runtime in Python, C++ (CMSSW) or anywhere else.

The graph works in GeV and takes its randomness as an input, so it is a pure function:

==========  =================  ==========================================================================
name        shape, type        meaning
==========  =================  ==========================================================================
``z``       (n, 24) float32    "simulate": parton features e-, nubar_e, b, bbar, u, dbar x (px, py, pz, E) [GeV]
``x``       (n, 24) float32    "unfold": detector features electron, MET, jet1..jet4 x (px, py, pz, E) [GeV]
``noise``   (n, D) float32     standard normals, D = ``noise_dim`` (metadata); the keyed recipe of
                               :mod:`turbosim_hep.simulation.noise` gives the transform's numbers
output      (n, 24) float32    "simulate": ``x`` as ``simulate()`` returns it (jets by descending pT, MET E =
                               sqrt(px² + py² + pzMiss²)); "unfold": ``z``
==========  =================  ==========================================================================

The feature normalisation is folded into the graph. The file's metadata (``metadata_props``) holds
``turbosim.direction``, ``turbosim.seed``, ``turbosim.noise_dim``, ``turbosim.noise_stream``,
``turbosim.source_model`` (the name or file name) and ``turbosim.source_model_sha256``, ``turbosim.inputs``,
``turbosim.outputs`` and ``turbosim.version``: read them with :func:`read_onnx_metadata` (or
``Ort::ModelMetadata::LookupCustomMetadataMapAllocated`` in C++).

Example
-------
>>> from turbosim_hep.model.onnx_export import export_onnx
>>> export_onnx("ttbar-physics", "decoder.onnx")                      # doctest: +SKIP
>>> import onnxruntime as ort                                          # doctest: +SKIP
>>> ort.InferenceSession("decoder.onnx").run(None, {"z": z, "noise": noise})[0]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from turbosim_hep.io.safe_torch import ModelFile, open_model_file

__all__ = ("ONNX_OPSET", "export_onnx", "read_onnx_metadata")

#: ONNX opset of the exported graphs (ONNX Runtime >= 1.16 runs it).
ONNX_OPSET = 18
#: (network, input name, output name, noise stream) of each direction.
_DIRECTIONS = {"simulate": ("decoder", "z", "x"), "unfold": ("encoder", "x", "z")}
_PREFIX = "turbosim."


class _SimulateAsStored(nn.Module):
    """A GeV decoder followed by what ``simulate()`` does to its output: jets sorted by pT, MET E = |p_miss|."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, z: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        x = self.net(z, noise)
        n = x.shape[0]
        jets = x[:, 8:].reshape(n, 4, 4)
        order = torch.argsort(jets[..., 0] ** 2 + jets[..., 1] ** 2, dim=1, descending=True)
        jets = torch.gather(jets, 1, order[..., None].expand(-1, -1, 4))
        met_e = torch.sqrt(x[:, 4] ** 2 + x[:, 5] ** 2 + x[:, 6] ** 2)
        return torch.cat([x[:, :7], met_e[:, None], jets.reshape(n, 16)], dim=1)


class _PhysicsInGeV(nn.Module):
    """The physics decoder's GeV interface without the inference chunking (a graph has no data-dependent loop)."""

    def __init__(self, decoder: nn.Module) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(self, z: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.decoder.simulate_gev(z, noise)


def _gev_network(loaded, direction: str) -> nn.Module:
    from turbosim_hep.model.export import gev_module, truncated

    net = getattr(loaded.model, _DIRECTIONS[direction][0])
    if direction == "simulate" and getattr(net, "physical", False):
        module: nn.Module = truncated(_PhysicsInGeV(net), net)
    else:
        module = gev_module(loaded, direction)
    if direction == "simulate":
        module = _SimulateAsStored(module)
    return module.cpu().eval()


def export_onnx(
    model: str | os.PathLike | ModelFile,
    out: str | os.PathLike,
    *,
    direction: str = "simulate",
    seed: int | None = None,
    opset: int = ONNX_OPSET,
    name: str | None = None,
) -> Path:
    """Write the decoder ("simulate") or the encoder ("unfold") of a Turbo-Sim checkpoint to ``out`` as ONNX.

    Arguments
    ---------
    model
        A checkpoint written by ``turbosim train`` (a path, or the file already read:
        ``turbosim_hep.simulation.registry.open_model("ttbar-physics")`` for a shipped model).
    out
        The ``.onnx`` file to write (atomically; never one of the inputs).
    direction
        ``"simulate"`` (z -> x) or ``"unfold"`` (x -> z).
    seed
        The noise seed recorded in the metadata (default: the model's training seed), which the keyed noise of the
        caller should use to reproduce ``TurboSimTransform``'s numbers.
    opset
        ONNX opset version.
    name
        The model's name recorded in the metadata (default: its file name).

    Returns
    -------
    Path
        ``out``.
    """
    try:
        import onnx
        import onnxscript  # noqa: F401 (torch's ONNX exporter needs it)
    except ImportError as err:
        raise ModuleNotFoundError(
            f"ONNX export needs onnx and onnxscript ({err.name} is missing): pip install 'turbosim-hep[onnx]'"
        ) from None

    from turbosim_hep import __version__
    from turbosim_hep.io.atomic import atomic_path
    from turbosim_hep.model.checkpoint import load_model
    from turbosim_hep.model.export import export_noise_layout
    from turbosim_hep.simulation.noise import STREAMS

    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {tuple(_DIRECTIONS)!r}, got {direction!r}")
    out = Path(out)
    model_file = model if isinstance(model, ModelFile) else open_model_file(model)
    path = model_file.path
    loaded = load_model(model_file, device="cpu")
    module = _gev_network(loaded, direction)
    net_name, side_in, side_out = _DIRECTIONS[direction]
    layout = export_noise_layout(getattr(loaded.model, net_name))
    noise_dim = layout["noise_dim"]
    example = (torch.zeros(4, 24) + 50.0, torch.zeros(4, noise_dim))
    n = torch.export.Dim("n")
    onnx_log = logging.getLogger("torch.onnx")
    level = onnx_log.level
    # the exporter logs a warning per missing torchvision op and prints its progress: neither concerns this graph
    onnx_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module,
                example,
                None,
                input_names=[side_in, "noise"],
                output_names=[side_out],
                dynamic_shapes=({0: n}, {0: n}),
                opset_version=opset,
                verbose=False,
            )
    finally:
        onnx_log.setLevel(level)
    proto = program.model_proto
    meta = {
        "direction": direction,
        "seed": str(int(loaded.config.seed if seed is None else seed)),
        "noise_dim": str(noise_dim),
        "draws": str(layout["draws"]),
        "noise_stream": str(STREAMS[direction]),
        "source_model": name or path.name,
        "source_model_sha256": model_file.sha256,
        "inputs": f"{side_in}: (n, 24) float32 GeV; noise: (n, {noise_dim}) float32 standard normals"
        + (
            f" (draws 0..{layout['draws'] - 1} of {layout['draw_noise_dim']} each, keyed by redraw_keys; the first "
            "draw inside the detector's phase space is returned)"
            if layout["draws"] > 1
            else ""
        ),
        "outputs": f"{side_out}: (n, 24) float32 GeV",
        "version": __version__,
    }
    onnx.helper.set_model_props(proto, {_PREFIX + k: v for k, v in meta.items()})
    proto.doc_string = (
        f"Turbo-Sim {net_name} ({direction}): {side_in} [GeV] and noise -> {side_out} [GeV]; see turbosim_hep "
        "model/onnx_export.py for the signature and the README for the keyed-noise recipe"
    )
    with atomic_path(out, inputs=[path]) as tmp:
        onnx.save_model(proto, str(tmp))
    return out


def read_onnx_metadata(path: str | os.PathLike) -> dict[str, str | int]:
    """The ``turbosim.*`` metadata of an exported ONNX file (seed and noise_dim as integers)."""
    import onnx

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"ONNX file {str(path)!r} does not exist; make one with 'turbosim export MODEL OUT.onnx'"
        )
    try:
        proto = onnx.load_model(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError and others on a damaged file
        raise ValueError(f"{str(path)!r} is not a readable ONNX file ({type(exc).__name__})") from None
    meta: dict[str, str | int] = {
        p.key[len(_PREFIX) :]: p.value for p in proto.metadata_props if p.key.startswith(_PREFIX)
    }
    if "direction" not in meta:
        raise ValueError(f"{str(path)!r} is not a turbosim export (no turbosim.direction metadata)")
    meta.setdefault("draws", "1")  # files written before truncated decoders
    for key in ("seed", "noise_dim", "noise_stream", "draws"):
        meta[key] = int(meta[key])
    return meta
