"""Access control: API tokens and scopes, signed media URLs, share links, CORS."""
