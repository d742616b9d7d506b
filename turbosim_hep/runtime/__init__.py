"""Where and how work runs: the torch device, progress bars, and dask.distributed clients and task loops."""
