"""Queries behind the account app's pages."""
