"""Fetching from URLs users give, without letting them reach what they should not."""
