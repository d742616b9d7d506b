"""The lookup baseline: the classical parametric fast simulation, learned from paired events in seconds.

- :mod:`~turbosim_hep.baselines.lookup.config`: :class:`LookupConfig` (binning, seed, split);
- :mod:`~turbosim_hep.baselines.lookup.tables`: the response tables, their fit and the vectorised simulation;
- :mod:`~turbosim_hep.baselines.lookup.fit`: fits from files or arrays on the train split;
- :mod:`~turbosim_hep.baselines.lookup.checkpoint`: safe model files (:func:`load_lookup`);
- :mod:`~turbosim_hep.baselines.lookup.transform`: :class:`LookupTransform`, same API as Turbo-Sim's.
"""
