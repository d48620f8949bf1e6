"""taxii."""
