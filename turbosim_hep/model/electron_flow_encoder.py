"""The assigned flow encoder with the electron measured in the laboratory (:mod:`turbosim_hep.model.electron_chain`).

The shipped :class:`~turbosim_hep.model.assigned_flow_encoder.AssignedFlowEncoder` reaches the electron last, through
the W⁻'s rest frame, and unfolds its pT twice as wide as the truth around the detected electron; the laboratory
coordinates of :class:`~turbosim_hep.model.lab_flow_encoder.LabFlowEncoder` fix the electron but take the b̄ and the
ν̄ from the tops' pT balance. This encoder keeps the decay chain for the t t̄ system, both tops and the hadronic side,
and draws the electron as its own pT ratio and η, φ offsets from the detected electron; the W⁻ mass and the ν̄'s
azimuth on its cone in the leptonic top's rest frame give the rest. A draw whose electron leaves the neutrino no cone
is redrawn with the noise of its next key, as :class:`~turbosim_hep.model.lab_flow_encoder.LabFlowEncoder` does
(the draw kept stays a pure function of the event's keyed noise); ``cone_fraction`` gives the share of first draws
kept.
"""

from __future__ import annotations

import torch

from turbosim_hep.model.assigned_flow_encoder import AssignedFlowEncoder
from turbosim_hep.model.electron_chain import (
    electron_chain_coordinates,
    electron_chain_from_coordinates,
    electron_chain_to_partons,
    partons_to_electron_chain,
)
from turbosim_hep.model.lab_flow_encoder import LabFlowEncoder

__all__ = ("ElectronFlowEncoder",)


class ElectronFlowEncoder(LabFlowEncoder):
    """q_φ(z|x) as a mixture over the 48 jet–quark assignments of conditional flows over the decay chain with the
    electron in the laboratory (see the module docstring). Arguments and interface as
    :class:`~turbosim_hep.model.lab_flow_encoder.LabFlowEncoder`."""

    # the reference event's own decay chain (helicity axes), as the assigned encoder's: m_tt and y_tt are shifted by
    # it, and its coordinates are the flow's context. Not the reference measured from itself: its decay angles would
    # all be cos θ = 1 with an azimuth of rounding noise, and the draws would not rotate with the event
    _reference = AssignedFlowEncoder._reference

    def _coordinates_of(self, z_rot: torch.Tensor, partons: torch.Tensor, reference) -> torch.Tensor:
        return electron_chain_coordinates(partons_to_electron_chain(z_rot, partons), reference)

    def _draw(self, u: torch.Tensor, partons: torch.Tensor, reference) -> tuple[torch.Tensor, torch.Tensor]:
        return electron_chain_to_partons(electron_chain_from_coordinates(u, reference), partons)
