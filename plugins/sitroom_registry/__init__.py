"""sitroom registry plugin (in progress)."""
