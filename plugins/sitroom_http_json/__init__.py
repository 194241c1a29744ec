"""sitroom http_json plugin (in progress)."""
