"""turbosim-hep: Turbo-Sim fast simulation (arXiv:2112.10629) for columnar HEP workflows.

The root re-exports the few entry points; everything else lives in its subpackage. Heavy dependencies (torch,
pythia8mc, coffea, mplhep) load only when the entry point that needs them is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "TurboSimTransform": "turbosim_hep.model.transform",
    "TurboSimConfig": "turbosim_hep.model.config",
    "generate": "turbosim_hep.generation.pipeline",
    "train": "turbosim_hep.model.training",
    "evaluate": "turbosim_hep.evaluation.scoring",
    "reconstruct_ttbar": "turbosim_hep.physics.reconstruction",
}

__all__ = ("__version__", *_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'turbosim_hep' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
