"""Capture by URL: images fetched from the web by jobs of the "captures" queue."""
