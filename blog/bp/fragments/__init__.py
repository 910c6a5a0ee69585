"""Fragments of the blog's UI for other apps, served at /internal/fragments/<type>."""
