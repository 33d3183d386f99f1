"""All SQL of the service, one module per concern, as named statements with bound parameters.

Rows are rendered to JSON text by PostgreSQL's ``image_json`` (see
``fixtures/``), so a single read and the streamed listing produce the same
document. Query functions take a cursor first and raise domain errors.
"""
