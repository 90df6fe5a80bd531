"""Meetings: scheduling, participants, quorum, agendas and the assignment engine."""
