"""The HTTP layer every feature's views stand on: the base view, the query-string check and
the streamed document."""
