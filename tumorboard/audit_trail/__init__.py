"""Searching the audit trail (admins): the API's GET /audit and the audit page."""
