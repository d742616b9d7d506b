"""The truncated decoder: draws outside the detector's phase space are redrawn, each event on its own.

A selected full-simulation event is a draw of p(x | z) *given* that it lies in the detector's phase space R (the
selection kept it). If D(z) draws from p(x | z), redrawing until the draw lies in R gives exactly
p(x | z, x ∈ R) = p(x | z) 1[x ∈ R] / P(R | z): the truncated distribution, which is what the selected data are.
Training scores these truncated draws; ``simulate()`` makes them with the event's next keyed noise, so the result
stays a pure function of the event's ids.

:func:`draw_inside` is shared by both: it only needs a function that draws for a subset of rows at attempt a.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported where draws are made: the transform's module stays light without it
    import torch

    from turbosim_hep.simulation.phase_space import PhaseSpaceBounds

__all__ = ("RedrawTally", "draw_inside")


def draw_inside(
    draw: Callable[[torch.Tensor | None, int | torch.Tensor], torch.Tensor],
    n: int,
    bounds: PhaseSpaceBounds,
    *,
    attempts: int,
    all_at_once_below: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draws ``(n, 24)`` [GeV] inside ``bounds``, and the draws each event took ``(n,)`` int64.

    ``draw(rows, a)`` returns the ``a``-th draw (a = 0, 1, ...) of the events ``rows`` (an index tensor; ``None`` for
    all ``n`` events), ``(len(rows), 24)`` [GeV]. Events still outside after ``attempts`` draws keep their last
    draw (their count is ``attempts`` and they fail :func:`~turbosim_hep.simulation.phase_space.inside_phase_space`).
    Draws are written in place: call it without gradients (training finds the noise here, then decodes once).

    ``all_at_once_below``: once fewer events than this are left, all their remaining draws are made in one call,
    ``a`` then a ``(len(rows),)`` tensor (row i's attempt) and ``rows`` repeating events; each event keeps the
    first draw inside, as one attempt at a time. Only for draws that are a pure function of the event and the
    attempt (keyed noise: ``simulate()``); a few events that are hard to bring inside then cost one call instead
    of up to ``attempts`` (0: one attempt at a time, as training draws fresh noise).
    """
    import torch

    from turbosim_hep.simulation.phase_space import inside_phase_space

    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts!r}")
    x = draw(None, 0)
    used = torch.ones(n, dtype=torch.int64, device=x.device)
    rows = torch.nonzero(~inside_phase_space(x, bounds)).flatten()
    for attempt in range(1, attempts):
        if len(rows) == 0:
            break
        if len(rows) < all_at_once_below:
            left = attempts - attempt  # attempt-major: rows at `attempt`, then at `attempt + 1`, ...
            tries = torch.arange(attempt, attempts, device=rows.device).repeat_interleave(len(rows))
            new = draw(rows.repeat(left), tries).reshape(left, len(rows), -1)
            inside = inside_phase_space(new.reshape(left * len(rows), -1), bounds).reshape(left, len(rows))
            taken = torch.where(inside.any(dim=0), inside.int().argmax(dim=0), left - 1)  # first inside, else last
            x[rows] = new[taken, torch.arange(len(rows), device=rows.device)]
            used[rows] += taken + 1
            break
        new = draw(rows, attempt)
        x[rows] = new
        used[rows] += 1
        rows = rows[~inside_phase_space(new, bounds)]
    return x, used


@dataclasses.dataclass
class RedrawTally:
    """How often a decoder truncated to the phase space redrew: events simulated, draws made, events that hit the
    cap (``at_cap``: still redrawing at the last attempt; those outside after it keep their last draw)."""

    events: int = 0
    draws: int = 0
    at_cap: int = 0

    def add(self, used: np.ndarray, cap: int) -> None:
        """Count a batch: ``used`` ``(n,)`` draws each event took, ``cap`` the most it could take."""
        self.events += len(used)
        self.draws += int(used.sum())
        self.at_cap += int((used == cap).sum())

    @property
    def redraw_rate(self) -> float:
        """Redraws per simulated event (0: every first draw was inside)."""
        return (self.draws - self.events) / self.events if self.events else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"events": self.events, "draws": self.draws, "at_cap": self.at_cap, "redraw_rate": self.redraw_rate}
