"""pixtag: a self-hostable, fully asynchronous image-tagging service."""

__version__ = "0.1.0"
