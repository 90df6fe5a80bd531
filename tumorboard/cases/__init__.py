"""Cases: submission, visibility, lifecycle and manual moves."""
