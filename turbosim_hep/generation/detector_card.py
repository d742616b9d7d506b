"""The detector card: every number of the parametric detector, in one place, with its source.

Sources
-------
[REF]  REFERENCE.md §3, "Delphes 3.4.1 CMS card as used for the OTUS data (no pile-up)".
[CARD] Delphes ``cards/delphes_card_CMS.tcl`` (delphes/delphes on GitHub), for the few values REFERENCE.md §3 does
       not list (low-pT tracking efficiency, muon tracking, calorimeter thresholds and granularity, K0S/Lambda
       energy sharing). Assumed unchanged since 3.4.1.
[OURS] A simplification of this parametric detector, not a card number.

Binned quantities are tuples of ``(upper |eta| edge, value...)`` rows, first matching row wins; beyond the last edge
the object is outside the detector.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ("DetectorCard",)


@dataclass(frozen=True)
class DetectorCard:
    """Frozen detector specification (saved with every generated sample; a resume must use the same card).

    All momenta and energies in GeV. Resolutions are ``(|eta| edge, constant, slope)`` meaning
    sigma(pT)/pT = constant ⊕ slope·pT.
    """

    name: str = "Delphes 3.4.1 CMS, parametric, no pile-up"

    # --- tracking -------------------------------------------------------------------------------------------------
    #: Tracker acceptance |eta| [REF].
    track_eta_max: float = 2.5
    #: No track below this pT [GeV] [CARD].
    track_pt_min: float = 0.1
    #: Charged-hadron efficiency rows (|eta| edge, eff for 0.1 < pT <= 1, eff for pT > 1): >1 GeV [REF], <1 [CARD].
    hadron_track_eff: tuple[tuple[float, float, float], ...] = ((1.5, 0.70, 0.95), (2.5, 0.60, 0.85))
    #: Charged-hadron relative pT resolution rows (|eta| edge, const, slope /GeV) [REF].
    hadron_track_res: tuple[tuple[float, float, float], ...] = ((0.5, 0.06, 1.3e-3), (1.5, 0.10, 1.7e-3),
                                                                 (2.5, 0.25, 3.1e-3))  # fmt: skip
    #: Electron tracking efficiency rows (|eta| edge, 0.1<pT<=1, 1<pT<=100, pT>100): >1 GeV [REF], <1 [CARD].
    electron_track_eff: tuple[tuple[float, float, float, float], ...] = ((1.5, 0.73, 0.95, 0.99),
                                                                         (2.5, 0.50, 0.83, 0.90))  # fmt: skip
    #: Electron relative momentum resolution rows (|eta| edge, const, slope /GeV) [REF].
    electron_track_res: tuple[tuple[float, float, float], ...] = ((0.5, 0.03, 1.3e-3), (1.5, 0.05, 1.7e-3),
                                                                   (2.5, 0.15, 3.1e-3))  # fmt: skip
    #: Muon tracking efficiency rows (|eta| edge, 0.1<pT<=1, pT>1) [CARD].
    muon_track_eff: tuple[tuple[float, float, float], ...] = ((1.5, 0.75, 0.99), (2.5, 0.70, 0.98))
    #: Muon relative pT resolution rows [CARD].
    muon_track_res: tuple[tuple[float, float, float], ...] = ((0.5, 0.01, 1.0e-4), (1.5, 0.015, 1.5e-4),
                                                               (2.5, 0.025, 3.5e-4))  # fmt: skip

    # --- calorimeters ---------------------------------------------------------------------------------------------
    #: ECal sigma(E): |eta|<=1.5: (1 + 0.64 eta^2) * N; 1.5-2.5: (2.16 + 5.6 (|eta|-2)^2) * N,
    #: N = sqrt(a^2 E^2 + b^2 E + c^2) with (a, b, c) below; 2.5-5: sqrt(0.107^2 E^2 + 2.08^2 E) [REF].
    ecal_abc: tuple[float, float, float] = (0.008, 0.11, 0.40)
    ecal_forward_ab: tuple[float, float] = (0.107, 2.08)
    #: HCal sigma(E) = sqrt(a^2 E^2 + b^2 E): rows (|eta| edge, a, b) [REF].
    hcal_res: tuple[tuple[float, float, float], ...] = ((3.0, 0.050, 1.50), (5.0, 0.130, 2.70))
    #: Calorimeter acceptance |eta| [REF].
    calo_eta_max: float = 5.0
    #: Tower thresholds: energy [GeV] and significance E/sigma(E) [CARD].
    ecal_energy_min: float = 0.5
    hcal_energy_min: float = 1.0
    energy_significance_min: float = 2.0
    #: Tower granularity rows (|eta| edge, d_eta, n_phi) [CARD, simplified to uniform bins per region: OURS].
    ecal_towers: tuple[tuple[float, float, int], ...] = ((3.0, 0.0174, 360), (5.0, 0.175, 36))
    hcal_towers: tuple[tuple[float, float, int], ...] = ((1.74, 0.087, 72), (5.0, 0.175, 36))
    #: Share of a K0S or Lambda energy deposited in the ECal (rest in the HCal) [CARD].
    k0s_lambda_ecal_fraction: float = 0.3

    # --- identification and isolation -------------------------------------------------------------------------------
    #: Electron identification rows (|eta| edge, efficiency), pT > electron_pt_min [REF].
    electron_id_eff: tuple[tuple[float, float], ...] = ((1.5, 0.95), (2.5, 0.85))
    electron_pt_min: float = 10.0
    #: Muon identification: efficiency for pT > muon_pt_min, |eta| < muon_eta_max [REF].
    muon_eff: float = 0.95
    muon_pt_min: float = 10.0
    muon_eta_max: float = 2.4
    #: Photon identification rows (|eta| edge, efficiency), pT > photon_pt_min [REF].
    photon_eff: tuple[tuple[float, float], ...] = ((1.5, 0.95), (2.5, 0.85))
    photon_pt_min: float = 10.0
    #: Isolation: cone Delta R, minimum pT [GeV] of the cone's candidates, maximum sum-pT ratio [REF].
    isolation_dr: float = 0.5
    isolation_pt_min: float = 0.5
    electron_iso_max: float = 0.12
    muon_iso_max: float = 0.25
    photon_iso_max: float = 0.12

    # --- jets -----------------------------------------------------------------------------------------------------
    #: Anti-kt distance parameter [REF].
    jet_r: float = 0.5
    #: Minimum jet pT [GeV], applied by the jet finder before the energy scale as in the card [REF, CARD].
    jet_pt_min: float = 20.0
    #: Jet energy scale: four-vector times sqrt((a - b|eta|)^2 / pT + 1) with (a, b) [REF].
    jet_energy_scale_ab: tuple[float, float] = (2.5, 0.15)
    #: Delta R below which a jet is matched to a quark (Jet_partonIdx) [OURS].
    jet_match_dr: float = 0.4

    def __post_init__(self) -> None:
        if not 0.05 <= self.jet_r <= 2.0:
            raise ValueError(f"jet_r must be within 0.05 ... 2.0, got {self.jet_r!r} (the CMS card uses 0.5)")
        if self.jet_pt_min < 0:
            raise ValueError(f"jet_pt_min must be >= 0 GeV, got {self.jet_pt_min!r}")
        for name in ("isolation_dr", "electron_iso_max", "muon_iso_max", "photon_iso_max"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every card value (tuples become lists)."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> DetectorCard:
        """A copy with ``changes`` applied (e.g. ``card.replace(jet_r=0.4)``)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise TypeError(f"DetectorCard has no field(s) {unknown!r}")
        return dataclasses.replace(self, **changes)
