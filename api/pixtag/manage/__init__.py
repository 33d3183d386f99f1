"""Management entry points kept under their historical names."""
