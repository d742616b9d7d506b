"""Physics constants and event-layout identifiers, in one place with their source.

Masses are in GeV. Where the Turbo-Sim and OTUS codes differ, both values are given and the Turbo-Sim one (PDG 2020)
is the default, as used in arXiv:2112.10629.
"""

from __future__ import annotations

#: W boson mass [GeV], PDG 2020 (Turbo-Sim's value; OTUS used 80.4).
M_W_GEV: float = 80.379
#: Top quark mass [GeV], PDG 2020 (Turbo-Sim's value; OTUS used 172.5).
M_TOP_GEV: float = 172.76
#: Electron mass [GeV], PDG 2020.
M_ELECTRON_GEV: float = 0.51099895e-3
#: b-quark mass [GeV] used by OTUS for its parton-level b and b-bar (REFERENCE.md §5).
M_B_OTUS_GEV: float = 4.7
#: Masses [GeV] Pythia 8 gives the generated b (b-bar) and the light quarks u, d-bar of the hard process (its
#: ParticleData m0; the reference sample's partons have 4.800 and 0.330): the on-shell masses of the unfolded partons.
M_B_PYTHIA_GEV: float = 4.8
M_LIGHT_QUARK_PYTHIA_GEV: float = 0.33
#: Full widths [GeV] of the W and the top: scales of the unfolding's resonance-mass variables (PDG 2020).
GAMMA_W_GEV: float = 2.085
GAMMA_TOP_GEV: float = 1.42

#: Widths [GeV] in the chi^2 jet assignment: leptonic top, hadronic W, hadronic top (REFERENCE.md §6).
CHI2_SIGMA_TOP_LEP_GEV: float = 5.0
CHI2_SIGMA_W_HAD_GEV: float = 10.0
CHI2_SIGMA_TOP_HAD_GEV: float = 15.0

#: PDG ids.
PDG_ELECTRON: int = 11
PDG_NU_E: int = 12
PDG_MUON: int = 13
PDG_PHOTON: int = 22
PDG_B: int = 5
PDG_U: int = 2
PDG_D: int = 1
PDG_TOP: int = 6
PDG_W: int = 24

#: The six parton-level decay products of t tbar -> (b u dbar)(bbar e- nubar_e), in the paper's order.
PARTON_NAMES: tuple[str, ...] = ("electron", "antineutrino", "b", "bbar", "u", "dbar")
PARTON_PDG_IDS: tuple[int, ...] = (11, -12, 5, -5, 2, -1)

#: The six detector-level objects of X, in the paper's order (jets by descending pT).
RECO_NAMES: tuple[str, ...] = ("electron", "met", "jet1", "jet2", "jet3", "jet4")

#: Four-momentum components of every object in the (n, 24) feature arrays.
COMPONENTS: tuple[str, ...] = ("px", "py", "pz", "E")

#: Names of the 24 parton-level (Z) and 24 detector-level (X) features, in column order.
Z_FEATURES: tuple[str, ...] = tuple(f"{p}_{c}" for p in PARTON_NAMES for c in COMPONENTS)
X_FEATURES: tuple[str, ...] = tuple(f"{r}_{c}" for r in RECO_NAMES for c in COMPONENTS)

#: Number of features on each side.
N_FEATURES: int = 24

#: Version of the on-disk and feature layout; checkpoints record it and refuse another.
LAYOUT_VERSION: int = 1

#: Name of the TTree every file of the layout holds.
TREE_NAME: str = "Events"

#: Centre-of-mass energy of the LHC collisions the layout describes [GeV]: no object can carry more energy.
SQRT_S_GEV: float = 13_000.0
#: Outermost |eta| a detector-level object can be measured at: the CMS calorimeters' coverage, 5.0 (Delphes CMS card,
#: ``DetectorCard.calo_eta_max``), plus the anti-kt radius 0.5, since a jet's axis may lie beyond the last tower it
#: holds (the reference sample's jets reach |eta| 5.06; its electrons stop at the tracker's 2.5).
DETECTOR_ABS_ETA_MAX: float = 5.5

#: OTUS acceptance of its reconstruction loss (arXiv:2101.08944, REFERENCE.md §5): electron pT [GeV] and |eta| bounds.
OTUS_ELECTRON_PT_MIN_GEV: float = 10.0
OTUS_ELECTRON_ABS_ETA_MAX: float = 2.5
#: OTUS acceptance for each of the four jets: pT [GeV] and |eta| bounds.
OTUS_JET_PT_MIN_GEV: float = 20.0
OTUS_JET_ABS_ETA_MAX: float = 4.5
