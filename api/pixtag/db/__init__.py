"""Database access: the embedded server, the fixtures loader, the pool and all SQL."""
