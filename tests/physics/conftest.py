"""Fixtures for the physics tests: the vector reference and the toy t tbar generator, loaded by path.

pytest runs with ``--import-mode=importlib``, so sibling helper modules are not importable by name; the benchmark
loads them the same way.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

_HERE = Path(__file__).parent


def load_helper(name: str) -> ModuleType:
    """Import ``tests/physics/<name>.py`` under a private module name."""
    spec = importlib.util.spec_from_file_location(f"_turbosim_tests_physics_{name}", _HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def reference() -> ModuleType:
    return load_helper("reference_ttbar")


@pytest.fixture(scope="session")
def toy() -> ModuleType:
    return load_helper("toy_ttbar")
