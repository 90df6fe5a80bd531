"""Users, passwords, tokens, sessions and the access rules every domain calls."""
