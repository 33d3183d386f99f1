"""What photos already know: EXIF, XMP and IPTC read at ingest (``reading``)."""
