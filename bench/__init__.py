"""Benchmarks: `make bench`. Every figure is a ratio against a baseline measured
in the same run, on the same data, so a busy or slow machine moves both sides."""
