"""Fragments of the account app's UI for other apps, served at /internal/fragments/<type>."""
