"""The one seed rule of every verb: an integer from 0 to :data:`MAX_SEED`.

Seeds become the ``run`` id of generated events (``run`` = seed + 1, a NanoAOD uint32), key the per-event noise of
simulate/evaluate/export and seed torch and numpy in training, so one range serves them all and a seed means the
same thing everywhere: ``-1`` is refused rather than wrapped to 2**64 - 1, and 2**70 is refused rather than
overflowing deep inside a hash.
"""

from __future__ import annotations

import numpy as np

from turbosim_hep.runtime.advice import option

__all__ = ("MAX_SEED", "check_seed")

#: Largest seed: ``run`` = seed + 1 must fit a uint32.
MAX_SEED = 2**32 - 2


def check_seed(seed: object, *, name: str = "seed", flag: str = "--seed") -> int:
    """Return ``seed`` as an ``int`` if it is an integer from 0 to :data:`MAX_SEED`, else raise ``ValueError``.

    ``name`` is the Python keyword and ``flag`` the command-line option the message names
    (:func:`turbosim_hep.runtime.advice.option`).
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= int(seed) <= MAX_SEED:
        where = option(python=name, cli=flag)
        raise ValueError(
            f"{where} must be an integer from 0 to {MAX_SEED} (seeds become uint32 run ids and noise keys), got "
            f"{seed!r}; pick a seed in that range"
        )
    return int(seed)
