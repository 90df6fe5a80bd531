"""Letters to the referring clinician: the board's signed outcome, written, kept and sent."""
