"""Events: the awkward layouts of partons (Z) and detector objects (X), their (n, 24) features, the validation
policy every reader applies, event ids and keys, and the deterministic train/validation/test split.

- :mod:`~turbosim_hep.events.layout`: the event records (``Parton``, ``Electron``, ``Jet``, ``MET``, ids);
- :mod:`~turbosim_hep.events.features`: ``(n, 24)`` feature arrays to and from the layout;
- :mod:`~turbosim_hep.events.validity`: what counts as a bad event, with messages naming file, branch and entry;
- :mod:`~turbosim_hep.events.ids`: unique ``(run, luminosityBlock, event)`` across inputs;
- :mod:`~turbosim_hep.events.keys`: integer hashing of event ids (noise and split keys);
- :mod:`~turbosim_hep.events.split`: the train / validation / test split by event id.
"""
