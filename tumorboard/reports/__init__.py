"""The board quality report: the figures accreditation asks of a tumor board, per board and period."""
