"""Fragments of the cart app's UI for other apps, served at /internal/fragments/<type>."""
