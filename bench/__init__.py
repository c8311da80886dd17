"""``make bench``: the load benchmark of SPEC §13 (see bench/run.py and docs/bench.md)."""
