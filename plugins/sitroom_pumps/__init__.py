"""sitroom pumps plugin (in progress)."""
