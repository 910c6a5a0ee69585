"""Fragments of the events app's UI for other apps, served at /internal/fragments/<type>."""
