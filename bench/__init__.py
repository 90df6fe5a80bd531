"""Benchmarks that report throughput as ratios to a bare endpoint of the same app (DESIGN.md §6)."""
