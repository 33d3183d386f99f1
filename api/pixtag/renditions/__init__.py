"""Renditions: smaller copies of an image's file (thumbnails, previews), built off the loop."""
