"""Fragments of the market app's UI for other apps, served at /internal/fragments/<type>."""
