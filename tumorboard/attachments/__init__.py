"""Attachments: documents kept with a case (pathology and imaging reports, letters)."""
