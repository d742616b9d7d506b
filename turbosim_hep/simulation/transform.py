"""EventTransform: any trained model (Turbo-Sim, OTUS, lookup) as a function on awkward arrays, in both directions.

``simulate`` turns partons (Z) into detector objects (X) in exactly the generator's record layout (Electron, MET,
Jet with vector behaviour, jets sorted by pT); ``unfold`` goes back. Each model family subclasses it with its
networks (:class:`turbosim_hep.model.transform.TurboSimTransform`, the baselines' transforms). The noise of
each event is a pure function of the model seed and the event's ``(run, luminosityBlock, event)`` (and the
oversampling index), see :mod:`turbosim_hep.simulation.noise`, so the output does not depend on chunking, executor
or retries.

Example
-------
>>> import turbosim_hep as ts
>>> from turbosim_hep.io.root import read_events
>>> tf = ts.TurboSimTransform.load("model.pt")                  # a subclass; any family: registry.load_transform
>>> reco = tf.simulate(read_events("partons.root"))            # ak.Array: run, ..., Electron, MET, Jet
>>> m_jj = (reco.Jet[:, 0] + reco.Jet[:, 1]).mass
"""

from __future__ import annotations

import os
from collections.abc import Callable

import awkward as ak
import numpy as np

from turbosim_hep.constants import N_FEATURES
from turbosim_hep.events.features import (
    features_to_partons,
    features_to_reco,
    partons_to_features,
    reco_as_stored,
    reco_to_features,
)
from turbosim_hep.events.layout import make_events
from turbosim_hep.io.safe_torch import ModelFile
from turbosim_hep.runtime.seeds import check_seed
from turbosim_hep.simulation.event_rows import event_ids, output_rows
from turbosim_hep.simulation.noise import STREAMS, event_noise, keyed_uniform, redraw_keys, row_keys
from turbosim_hep.simulation.redraw import RedrawTally
from turbosim_hep.simulation.registry import open_model

__all__ = ("Affine", "EventTransform", "affine")

#: (scale, shift): y = x * scale + shift, float32 arrays of shape (24,).
Affine = tuple[np.ndarray, np.ndarray]
#: Events left to redraw below which a truncated decoder's remaining draws are made in one call (a network call on
#: fewer rows costs the same; their matmul sums them in another order: equal to float32 rounding, 37 of 200k rows).
_ALL_AT_ONCE_BELOW = 32


