"""``TurboSimOnnxWrapper``: an exported ONNX Turbo-Sim network inside a coffea processor, through ONNX Runtime.

The ONNX sibling of :class:`turbosim_hep.model.export.TurboSimTorchWrapper`, built on ``coffea.ml_tools``'
``numpy_call_wrapper`` (the base of its ``torch_wrapper`` and ``xgboost_wrapper``): call it on NanoEvents (eager,
virtual or dask) and get the ``(n, 24)`` generated features [GeV] with the per-event noise of
:class:`~turbosim_hep.TurboSimTransform`, so the numbers match the transform's for the same model and seed.
The ONNX Runtime session is created lazily in each process (never pickled) with ``threads`` intra-op threads.

Example
-------
>>> wrapper = TurboSimOnnxWrapper("decoder.onnx")                     # doctest: +SKIP
>>> x = wrapper(events)          # in a processor: (n, 24) x~ = D(z)  # doctest: +SKIP
"""

from __future__ import annotations

import os

import awkward as ak
import numpy as np
from coffea.ml_tools.helper import numpy_call_wrapper

from turbosim_hep.model.onnx_export import read_onnx_metadata
from turbosim_hep.simulation.noise import keyed_inputs

__all__ = ("TurboSimOnnxWrapper",)


class TurboSimOnnxWrapper(numpy_call_wrapper):
    """Run an ONNX file written by :func:`~turbosim_hep.model.onnx_export.export_onnx` on events.

    Arguments
    ---------
    path
        The ``.onnx`` file; its metadata gives the direction, seed, noise dimension and noise stream.
    threads
        ONNX Runtime intra-op threads per process (1: one per coffea worker, as for torch).
    """

    def __init__(self, path: str | os.PathLike, *, threads: int = 1) -> None:
        super().__init__()
        meta = read_onnx_metadata(path)
        self.path = str(path)
        self.threads = int(threads)
        self.direction = str(meta["direction"])
        self.seed = int(meta["seed"])
        self.noise_dim = int(meta["noise_dim"])
        self.draws = int(meta["draws"])
        self.noise_stream = int(meta["noise_stream"])
        self._session = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_session"] = None  # an ONNX Runtime session does not pickle; each worker makes its own
        return state

    def _get_session(self):
        if self._session is None:
            try:
                import onnxruntime as ort
            except ModuleNotFoundError:
                raise ModuleNotFoundError(
                    "TurboSimOnnxWrapper needs onnxruntime: pip install 'turbosim-hep[onnx]'"
                ) from None

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            self._session = ort.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
        return self._session

    def validate_numpy_input(self, features: np.ndarray, noise: np.ndarray) -> None:
        if features.ndim != 2 or features.shape[1] != 24 or noise.shape != (len(features), self.noise_dim):
            raise ValueError(
                f"exported Turbo-Sim network needs features (n, 24) and noise (n, {self.noise_dim}); "
                f"got {features.shape!r} and {noise.shape!r}"
            )

    def numpy_call(self, features: np.ndarray, noise: np.ndarray) -> np.ndarray:
        if len(features) == 0:
            return np.empty((0, 24), dtype=np.float32)
        session = self._get_session()
        names = [i.name for i in session.get_inputs()]
        feed = {names[0]: np.ascontiguousarray(features, dtype=np.float32), names[1]: noise}
        return session.run(None, feed)[0]

    def prepare_awkward(self, events: ak.Array):
        features, noise = keyed_inputs(
            events, self.direction, seed=self.seed, stream=self.noise_stream, noise_dim=self.noise_dim,
            draws=self.draws,
        )  # fmt: skip
        return (ak.Array(features), ak.Array(noise)), {}
