"""Recommendations: each reviewer's proposed plan for a case."""
