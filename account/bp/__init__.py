"""The account app's blueprints."""
