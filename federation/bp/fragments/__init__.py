"""Fragments of the federation app's UI for other apps, served at /internal/fragments/<type>."""
