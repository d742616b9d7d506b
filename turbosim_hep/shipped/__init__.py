"""Models shipped with the package: ``NAME.pt`` (weights), ``NAME.md`` (model card), ``NAME.json`` (slice check).

Load one by name: ``turbosim simulate --model ttbar-physics`` or
:func:`turbosim_hep.simulation.registry.load_model_file` (``"ttbar-physics"``).
"""
