"""Evaluation: distances between generated and true samples, and the Table-1 style report."""