class EventTransform:
    """A trained pair of networks applied to feature arrays or awkward events, the noise keyed on event ids.

    Subclasses give :meth:`_network`: the network of a direction ("simulate" = parton -> detector, "unfold" =
    detector -> parton) with the affine maps that take GeV inputs to its inputs and its outputs to GeV. Everything
    else (per-event noise, batching, the awkward front end, oversampling) is shared.

    Arguments
    ---------
    loaded
        The loaded checkpoint (with ``.config.seed`` and ``.device``).
    seed
        Seed of the per-event noise; ``None`` takes the model's training seed.
    batch_size
        Events per network call.
    model_sha256
        SHA-256 of the model file's bytes (``None`` for a model not read from a file).
    """

    #: The directions this transform provides ("simulate": Z -> X, "unfold": X -> Z).
    directions: tuple[str, ...] = ("simulate", "unfold")
    #: The selection-efficiency model ε(z) the model file carries (:class:`~turbosim_hep.simulation.efficiency.
    #: EfficiencyModel`), or ``None``; ``simulate(..., selected_input=False)`` needs it.
    efficiency = None

    def __init__(
        self, loaded, *, seed: int | None = None, batch_size: int = 65_536, model_sha256: str | None = None
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size!r}")
        self.loaded = loaded
        self.seed = check_seed(loaded.config.seed if seed is None else seed)
        self.batch_size = int(batch_size)
        self.model_sha256 = model_sha256
        #: Draws the truncated decoder took so far (:class:`RedrawTally`; all zero for a model without truncation).
        self.redraws = RedrawTally()

    @classmethod
    def _read(cls, model_file: ModelFile, device: str | None):
        """The family's loaded model from a file already read (each family implements it)."""
        raise NotImplementedError

    @classmethod
    def from_model_file(
        cls, model_file: ModelFile, *, device: str | None = None, seed: int | None = None, batch_size: int = 65_536
    ):
        """The transform of a model file already read (what the model registry calls)."""
        from turbosim_hep.simulation.efficiency_file import read_efficiency

        loaded = cls._read(model_file, device)
        transform = cls(loaded, seed=seed, batch_size=batch_size, model_sha256=model_file.sha256)
        transform.efficiency = read_efficiency(model_file)
        return transform

    @classmethod
    def load(
        cls,
        model: str | os.PathLike | ModelFile,
        *,
        device: str | None = None,
        seed: int | None = None,
        batch_size: int = 65_536,
    ):
        """Load a model file of this family, or a shipped model by name (``"ttbar-physics"``), safely: no code in the
        file can run. Any family: :func:`turbosim_hep.simulation.registry.load_transform`."""
        return cls.from_model_file(open_model(model), device=device, seed=seed, batch_size=batch_size)

    @property
    def device(self):
        return self.loaded.device

    @property
    def split_fractions(self) -> tuple[float, float, float] | None:
        """(train, validation, test) fractions the model was trained and selected with (``None``: unknown)."""
        fractions = getattr(getattr(self.loaded, "config", None), "split_fractions", None)
        return None if fractions is None else tuple(float(f) for f in fractions)

    def _network(self, direction: str) -> tuple[object, Affine | None, Affine | None]:
        raise NotImplementedError

    # ---- feature level -------------------------------------------------------------------------------------------

    def _apply(self, direction: str, features: np.ndarray, keys: np.ndarray) -> np.ndarray:
        import torch

        net, affine_in, affine_out = self._network(direction)
        features = np.asarray(features)
        if features.ndim != 2 or features.shape[1] != N_FEATURES:
            raise ValueError(f"features must have shape (n, {N_FEATURES}), got {features.shape!r}")
        out = np.empty((len(features), N_FEATURES), dtype=np.float32)
        bounds = getattr(net, "phase_space", None) if direction == "simulate" else None
        with torch.inference_mode():
            for start in range(0, len(features), self.batch_size):
                sl = slice(start, start + self.batch_size)
                inputs = np.ascontiguousarray(features[sl], dtype=np.float32)  # float32 features: no copy
                if not inputs.flags.writeable:  # torch.from_numpy warns on a read-only array
                    inputs = inputs.copy()
                if affine_in is not None:
                    inputs = inputs * affine_in[0] + affine_in[1]
                inputs = torch.from_numpy(inputs).to(self.device)
                if bounds is None:
                    result = net(inputs, torch.from_numpy(event_noise(keys[sl], net.noise_dim)).to(self.device))
                else:
                    result = self._draw_truncated(net, inputs, keys[sl], bounds)
                result = result.float().cpu().numpy()
                out[sl] = result if affine_out is None else result * affine_out[0] + affine_out[1]
        return out

    def _draw_truncated(self, net, inputs, keys: np.ndarray, bounds):
        """D(z) of a decoder truncated to the phase space [GeV]: an event outside it is redrawn with the noise of its
        next key (:func:`~turbosim_hep.simulation.noise.redraw_keys`); the draws are counted in :attr:`redraws`."""
        import torch

        from turbosim_hep.simulation.redraw import draw_inside

        def draw(rows, attempt):
            k = keys if rows is None else keys[rows.cpu().numpy()]
            a = attempt if isinstance(attempt, int) else attempt.cpu().numpy()
            noise = torch.from_numpy(event_noise(redraw_keys(k, a), net.noise_dim)).to(self.device)
            return net(inputs if rows is None else inputs[rows], noise)

        # the last few events of a batch (a few in 10^5 never get inside: every batch makes all its attempts) cost
        # a network call per attempt whatever their number; drawn all at once: simulate_features 1.07x faster (200k
        # ttbar-ref events, one thread, A/B interleaved in one process: minima 1013 -> 948 ms, medians 1118 -> 1012)
        result, used = draw_inside(
            draw, len(inputs), bounds, attempts=net.redraw_attempts, all_at_once_below=_ALL_AT_ONCE_BELOW
        )
        used = used.cpu().numpy()
        self.redraws.add(used, net.redraw_attempts)
        return result

    def _keys(self, stream: str, n: int, run, luminosity_block, event, sample) -> np.ndarray:
        if event is None:
            raise ValueError("event ids are needed: the noise of each event is keyed on (run, luminosityBlock, event)")
        if stream not in STREAMS:
            raise ValueError(f"stream must be one of {tuple(STREAMS)!r}, got {stream!r}")
        ids = [np.broadcast_to(np.asarray(a), (n,)) for a in (run, luminosity_block, event, sample)]
        return row_keys(self.seed, STREAMS[stream], *ids)

    def simulate_features(
        self, z: np.ndarray, *, run=1, luminosity_block=1, event=None, sample=0, stream: str = "simulate"
    ) -> np.ndarray:
        """x~ = D(z): ``(n, 24)`` parton features [GeV] to ``(n, 24)`` detector features [GeV], float32.

        The output is what ``simulate()`` returns, as features (one code path for both): jets sorted by descending
        pT, MET's fourth component = |p_miss| (:func:`turbosim_hep.events.features.reco_as_stored`).
        ``stream`` picks the noise stream (:data:`turbosim_hep.simulation.noise.STREAMS`): ``"simulate"`` for x̃ = D(z),
        ``"simulate_after_unfold"`` for x̂ = D(E(x)).
        """
        x = self._apply("simulate", z, self._keys(stream, len(z), run, luminosity_block, event, sample))
        return reco_as_stored(x)

    def unfold_features(
        self, x: np.ndarray, *, run=1, luminosity_block=1, event=None, sample=0, stream: str = "unfold"
    ) -> np.ndarray:
        """z~ = E(x): ``(n, 24)`` detector features [GeV] to ``(n, 24)`` parton features [GeV], float32."""
        return self._apply("unfold", x, self._keys(stream, len(x), run, luminosity_block, event, sample))

    def selection_draws(
        self, z: np.ndarray, *, run=1, luminosity_block=1, event=None, sample=0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Whether each event of an *unselected* parton sample passes the selection, and its efficiency.

        ``passSelection = u < ε(z)`` with u uniform in [0, 1), keyed on the seed, the ``"selection"`` stream and the
        event's ids and sample index (:func:`turbosim_hep.simulation.noise.keyed_uniform`): reproducible, and
        independent of the detector response's noise.

        Arguments
        ---------
        z : (n, 24)
            Parton features [GeV].

        Returns
        -------
        passed : (n,) bool
        efficiency : (n,) float32
            ε(z) = P(selected | z).
        """
        eps = self._efficiency_model().efficiency(z)
        return self._draw_selection(eps, run, luminosity_block, event, sample), eps

    def _draw_selection(self, eps: np.ndarray, run, luminosity_block, event, sample) -> np.ndarray:
        return keyed_uniform(self._keys("selection", len(eps), run, luminosity_block, event, sample)) < eps

    def _efficiency_model(self):
        if self.efficiency is None:
            raise ValueError(
                f"the model {self!r} has no selection-efficiency model, so it cannot mark which events of an "
                "unselected sample pass the selection; attach one with 'turbosim train-efficiency NOSELECT_DATA "
                "--model MODEL --out MODEL_WITH_EFFICIENCY.pt' (data from 'turbosim generate --no-select'), or treat "
                "the input as selected (selected_input=True, --selected-input)"
            )
        return self.efficiency

    # ---- awkward level -------------------------------------------------------------------------------------------

    def simulate(
        self,
        partons: ak.Array,
        *,
        n_samples: int = 1,
        first_sample: int = 0,
        run=None,
        luminosity_block=None,
        event=None,
        selected_input: bool = True,
    ):
        """Detector-level events from parton-level ones.

        Arguments
        ---------
        partons
            Events holding a ``Parton`` collection (NanoEvents or plain awkward, with ``run``,
            ``luminosityBlock``, ``event``), or a bare ``Parton`` collection ``var * {pt, eta, phi, mass}`` with
            the ids passed as keywords.
        n_samples
            Detector responses drawn per parton event (oversampling). The output has ``n * n_samples`` events,
            sample-major within each source event, with fields ``sample`` (0..k-1) and ``sourceIndex`` (row of the
            source event in ``partons``).
        first_sample
            Index of the first response drawn: samples ``first_sample ... first_sample + n_samples - 1``. Drawing a
            large oversampling in blocks of samples gives the same events as one call (the noise is keyed on the
            sample index), with bounded memory (:func:`turbosim_hep.simulation.file_job.simulate_file` does so).
        selected_input
            ``True`` (default): the partons passed the selection the model was trained on (every event comes back as
            selected, as from a sample made by ``turbosim generate``). ``False``: they were never selected (a
            MadGraph/LHE sample, ``turbosim generate --no-select``); each output event then gets ``passSelection``
            (bool, drawn with probability ε(z), see :meth:`selection_draws`) and ``efficiency`` (float32 ε(z)), so
            ``events[events.passSelection]`` or the weight ``efficiency`` give the selected yield. Needs a model
            with an efficiency (:attr:`efficiency`; ``turbosim train-efficiency`` attaches one).

        Returns
        -------
        ak.Array of events: ``run``, ``luminosityBlock``, ``event``, ``Electron``, ``MET``, ``Jet`` (+ ``sample``,
        ``sourceIndex`` when ``n_samples > 1``; + ``passSelection``, ``efficiency`` when ``selected_input=False``),
        the layout of :mod:`turbosim_hep.events.layout`.
        """
        efficiency = None if selected_input else self._efficiency_model()
        coll = partons["Parton"] if "Parton" in ak.fields(partons) else partons
        ids = event_ids(partons, run, luminosity_block, event)
        z = partons_to_features(coll)
        reco = self._oversample(z, ids, n_samples, first_sample, self.simulate_features, self._reco_events)
        if selected_input:
            return reco
        source, sample = output_rows(len(z), n_samples, first_sample)
        eps = efficiency.efficiency(z)[source]
        passed = self._draw_selection(
            eps, ids["run"][source], ids["luminosityBlock"][source], ids["event"][source], sample
        )
        reco = ak.with_field(reco, passed, "passSelection")
        return ak.with_field(reco, eps, "efficiency")

    def simulate_as_features(
        self,
        partons: ak.Array,
        *,
        n_samples: int = 1,
        run=None,
        luminosity_block=None,
        event=None,
        selected_input: bool = True,
    ):
        """The ``(n * n_samples, 24)`` X features [GeV] of the events :meth:`simulate` returns, without building them.

        Equal to ``reco_to_features(simulate(partons))`` up to float32 rounding (the same noise, jets sorted, MET's
        fourth component |p_miss|), for consumers that only histogram (the coffea processor): building the awkward
        records and reading them back costs as much as the rest of the front end.

        With ``selected_input=False`` (partons that were never selected; needs a model with an efficiency) only the
        responses that pass the selection come back: the ``(m, 24)`` rows of
        ``reco_to_features(simulate(partons, selected_input=False))`` where ``passSelection`` holds, in their order.
        The selection is drawn first (it is keyed apart from the detector noise), so the network runs on those events
        only.
        """
        efficiency = None if selected_input else self._efficiency_model()
        coll = partons["Parton"] if "Parton" in ak.fields(partons) else partons
        ids = event_ids(partons, run, luminosity_block, event)
        z = partons_to_features(coll)
        if selected_input:
            return self._oversample(z, ids, n_samples, 0, self.simulate_features, lambda x, _ids, _extra: x)
        source, sample = output_rows(len(z), n_samples, 0)
        rep = {k: v[source] for k, v in ids.items()}
        eps = efficiency.efficiency(z)[source]
        passed = self._draw_selection(eps, rep["run"], rep["luminosityBlock"], rep["event"], sample)
        return self.simulate_features(
            z[source[passed]],
            run=rep["run"][passed],
            luminosity_block=rep["luminosityBlock"][passed],
            event=rep["event"][passed],
            sample=sample[passed],
        )

    def unfold(
        self, reco: ak.Array, *, n_samples: int = 1, first_sample: int = 0, run=None, luminosity_block=None, event=None
    ):
        """Parton-level events from detector-level ones, z~ = E(x): the inverse of :meth:`simulate`.

        ``reco``: ``n`` events with ``Electron`` (``var * Momentum4D``, >= 1), ``MET`` (pt, phi, pzMiss [GeV]) and
        ``Jet`` (>= 4), e.g. ``read_events`` of a ``turbosim generate`` file or NanoEvents; a missing field is a
        ``ValueError`` naming it. Ids, ``n_samples`` and ``first_sample`` as in :meth:`simulate`.

        Returns ``n * n_samples`` events: ``run``, ``luminosityBlock``, ``event``, ``Parton`` (``var * Momentum4D``,
        six per event in the generator's order and pdgIds; pt, mass [GeV] float32, the mass signed: negative where
        the network gives E < |p|, never with a flow encoder), + ``sample`` and ``sourceIndex`` when oversampling.
        ``turbosim unfold`` (:func:`turbosim_hep.simulation.unfolding.unfold_file`) writes them to a file.
        """
        ids = event_ids(reco, run, luminosity_block, event)
        x = reco_to_features(reco)
        return self._oversample(x, ids, n_samples, first_sample, self.unfold_features, self._parton_events)

    @staticmethod
    def _reco_events(features: np.ndarray, ids: dict[str, np.ndarray], extra) -> ak.Array:
        return make_events(
            event=ids["event"], run=ids["run"], luminosity_block=ids["luminosityBlock"], extra=extra,
            **features_to_reco(features),
        )  # fmt: skip

    @staticmethod
    def _parton_events(features: np.ndarray, ids: dict[str, np.ndarray], extra) -> ak.Array:
        return make_events(
            event=ids["event"], run=ids["run"], luminosity_block=ids["luminosityBlock"], extra=extra,
            partons=features_to_partons(features),
        )  # fmt: skip

    def _oversample(
        self, features, ids, n_samples: int, first_sample: int, apply: Callable, build: Callable
    ) -> ak.Array:
        if n_samples == 1 and first_sample == 0:  # one response per event: no index arrays on the hot path
            out = apply(features, run=ids["run"], luminosity_block=ids["luminosityBlock"], event=ids["event"])
            return build(out, ids, None)
        source, sample = output_rows(len(features), n_samples, first_sample)
        rep = {k: v[source] for k, v in ids.items()}
        out = apply(
            features[source], run=rep["run"], luminosity_block=rep["luminosityBlock"], event=rep["event"], sample=sample
        )
        return build(out, rep, {"sample": sample.astype(np.int32), "sourceIndex": source.astype(np.int64)})


def affine(scale: np.ndarray, shift: np.ndarray) -> Affine:
    return (np.asarray(scale, dtype=np.float32), np.asarray(shift, dtype=np.float32))
