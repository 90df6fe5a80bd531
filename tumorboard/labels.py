"""Enumeration values as people read them, for documents and pages."""

from __future__ import annotations

# Words that keep their own spelling when an enum value is printed.
_LABEL_WORDS = {"gi": "GI", "ecog": "ECOG", "tnm": "TNM", "ct": "CT", "mri": "MRI", "pet": "PET"}


def label(value: object) -> str:
    """An enum value as people read it: ``systemic_therapy`` -> ``Systemic therapy``."""
    if value is None or value == "":
        return "—"
    words = str(value).replace("_", " ").split()
    if not words:
        return "—"
    words = [_LABEL_WORDS.get(word.lower(), word) for word in words]
    first = words[0]
    if first == first.lower():
        words[0] = first[:1].upper() + first[1:]
    return " ".join(words)
