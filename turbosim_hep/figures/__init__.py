"""Figures: the toolkit's one plot style (:mod:`~turbosim_hep.figures.style`), shared by every plot it draws."""
