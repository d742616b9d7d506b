"""Applying any trained model, both ways: the transform front end (awkward in, awkward out), the per-event keyed
noise, the one model loader (files and shipped names), file-level simulate with its sidecars, the dask task runner
and the per-worker model cache.

- :mod:`~turbosim_hep.simulation.registry`: model kinds, shipped models, :func:`load_model_file` (the one loader);
- :mod:`~turbosim_hep.simulation.transform`: :class:`EventTransform`, :class:`TurboSimTransform`;
- :mod:`~turbosim_hep.simulation.noise`: noise keyed on the seed and the event ids;
- :mod:`~turbosim_hep.simulation.files`: ``simulate_files`` (ROOT in, ROOT out, sidecars);
- :mod:`~turbosim_hep.simulation.tasks`: one dask task per file;
- :mod:`~turbosim_hep.simulation.worker_cache`: a model loaded once per worker process.
"""
