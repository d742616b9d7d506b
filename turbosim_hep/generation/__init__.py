"""Event generation: Pythia 8 hard process and shower, parametric detector, selection, chunked pipeline."""
