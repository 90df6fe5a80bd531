"""Tumorboard: multidisciplinary tumor board coordination."""
