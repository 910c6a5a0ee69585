"""Plumbing shared by the six apps: configuration, app factory, database, Redis, CLI."""
