"""Files in and out: ROOT ntuples, OTUS HDF5, Les Houches, filesets, atomic writes, locks, safe model files."""
