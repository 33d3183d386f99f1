"""schemathesis hooks for the suite's run: how to read the listing's NDJSON."""

import json

import schemathesis


@schemathesis.deserializer("application/x-ndjson")
def ndjson(ctx, response):
    """The lines of an NDJSON body, as the array of images the document describes."""
    return [json.loads(line) for line in response.content.splitlines() if line.strip()]
