"""Benchmarks: each module here with a `main()` prints figures; `make bench` runs them all."""
