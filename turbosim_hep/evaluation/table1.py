"""The Turbo-Sim paper's Table 1 (arXiv:2112.10629): its columns and the published KS distances."""

from __future__ import annotations

__all__ = ("PAPER_TABLE1", "TABLE1_COLUMNS")

#: Table-1 columns: (key, plain label, space, variable). The b is the Z-space b quark (columns 8-11), jet1 the
#: leading X jet; masses are reconstructed from X.
TABLE1_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("b_py", "p_y^b", "Z", "b_py"),
    ("b_pz", "p_z^b", "Z", "b_pz"),
    ("b_E", "E^b", "Z", "b_E"),
    ("jet1_py", "p_y^jet1", "X", "jet1_py"),
    ("jet1_pz", "p_z^jet1", "X", "jet1_pz"),
    ("jet1_E", "E^jet1", "X", "jet1_E"),
    ("m_tt", "m_tt", "X", "m_tt"),
    ("m_w_had", "m_W^had", "X", "m_w_had"),
    ("m_t_lep", "m_t^lep", "X", "m_t_lep"),
    ("m_t_had", "m_t^had", "X", "m_t_had"),
)

#: Published KS distances to the truth (x 1e-2) in the Table-1 column order; None where not published.
PAPER_TABLE1: dict[str, tuple[float | None, ...]] = {
    "Turbo-Sim (arXiv:2112.10629)": (5.28, 7.28, 3.96, 2.89, 10.3, 4.43, 2.97, 7.72, 5.20, 8.52),
    "OTUS (arXiv:2112.10629)": (1.59, 1.23, 2.76, 3.78, 2.39, 5.75, 15.8, 11.7, 14.1, 24.9),
    "OTUS (arXiv:2101.08944)": (None, None, None, 4.59, 0.69, 4.80, 10.3, 10.9, 13.1, 23.5),
}
