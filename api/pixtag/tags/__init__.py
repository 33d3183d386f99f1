"""Tags as things of their own: counts, autocomplete, rename, aliases and implications."""
