"""Where and how work runs: the torch device, progress bars, dask.distributed clients and task loops, the one seed
rule, and the wording of advice (command line or Python)."""
