"""The Turbo-Sim model: stochastic networks, critics, the eight loss terms, training and checkpoints.

- :mod:`~turbosim_hep.model.config`: :class:`TurboSimConfig` (weights, presets; no torch import);
- :mod:`~turbosim_hep.model.networks`: :class:`StochasticMLP` (encoder / decoder, explicit-noise forward);
- :mod:`~turbosim_hep.model.critics`, :mod:`~turbosim_hep.model.losses`: critics and the loss terms;
- :mod:`~turbosim_hep.model.turbosim`: :class:`TurboSim` (encoder + decoder + active critics);
- :mod:`~turbosim_hep.model.normalisation`, :mod:`~turbosim_hep.model.data`: per-feature scaling, paired data;
- :mod:`~turbosim_hep.model.training`, :mod:`~turbosim_hep.model.validation`: the loop and the selection metric;
- :mod:`~turbosim_hep.model.checkpoint`: safe checkpoint files and :func:`load_model`.
"""
