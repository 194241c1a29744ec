"""sitroom social plugin (in progress)."""
