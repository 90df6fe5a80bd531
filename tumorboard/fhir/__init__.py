"""FHIR R4 (R4B) records: the case's clinical data as mCODE resources, out (the care plan document)
and in (a referral Bundle posted to POST /cases)."""
