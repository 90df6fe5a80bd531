"""Benchmarks that report throughput as ratios to a bare endpoint of the same app (docs/benchmarks.md)."""
