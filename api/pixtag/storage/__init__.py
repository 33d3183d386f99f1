"""Stored files: immutable keys on a backend (local disk or S3), one ingest path, a sweeper.

``storage_ctx`` opens the configured backend when the application starts,
moves files stored before keys existed (``migrate``), and offers the
``Ingest`` that every upload goes through.
"""
