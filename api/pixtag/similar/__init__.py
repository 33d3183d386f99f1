"""Similar images: the duplicate ladder (same bytes, same pixels, same picture) and search.

Each stored file is fingerprinted by a job of the ``similar`` queue (queued by
the ingest with the record: uploads, replacements, captures and processing
results alike); ``GET /images/{id}/similar`` asks PostgreSQL for the images on
each rung, the perceptual one through a multi-index hash (fixtures/022_similar.sql).
"""
