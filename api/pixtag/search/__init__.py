"""Searching images: the ``q`` language, its terms, and the listing's sort and cursor token."""
