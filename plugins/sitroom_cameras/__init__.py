"""sitroom cameras plugin (in progress)."""
