"""The OTUS baseline (Howard et al. 2021, arXiv:2101.08944) for side-by-side comparison with Turbo-Sim.

- :mod:`~turbosim_hep.baselines.otus.config`: :class:`OtusConfig`;
- :mod:`~turbosim_hep.baselines.otus.model`: the networks (residual MLP, fixed masses) and losses;
- :mod:`~turbosim_hep.baselines.otus.training`: :func:`train_otus`, :func:`train_otus_arrays`;
- :mod:`~turbosim_hep.baselines.otus.checkpoint`: safe model files (:func:`load_otus`);
- :mod:`~turbosim_hep.baselines.otus.transform`: :class:`OtusTransform`, the trained model for simulate/evaluate.

Example
-------
>>> from turbosim_hep.baselines.otus.config import OtusConfig
>>> from turbosim_hep.baselines.otus.training import train_otus
>>> train_otus(["data/"], config=OtusConfig(epochs=300), out="otus.pt")           # doctest: +SKIP
"""
