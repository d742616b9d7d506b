"""Baseline methods re-implemented for side-by-side comparison."""
