"""Jobs that used every attempt and failed (dead letters): admins inspect and retry them."""
