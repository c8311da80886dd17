"""``make bench``: the load benchmark of SPEC §13 (see bench/run.py and README.md, "Benchmark")."""
