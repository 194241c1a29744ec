"""sitroom projects plugin (in progress)."""
