"""Benchmark scripts for rung (not tests): run them and record their output in RESULTS.md."""
