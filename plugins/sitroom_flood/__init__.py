"""sitroom flood plugin (in progress)."""
