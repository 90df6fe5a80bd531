"""Notifications: the in-app inbox and the emails that point to it."""
