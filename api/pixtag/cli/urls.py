"""Where the client commands look for the server by default, and how ``--url`` says so.

Apart from ``connect`` so that the ``pixtag`` group itself can name it
without loading the HTTP client (``pixtag --help``, ``--version``).
"""

DEFAULT_URL = "http://localhost:8080"
URL_HELP = f"Server base URL (env PIXTAG_URL, default {DEFAULT_URL})."
