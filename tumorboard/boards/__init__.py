"""Boards: which disease sites a board covers and which disciplines it requires."""
