"""The client behind the ``pixtag`` client commands, importable on its own.

``session.PixtagClient`` speaks the HTTP API, ``errors`` turns every failure
into one ``ClientError`` line, ``files`` holds the local file work
(discovery, hashing, saving) and ``importer`` uploads a folder concurrently;
the click commands in ``pixtag.cli`` only wrap them.
"""
