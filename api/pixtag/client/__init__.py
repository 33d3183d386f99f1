"""The async client behind the ``pixtag`` client commands, importable on its own.

``session.PixtagClient`` speaks the HTTP API, ``files`` holds the local file
work (discovery, hashing, saving) and ``importer`` uploads a folder
concurrently; the click commands in ``pixtag.cli.client`` only wrap them.
"""
