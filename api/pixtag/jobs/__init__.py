"""A job engine in PostgreSQL: claims with SKIP LOCKED, LISTEN/NOTIFY, leases, retries."""
