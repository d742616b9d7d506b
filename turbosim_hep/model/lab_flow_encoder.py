"""The assigned flow encoder in laboratory coordinates: q_φ(z, a | x) with each parton measured next to its object.

:class:`~turbosim_hep.model.assigned_flow_encoder.AssignedFlowEncoder` weighs the 48 jet–quark assignments and then
draws the decay chain top-down from rest-frame angles, so the laboratory momentum of an unfolded parton depends on
every chain variable above it; measured on the shipped encoder, the pair classifier (E(x), x) against (z, x) still
found every parton a little off its object (AUC 0.61–0.65 from each one's ΔR and pT ratio alone). This encoder keeps
the assignment head, the trunk and the flow, and changes the 16 coordinates the flow models to those of
:mod:`turbosim_hep.model.lab_chain`: the u quark and the electron as their own pT ratio and η, φ offsets from the
detected object, the d̄ and b directions from their jets with momenta solved from the W⁺ and top masses, the leptonic
top's rapidity and mass, the W⁻ mass and the neutrino's azimuth on the cone they leave. A parton's offset from its
object is then one flow variable, not a correlation of many. Unfolded partons stay on shell with a t t̄ pT of zero
and the four resonance masses drawn from the flow's line shapes.

A draw can ask for the impossible: an electron too hard or too soft, in the leptonic top's rest frame, for the W⁻
and top masses drawn beside it leaves the neutrino no cone (:func:`~turbosim_hep.model.lab_chain.lab_to_partons`).
Such an event is redrawn, as the truncated decoder redraws one outside the detector's phase space: with the noise
of its next key, here a hash of the event's own noise (:func:`~turbosim_hep.simulation.noise.redraw_keys`), so the
draw kept is still a pure function of the event's keyed noise, and the posterior is the flow's, truncated to events
that exist. :meth:`LabFlowEncoder.cone_fraction` gives the share of first draws kept.
"""

from __future__ import annotations

import numpy as np
import torch

from turbosim_hep.events.keys import hash_ids
from turbosim_hep.model.assigned_flow_encoder import AssignedFlowEncoder
from turbosim_hep.model.flow_coordinates import U_MAX, rotate
from turbosim_hep.model.lab_chain import lab_coordinates, lab_from_coordinates, lab_to_partons, partons_to_lab
from turbosim_hep.simulation.noise import event_noise, redraw_keys

__all__ = ("LabFlowEncoder",)


class LabFlowEncoder(AssignedFlowEncoder):
    """q_φ(z|x) as a mixture over the 48 jet–quark assignments of conditional flows over laboratory coordinates
    (see the module docstring). Arguments and interface as
    :class:`~turbosim_hep.model.assigned_flow_encoder.AssignedFlowEncoder`.

    Attributes
    ----------
    redraw_attempts : int
        Draws an event may take to find a neutrino cone; one that never does keeps its last (at the cone's edge).
    """

    redraw_attempts: int = 16

    def _reference(self, partons: torch.Tensor):
        return None, lab_coordinates(partons_to_lab(partons, partons))

    def _coordinates_of(self, z_rot: torch.Tensor, partons: torch.Tensor, reference) -> torch.Tensor:
        return lab_coordinates(partons_to_lab(z_rot, partons))

    def _partons_at(self, u: torch.Tensor, partons: torch.Tensor, reference) -> torch.Tensor:
        return self._draw(u, partons, reference)[0]

    def sample_gev(self, x_gev: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """One posterior draw of partons [GeV] ``(n, 24)`` per detector event ``x_gev`` ``(n, 24)``, from the keyed
        normals ``noise`` ``(n, 17)`` (``None``: fresh ones); an event whose neutrino finds no cone is redrawn with
        the noise of its next key (module docstring)."""
        return self.sample_with_validity(x_gev, noise)[0]

    def sample_with_validity(
        self, x_gev: torch.Tensor, noise: torch.Tensor | None = None, *, attempts: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(:meth:`sample_gev`'s draws ``(n, 24)`` [GeV], ``(n,)`` bool: the draw kept found its cone) with up to
        ``attempts`` draws per event (default :attr:`redraw_attempts`)."""
        if noise is None:
            noise = torch.randn(x_gev.shape[0], self.noise_dim, device=x_gev.device)
        u, partons, reference, phi_e = self._flow_draw(x_gev, noise)
        z, valid = self._draw(u, partons, reference)
        rows = torch.nonzero(~valid).flatten()
        keys = hash_ids(*noise[rows].detach().float().cpu().numpy().view(np.uint32).T) if len(rows) else None
        for attempt in range(1, self.redraw_attempts if attempts is None else attempts):
            if len(rows) == 0:
                break
            fresh = torch.from_numpy(event_noise(redraw_keys(keys, attempt), self.noise_dim)).to(noise.device)
            u, partons, reference, _ = self._flow_draw(x_gev[rows], fresh)
            new, ok = self._draw(u, partons, reference)
            z = z.index_put((rows,), new)  # out of place: gradients reach every draw kept
            valid = valid.index_put((rows,), ok)
            keys = keys[~ok.cpu().numpy()]
            rows = rows[~ok]
        return rotate(z, phi_e.double()).float(), valid

    def _draw(self, u: torch.Tensor, partons: torch.Tensor, reference) -> tuple[torch.Tensor, torch.Tensor]:
        """(rotated partons ``(n, 24)`` [GeV], ``valid`` ``(n,)``) at flow coordinates ``u`` ``(n, 16)``."""
        return lab_to_partons(lab_from_coordinates(u.double().clamp(-U_MAX, U_MAX)), partons)

    @torch.no_grad()
    def cone_fraction(self, x_gev: torch.Tensor, noise: torch.Tensor | None = None) -> float:
        """Share of first draws for detector events ``x_gev`` ``(n, 24)`` [GeV] whose electron leaves the neutrino a
        cone (the others are redrawn by :meth:`sample_gev`)."""
        return float(self.sample_with_validity(x_gev, noise, attempts=1)[1].double().mean())
