"""The one numba compile policy of the toolkit.

Every kernel is compiled lazily on its first call and cached on disk (``cache=True``; numba writes its cache beside
the module, or under ``NUMBA_CACHE_DIR`` where that is not writable), with NumPy's error model (a division by zero
gives inf or NaN, as the NumPy twin in the tests does, instead of raising). Each kernel has a pure NumPy twin that
the tests compare it with.

Example
-------
>>> from turbosim_hep.physics.jit import jit
>>> @jit
... def twice(a):
...     return 2.0 * a
"""

from __future__ import annotations

import numba

__all__ = ("jit",)

#: Decorator that compiles a kernel with the toolkit's policy.
jit = numba.njit(cache=True, error_model="numpy")
