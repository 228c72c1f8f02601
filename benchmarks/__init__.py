"""Benchmarks: every speed claim of the course, as ratios measured in one run."""
