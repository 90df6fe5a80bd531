"""The board's decision on a case, recorded by the chair at the meeting."""
